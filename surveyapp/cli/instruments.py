"""``surveyapp instruments``: check, publish and export questionnaire definitions.

Checking and exporting read files only and need no secret (see
:func:`surveyapp.cli.settings.settings`); publishing writes to the database.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from surveyapp.cli import arguments
from surveyapp.cli.guards import needs_database
from surveyapp.cli.settings import instruments_dir, translations_dir
from surveyapp.extensions import db
from surveyapp.instruments import Instrument


@click.group("instruments", cls=AppGroup)
def instruments_group() -> None:
    """Validate and publish questionnaire definitions."""


def _files(paths: tuple[Path, ...]) -> list[Path]:
    """The files named, those inside folders named, or the whole instruments folder."""
    from surveyapp.instruments.registry import instrument_files

    if not paths:
        files = instrument_files(instruments_dir())
    else:
        files = []
        for path in paths:
            files.extend(instrument_files(path) if path.is_dir() else [path])
    if not files:
        raise click.ClickException("No instrument files found.")
    return files


@instruments_group.command("validate", with_appcontext=False)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--translations",
    "check_translations",
    is_flag=True,
    help="Also report texts missing from any language's catalog.",
)
def instruments_validate(paths: tuple[Path, ...], check_translations: bool) -> None:
    """Check instrument files (default: every file in the instruments folder)."""
    from surveyapp.i18n.instrument import translation_problems
    from surveyapp.instruments import load_instrument, validate_files

    files = _files(paths)
    problems = validate_files(files)
    if check_translations and not problems:
        problems = [
            problem
            for path in files
            for problem in translation_problems(path, load_instrument(path), translations_dir())
        ]
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) in {len(files)} file(s).")
    click.echo(f"{len(files)} file(s) valid.")


@instruments_group.command("load")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@needs_database
def instruments_load(paths: tuple[Path, ...]) -> None:
    """Publish instrument files into the database (default: the instruments folder).

    Unchanged versions are skipped; a changed file under a published version is refused.
    """
    from surveyapp.instruments import InstrumentError, load_instrument
    from surveyapp.instruments.registry import InstrumentChangedError, publish

    for path in _files(paths):
        try:
            instrument = load_instrument(path)
            _row, created = publish(db.session, instrument, file=str(path))
        except InstrumentError as error:
            db.session.rollback()
            for problem in error.problems:
                click.echo(str(problem), err=True)
            raise click.ClickException(f"{path} is not a valid instrument.") from None
        except InstrumentChangedError as error:
            db.session.rollback()
            raise click.ClickException(str(error)) from None
        state = "published" if created else "already published, unchanged"
        click.echo(f"{instrument.id} {instrument.version}: {state}.")
    db.session.commit()


def _instrument(instrument_id: str, version: str) -> Instrument:
    """An instrument version from the instruments folder (published versions never change)."""
    from surveyapp.instruments import InstrumentError, load_instrument
    from surveyapp.instruments.registry import version_file

    path = version_file(instruments_dir(), instrument_id, version)
    if not path.is_file():
        raise click.ClickException(f"There is no instrument {instrument_id} {version} ({path}).")
    try:
        return load_instrument(path)
    except InstrumentError as error:
        raise click.ClickException(f"{path} is not valid: {error}") from None


@instruments_group.command("export-xlsform", with_appcontext=False)
@click.argument("instrument_id")
@click.argument("version")
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--languages", help="Comma-separated language codes (default: all).")
@click.option("--modules", help="Comma-separated optional modules (default: all).")
def instruments_export_xlsform(
    instrument_id: str, version: str, out: Path, languages: str | None, modules: str | None
) -> None:
    """Write the questionnaire as an XLSForm for ODK Collect or KoboToolbox."""
    from surveyapp.instruments.xlsform import export_xlsform

    instrument = _instrument(instrument_id, version)
    codes = arguments.language_codes(languages, translations_dir())
    try:
        export_xlsform(instrument, codes, translations_dir(), out, arguments.modules(modules))
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Wrote {out}.")


@instruments_group.command("export-pdf", with_appcontext=False)
@click.argument("instrument_id")
@click.argument("version")
@click.argument("language")
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--modules", help="Comma-separated optional modules (default: all).")
def instruments_export_pdf(
    instrument_id: str, version: str, language: str, out: Path, modules: str | None
) -> None:
    """Write a printable questionnaire (A4 PDF) in LANGUAGE, for paper answers and data entry."""
    from surveyapp.i18n import catalogs
    from surveyapp.instruments.paper import render_paper_pdf

    instrument = _instrument(instrument_id, version)
    known = catalogs.languages(translations_dir())
    if language not in known:
        raise click.ClickException(f"Unknown language {language!r}; use one of {', '.join(known)}.")
    try:
        pdf = render_paper_pdf(
            instrument, known[language], translations_dir(), arguments.modules(modules)
        )
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    out.write_bytes(pdf)
    click.echo(f"Wrote {out} ({len(pdf) // 1024} KiB).")
