"""Checks shared by commands: a migrated database, services' refusals as one clear line."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click
from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError

from surveyapp.extensions import db

T = TypeVar("T")


def _unreachable(error: OperationalError) -> click.ClickException:
    where = db.engine.url.render_as_string(hide_password=True)
    reason = str(error.orig or error).strip().splitlines()[0]
    return click.ClickException(f"Cannot reach the database {where}: {reason}")


def needs_connection(command: Callable[..., Any]) -> Callable[..., Any]:
    """Stop with one line, not a traceback, when the database does not answer."""

    @functools.wraps(command)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            with db.engine.connect():
                pass
        except OperationalError as error:
            raise _unreachable(error) from None
        return command(*args, **kwargs)

    return wrapped


def needs_database(command: Callable[..., Any]) -> Callable[..., Any]:
    """Stop with a clear message, not a traceback, when the database has no schema yet."""

    @functools.wraps(command)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            migrated = inspect(db.engine).has_table("alembic_version")
        except OperationalError as error:
            raise _unreachable(error) from None
        if not migrated:
            raise click.ClickException(
                "The database has no tables yet. Run `surveyapp db upgrade` first "
                f"(database: {db.engine.url.render_as_string(hide_password=True)})."
            )
        return command(*args, **kwargs)

    return wrapped


def committed(action: Callable[[], T]) -> T:
    """Run a service call and commit; a refusal rolls back and becomes the command's error."""
    from surveyapp.console.errors import ConsoleError

    try:
        result = action()
    except ConsoleError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    return result
