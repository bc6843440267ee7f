"""``surveyapp demo``: demo data to try the platform with."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from surveyapp.cli.guards import needs_database
from surveyapp.cli.settings import base_url, settings
from surveyapp.extensions import db


@click.command("demo")
@click.option("--allow-production", is_flag=True, help="Create demo data in production too.")
@with_appcontext
@needs_database
def demo(allow_production: bool) -> None:
    """Create demo data once (a city, an initiative, two waves, synthetic responses)."""
    from surveyapp.demo import DEMO_EMAIL, DEMO_PASSWORD, DemoError, create_demo

    if settings()["ENV_NAME"] == "production" and not allow_production:
        raise click.ClickException(
            "The demo creates a staff account with a published password; it is refused "
            "in production. Set SURVEYAPP_ENV=development or pass --allow-production."
        )
    try:
        info = create_demo(db.session)
    except DemoError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    base = base_url().rstrip("/")
    verb = "Created" if info.created else "Kept the existing"
    click.echo(f"{verb} demo city {info.city.name!r} with {info.responses} responses.")
    if info.open_wave is not None and info.open_wave.open_token:
        click.echo(f"Resident link:  {base}/w/{info.open_wave.open_token}")
    click.echo(f"Staff console:  {base}/staff/  (sign in as {DEMO_EMAIL} / {DEMO_PASSWORD})")
