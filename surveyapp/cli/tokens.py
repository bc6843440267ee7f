"""``surveyapp tokens``: API tokens from the command line, audited as the CLI."""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import AppGroup

from surveyapp.api.tokens import DEFAULT_DAYS, MAX_DAYS
from surveyapp.cli import lookups
from surveyapp.cli.guards import needs_database
from surveyapp.cli.settings import ACTOR
from surveyapp.extensions import db
from surveyapp.models import ApiToken


@click.group("tokens", cls=AppGroup)
def tokens_group() -> None:
    """API tokens of staff members (read-only API under /api/v1)."""


@tokens_group.command("create")
@click.option("--email", required=True, help="The staff member the token reads as.")
@click.option("--name", required=True, help="Where the token is used, e.g. 'R scripts'.")
@click.option(
    "--days",
    type=click.IntRange(1, MAX_DAYS),
    default=DEFAULT_DAYS,
    show_default=True,
    help=f"Valid for this many days (at most {MAX_DAYS}).",
)
@needs_database
def tokens_create(email: str, name: str, days: int) -> None:
    """Make a token and print it once: only its hash is kept."""
    from surveyapp.api.tokens import TokenError, create_token

    user = lookups.user(email)
    try:
        token, row = create_token(db.session, user, name=name, days=days, actor=ACTOR)
    except TokenError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    until = f"until {row.expires_at:%Y-%m-%d}" if row.expires_at else "until revoked"
    click.echo(f"Token {row.id} ({row.name}) for {user.email}, valid {until}:")
    click.echo(token)
    click.echo("Copy it now: it cannot be shown again.", err=True)


def _state(row: ApiToken, now: datetime) -> str:
    """Active, expired or revoked (with the day)."""
    if row.revoked_at:
        return f"revoked {row.revoked_at:%Y-%m-%d}"
    return "active" if row.is_usable(now) else "expired"


@tokens_group.command("list")
@click.option("--email", required=True)
@needs_database
def tokens_list(email: str) -> None:
    """A staff member's tokens, newest first (never the tokens themselves)."""
    from surveyapp.api.tokens import tokens_of
    from surveyapp.db import utcnow

    now = utcnow()
    for row in tokens_of(db.session, lookups.user(email)):
        expires = f"{row.expires_at:%Y-%m-%d}" if row.expires_at else "-"
        used = f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never"
        click.echo(
            f"{row.id}\t{row.prefix}…\t{row.name}\t{_state(row, now)}\t"
            f"expires {expires}\tlast used {used}"
        )


@tokens_group.command("revoke")
@click.argument("token_id", type=int)
@needs_database
def tokens_revoke(token_id: int) -> None:
    """Revoke token TOKEN_ID (the number `tokens list` shows)."""
    from surveyapp.api.tokens import revoke_token

    row = lookups.by_id(ApiToken, token_id, "token")
    revoke_token(db.session, row, actor=ACTOR)
    db.session.commit()
    click.echo(f"Token {token_id} ({row.name}) of {row.user.email} is revoked.")
