"""``surveyapp users invite|reset-password|deactivate|reactivate|set-role``: team management.

The console's team page from the command line, with the same services: each change is
audited with the CLI as actor, and ends the account's sessions where the console's does.
One-time links are printed once, built from ``SURVEYAPP_BASE_URL``.
"""

from __future__ import annotations

from datetime import timedelta

import click

from surveyapp.cli import lookups
from surveyapp.cli.guards import committed, needs_database
from surveyapp.cli.settings import ACTOR, base_url
from surveyapp.cli.users import users_group
from surveyapp.extensions import db
from surveyapp.models import LinkPurpose

ROLES = click.Choice(["admin", "coordinator", "analyst"])


@users_group.command("invite")
@click.option("--email", required=True, help="Address of the colleague to invite.")
@click.option("--city", "city_slug", required=True, help="Slug of the city they join.")
@click.option("--role", required=True, type=ROLES, help="Their role in that city.")
@needs_database
def users_invite(email: str, city_slug: str, role: str) -> None:
    """Print a one-time sign-up link (valid 7 days) for a colleague to join a city."""
    from surveyapp.auth import links

    city = lookups.city(city_slug)
    token = committed(
        lambda: links.invite(db.session, email=email, city=city, role=role, actor=ACTOR)
    )
    days = links.INVITE_VALID.days
    click.echo(
        f"Invitation for {email.strip().lower()} as {role} of {city.name}, valid {days} days:"
    )
    click.echo(links.link_url(base_url(), LinkPurpose.INVITE, token))


@users_group.command("reset-password")
@click.option("--email", required=True, help="Sign-in address of the account.")
@needs_database
def users_reset_password(email: str) -> None:
    """Print a one-time link (valid 24 hours) with which the user sets a new password."""
    from surveyapp.auth import links

    user = lookups.user(email)
    token = committed(lambda: links.reset(db.session, user, actor=ACTOR))
    hours = links.RESET_VALID // timedelta(hours=1)
    click.echo(f"Password link for {user.email}, valid {hours} hours (earlier links stop working):")
    click.echo(links.link_url(base_url(), LinkPurpose.RESET, token))


@users_group.command("deactivate")
@click.option("--email", required=True, help="Sign-in address of the account.")
@click.option("--reactivate", is_flag=True, help="Let the account sign in again instead.")
@needs_database
def users_deactivate(email: str, reactivate: bool) -> None:
    """Deactivate an account: its sessions end, its API tokens stop working."""
    from surveyapp.auth import team

    user = lookups.user(email)
    if reactivate:
        committed(lambda: team.reactivate(db.session, user, actor=ACTOR))
        click.echo(f"{user.email} can sign in again.")
        return
    committed(lambda: team.deactivate(db.session, user, actor=ACTOR))
    click.echo(f"{user.email} is deactivated and signed out everywhere.")


@users_group.command("reactivate")
@click.option("--email", required=True, help="Sign-in address of the account.")
@click.pass_context
def users_reactivate(context: click.Context, email: str) -> None:
    """Let a deactivated account sign in again (as `deactivate --reactivate`)."""
    context.invoke(users_deactivate, email=email, reactivate=True)


@users_group.command("set-role")
@click.option("--email", required=True, help="Sign-in address of the account.")
@click.option("--city", "city_slug", required=True, help="Slug of the city.")
@click.option("--role", required=True, type=ROLES, help="The role in that city.")
@needs_database
def users_set_role(email: str, city_slug: str, role: str) -> None:
    """Give an account a role in a city: a changed role ends its sessions."""
    from surveyapp.auth import team

    user = lookups.user(email)
    city = lookups.city(city_slug)
    committed(lambda: team.set_role(db.session, user, city, role, actor=ACTOR))
    click.echo(f"{user.email} is {role} of {city.name}.")
