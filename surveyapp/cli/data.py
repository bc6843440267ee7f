"""``surveyapp data``: response data for analysis."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from surveyapp.cli import lookups
from surveyapp.cli.guards import needs_database
from surveyapp.cli.settings import ACTOR
from surveyapp.extensions import db
from surveyapp.models import Initiative


@click.group("data", cls=AppGroup)
def data_group() -> None:
    """Export response data for analysis."""


@data_group.command("export")
@click.argument("initiative_id", type=int)
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False))
@needs_database
def data_export(initiative_id: int, out: Path) -> None:
    """Write an initiative's complete responses as CSV (one row per response).

    The file feeds `python -m analysis report OUT --instrument ID@VERSION --out DIR`.
    """
    from surveyapp.exports.initiative_csv import write_initiative_csv

    initiative = lookups.by_id(Initiative, initiative_id, "initiative")
    rows = write_initiative_csv(db.session, initiative, out, actor=ACTOR)
    db.session.commit()
    click.echo(f"Wrote {rows} responses to {out}.")
