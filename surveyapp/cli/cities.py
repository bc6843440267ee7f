"""``surveyapp cities``: cities using the platform."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from surveyapp.cli import arguments
from surveyapp.cli.guards import committed, needs_database
from surveyapp.cli.settings import ACTOR
from surveyapp.extensions import db


@click.group("cities", cls=AppGroup)
def cities_group() -> None:
    """Cities using the platform."""


@cities_group.command("create")
@click.option("--slug", required=True, help="Short name used in commands, e.g. ghent.")
@click.option("--name", required=True)
@click.option("--languages", default="en", show_default=True, help="Comma-separated.")
@click.option("--contact", help="Privacy contact shown to residents (e-mail or address).")
@needs_database
def cities_create(slug: str, name: str, languages: str, contact: str | None) -> None:
    """Create a city."""
    from surveyapp.console.cities import create_city

    committed(
        lambda: create_city(
            db.session,
            slug=slug,
            name=name,
            languages=arguments.csv_list(languages),
            privacy_contact=contact,
            actor=ACTOR,
        )
    )
    click.echo(f"Created city {name} ({slug}).")
