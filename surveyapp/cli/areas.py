"""``surveyapp areas``: a city's areas and their population margins."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from surveyapp.cli import lookups
from surveyapp.cli.guards import committed, needs_database
from surveyapp.cli.settings import ACTOR
from surveyapp.extensions import db


@click.group("areas", cls=AppGroup)
def areas_group() -> None:
    """A city's areas and their population margins."""


@areas_group.command("list")
@click.argument("city_slug")
@needs_database
def areas_list(city_slug: str) -> None:
    """List the city's areas with their population totals."""
    for area in lookups.city(city_slug).areas:
        total = sum(m.population for m in area.margins)
        click.echo(f"{area.id}\t{area.code}\t{area.name}\t{total or '-'}")


@areas_group.command("add")
@click.argument("city_slug")
@click.argument("code")
@click.argument("name")
@needs_database
def areas_add(city_slug: str, code: str, name: str) -> None:
    """Add an area to a city."""
    from surveyapp.console.areas import save_area

    city = lookups.city(city_slug)
    area = committed(lambda: save_area(db.session, city, code=code, name=name, actor=ACTOR))
    click.echo(f"Added area {area.code} ({area.name}), id {area.id}.")


@areas_group.command("rename")
@click.argument("city_slug")
@click.argument("code")
@click.option("--new-code")
@click.option("--name")
@needs_database
def areas_rename(city_slug: str, code: str, new_code: str | None, name: str | None) -> None:
    """Change an area's code or name."""
    from surveyapp.console.areas import save_area

    city = lookups.city(city_slug)
    area = lookups.area(city, code)
    committed(
        lambda: save_area(
            db.session,
            city,
            code=new_code or area.code,
            name=name or area.name,
            actor=ACTOR,
            area=area,
        )
    )
    click.echo(f"Area {area.id} is now {area.code} ({area.name}).")


@areas_group.command("margins")
@click.argument("city_slug")
@click.argument("code")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@needs_database
def areas_margins(city_slug: str, code: str, csv_file: Path) -> None:
    """Replace an area's age band x gender population counts from a CSV file."""
    from surveyapp.console.areas import replace_margins
    from surveyapp.console.margin_codes import margin_codes
    from surveyapp.console.margins import parse_margins

    area = lookups.area(lookups.city(city_slug), code)
    rows, problems = parse_margins(csv_file.read_bytes(), margin_codes(db.session, area))
    if problems:
        for problem in problems:
            click.echo(f"{csv_file}: {problem}", err=True)
        raise click.ClickException(f"{len(problems)} problem(s); nothing was saved.")
    committed(lambda: replace_margins(db.session, area, rows, actor=ACTOR))
    click.echo(f"Saved {len(rows)} margin rows for {area.name}.")
