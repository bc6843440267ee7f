"""`surveyapp tokens create|list|revoke`: API tokens from the command line, audited as the CLI."""

from __future__ import annotations

import click
from sqlalchemy import select

from surveyapp.extensions import db

ACTOR = "surveyapp cli"


def _user(email: str):
    from surveyapp.models import User

    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"There is no account for {email}.")
    return user


def register(main: click.Group, needs_database) -> None:
    """Add the ``tokens`` command group to the ``surveyapp`` command."""

    @main.group("tokens")
    def tokens() -> None:
        """API tokens of staff members (read-only API under /api/v1)."""

    @tokens.command("create")
    @click.option("--email", required=True, help="The staff member the token reads as.")
    @click.option("--name", required=True, help="Where the token is used, e.g. 'R scripts'.")
    @click.option("--days", type=int, help="Valid for this many days (default: until revoked).")
    @needs_database
    def tokens_create(email: str, name: str, days: int | None) -> None:
        """Make a token and print it once: only its hash is kept."""
        from surveyapp.api.tokens import TokenError, create_token

        user = _user(email)
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

    @tokens.command("list")
    @click.option("--email", required=True)
    @needs_database
    def tokens_list(email: str) -> None:
        """A staff member's tokens, newest first (never the tokens themselves)."""
        from surveyapp.api.tokens import tokens_of
        from surveyapp.db import utcnow

        now = utcnow()
        for row in tokens_of(db.session, _user(email)):
            if row.revoked_at:
                state = f"revoked {row.revoked_at:%Y-%m-%d}"
            elif not row.is_usable(now):
                state = "expired"
            else:
                state = "active"
            expires = f"{row.expires_at:%Y-%m-%d}" if row.expires_at else "-"
            used = f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never"
            click.echo(
                f"{row.id}\t{row.prefix}…\t{row.name}\t{state}\texpires {expires}\tlast used {used}"
            )

    @tokens.command("revoke")
    @click.argument("token_id", type=int)
    @needs_database
    def tokens_revoke(token_id: int) -> None:
        """Revoke token TOKEN_ID (the number `tokens list` shows)."""
        from surveyapp.api.tokens import revoke_token
        from surveyapp.models import ApiToken

        row = db.session.get(ApiToken, token_id)
        if row is None:
            raise click.ClickException(f"There is no token {token_id}.")
        revoke_token(db.session, row, actor=ACTOR)
        db.session.commit()
        click.echo(f"Token {token_id} ({row.name}) of {row.user.email} is revoked.")
