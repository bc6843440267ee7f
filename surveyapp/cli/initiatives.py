"""``surveyapp initiatives``: initiatives on the prevention pyramid."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from surveyapp.cli import arguments, lookups
from surveyapp.cli.guards import committed, needs_database
from surveyapp.cli.settings import ACTOR
from surveyapp.extensions import db


@click.group("initiatives", cls=AppGroup)
def initiatives_group() -> None:
    """Initiatives on the prevention pyramid."""


@initiatives_group.command("list")
@click.argument("city_slug")
@needs_database
def initiatives_list(city_slug: str) -> None:
    """List a city's initiatives by pyramid level."""
    from surveyapp.console.queries import city_initiatives

    for initiative, waves in city_initiatives(db.session, lookups.city(city_slug).id):
        click.echo(
            f"{initiative.id}\tlevel {initiative.pyramid_level}\t{initiative.name}\t"
            + ", ".join(f"{w.wave.id}:{w.wave.name}({w.wave.status})" for w in waves)
        )


@initiatives_group.command("add")
@click.argument("city_slug")
@click.option("--name", required=True)
@click.option("--level", type=click.IntRange(0, 4), required=True, help="Pyramid level.")
@click.option("--treated", required=True, help="Comma-separated area codes.")
@click.option("--comparison", default="", help="Comma-separated area codes.")
@click.option("--constructs", default="", help="Comma-separated construct ids.")
@click.option("--start-date")
@click.option("--description", default="")
@click.option(
    "--target-change",
    type=click.FloatRange(0, 100, min_open=True),
    help="Smallest change (0-100 index points) the design should be able to show.",
)
@needs_database
def initiatives_add(
    city_slug: str,
    name: str,
    level: int,
    treated: str,
    comparison: str,
    constructs: str,
    start_date: str | None,
    description: str,
    target_change: float | None,
) -> None:
    """Register an initiative with its treated and comparison areas."""
    from surveyapp.console.initiatives import save_initiative

    city = lookups.city(city_slug)
    start = arguments.day(start_date)
    treated_ids = [lookups.area(city, c).id for c in arguments.csv_list(treated)]
    comparison_ids = [lookups.area(city, c).id for c in arguments.csv_list(comparison)]
    initiative = committed(
        lambda: save_initiative(
            db.session,
            city,
            name=name,
            description=description,
            pyramid_level=level,
            target_constructs=arguments.csv_list(constructs),
            treated=treated_ids,
            comparison=comparison_ids,
            start_date=start.date() if start else None,
            actor=ACTOR,
            target_change=target_change,
        )
    )
    click.echo(f"Registered initiative {initiative.id}: {initiative.name}.")
