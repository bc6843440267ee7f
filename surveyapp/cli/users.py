"""``surveyapp users``: staff accounts."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from surveyapp.cli import lookups
from surveyapp.cli.guards import needs_database
from surveyapp.cli.settings import ACTOR
from surveyapp.extensions import db


@click.group("users", cls=AppGroup)
def users_group() -> None:
    """Manage staff accounts."""


@users_group.command("create")
@click.option("--email", required=True, help="Sign-in e-mail address.")
@click.option("--name", "display_name", help="Name shown in the console and audit log.")
@click.option("--city", "city_slug", help="Slug of the city the user works for.")
@click.option(
    "--role",
    type=click.Choice(["admin", "coordinator", "analyst"]),
    help="Role in that city.",
)
@click.password_option(
    "--password", envvar="SURVEYAPP_NEW_USER_PASSWORD", help="Asked for when not given."
)
@needs_database
def users_create(
    email: str, display_name: str | None, city_slug: str | None, role: str | None, password: str
) -> None:
    """Create a staff account, optionally with a role in one city."""
    from surveyapp.auth.services import AccountError, create_staff_account

    city = lookups.city(city_slug) if city_slug else None
    try:
        user = create_staff_account(
            db.session,
            email=email,
            password=password,
            display_name=display_name,
            city=city,
            role=role,
            actor=ACTOR,
        )
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    where = f" as {role} of {city.name}" if city else ""
    click.echo(f"Created {user.email}{where}.")


@users_group.command("reset-totp")
@click.option("--email", required=True, help="Sign-in e-mail address of the account.")
@needs_database
def users_reset_totp(email: str) -> None:
    """Remove a staff member's second factor (a lost phone) and end their sessions.

    For when no other admin can reset it in the console. An admin sets up a new one at
    the next sign-in.
    """
    from surveyapp.auth.second_factor.services import reset
    from surveyapp.auth.services import user_by_email

    user = user_by_email(db.session, email)
    if user is None:
        raise click.ClickException(f"There is no account for {email.strip().lower()}.")
    had_factor = reset(db.session, user, actor=ACTOR)
    db.session.commit()
    if had_factor:
        click.echo(f"Second factor of {user.email} removed; their sessions are ended.")
    else:
        click.echo(f"{user.email} had no second factor; their sessions are ended.")
