"""``surveyapp responses``: answers that came on paper or from an offline app."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from surveyapp.cli import lookups
from surveyapp.cli.guards import needs_database
from surveyapp.extensions import db
from surveyapp.models import Wave


@click.group("responses", cls=AppGroup)
def responses_group() -> None:
    """Answers from paper questionnaires and offline apps."""


@responses_group.command("import")
@click.argument("wave_id", type=int)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--area", "area_code", help="Area code for rows that carry no area or code.")
@needs_database
def responses_import(wave_id: int, file: Path, area_code: str | None) -> None:
    """Import an ODK Central or KoboToolbox export (CSV or XLSX) of our XLSForm.

    Prints ``imported N, refused M`` and one line per refused row; importing the same file
    again stores nothing twice.
    """
    from surveyapp.offline.importing import WaveNotReady, import_export, summary_lines
    from surveyapp.offline.reading import UnreadableFile
    from surveyapp.offline.submissions import NotThisQuestionnaire

    wave = lookups.by_id(Wave, wave_id, "wave")
    area = lookups.area(wave.city, area_code) if area_code else None
    try:
        data = file.read_bytes()
    except OSError as error:
        raise click.ClickException(f"{file}: cannot be read ({error.strerror}).") from None
    try:
        report = import_export(db.session, wave, data, file.name, area=area)
    except (UnreadableFile, NotThisQuestionnaire, WaveNotReady) as error:
        db.session.rollback()
        raise click.ClickException(f"{file}: {error}.") from None
    db.session.commit()
    for line in summary_lines(report):
        click.echo(line)
