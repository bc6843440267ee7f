"""Objects named on the command line: cities by slug, areas by code, the rest by id."""

from __future__ import annotations

from typing import Any, TypeVar

import click

from surveyapp.auth.services import user_by_email
from surveyapp.console.queries import city_by_slug
from surveyapp.extensions import db
from surveyapp.models import Area, City, User

M = TypeVar("M")


def city(slug: str) -> City:
    """The city with this slug, or the command's error."""
    found = city_by_slug(db.session, slug)
    if found is None:
        raise click.ClickException(f"There is no city with the slug {slug!r}.")
    return found


def area(of_city: City, code: str) -> Area:
    """The city's area with this code (in any case), or the command's error."""
    for candidate in of_city.areas:
        if candidate.code.lower() == code.lower():
            return candidate
    raise click.ClickException(f"{of_city.name} has no area with the code {code!r}.")


def by_id(model: type[M], object_id: int, label: str) -> M:
    """The ``model`` row with this id, or "There is no LABEL ID"."""
    found: Any = db.session.get(model, object_id)
    if found is None:
        raise click.ClickException(f"There is no {label} {object_id}.")
    return found


def user(email: str) -> User:
    """The staff account with this e-mail address, or the command's error."""
    found = user_by_email(db.session, email)
    if found is None:
        raise click.ClickException(f"There is no account for {email}.")
    return found
