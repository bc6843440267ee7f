"""``surveyapp invitations``: invitation codes, letters and posters."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from surveyapp.cli import lookups
from surveyapp.cli.guards import committed, needs_database
from surveyapp.cli.settings import ACTOR, base_url, translations_dir
from surveyapp.extensions import db
from surveyapp.models import Wave
from surveyapp.security import private_file


@click.group("invitations", cls=AppGroup)
def invitations_group() -> None:
    """Invitation codes, letters and posters."""


def _wave_in(wave_id: int, language: str) -> Wave:
    """The wave, if ``language`` is one of its languages."""
    wave = lookups.by_id(Wave, wave_id, "wave")
    if language not in (wave.languages or []):
        raise click.ClickException(f"The wave's languages are {', '.join(wave.languages)}.")
    return wave


def _area_counts(wave: Wave, per_area: tuple[str, ...]) -> dict[int, int]:
    """``("D1=20", "S3=5")`` -> letters per area id of the wave's city."""
    counts = {}
    for spec in per_area:
        code, _, number = spec.partition("=")
        if not number.isdigit():
            raise click.BadParameter(f"{spec!r}: write AREA_CODE=NUMBER.")
        counts[lookups.area(wave.city, code).id] = int(number)
    return counts


def _second_in(wave: Wave, second: str | None) -> str | None:
    """The second language, if it is one of the wave's."""
    if second is not None:
        _wave_in(wave.id, second)
    return second


SECOND_LANGUAGE = click.option(
    "--second-language",
    "second",
    help="A second language printed beside the first on the same page (e.g. nl with fr).",
)


@invitations_group.command("generate")
@click.argument("wave_id", type=int)
@click.option("--area", "per_area", multiple=True, required=True, help="CODE=N, repeatable.")
@click.option("--language", required=True, help="Language of the letters.")
@SECOND_LANGUAGE
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@needs_database
def invitations_generate(
    wave_id: int, per_area: tuple[str, ...], language: str, second: str | None, out: Path
) -> None:
    """Make codes and write letters.pdf + codes.csv into a ZIP (the only copy of the codes)."""
    from surveyapp.console.invitations import letters_download

    wave = _wave_in(wave_id, language)
    second = _second_in(wave, second)
    counts = _area_counts(wave, per_area)

    def make() -> None:
        # The ZIP is written before the commit: codes stored without their only copy
        # would be codes nobody can hand out.
        archive = letters_download(
            db.session,
            wave,
            counts,
            language,
            base_url=base_url(),
            translations=translations_dir(),
            actor=ACTOR,
            limit=1_000_000,
            second_language=second,
        )
        private_file(out)  # the only copy of the codes: 0600 before anything is written
        out.write_bytes(archive)

    committed(make)
    click.echo(
        f"Wrote {sum(counts.values())} letters to {out}. "
        "Keep it safe: it is the only copy of the codes."
    )


@invitations_group.command("follow-up")
@click.argument("wave_id", type=int)
@click.option("--batch", "batch_id", type=int, required=True, help="An earlier panel wave's batch.")
@click.option("--language", required=True, help="Language of the letters.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@needs_database
def invitations_follow_up(wave_id: int, batch_id: int, language: str, out: Path) -> None:
    """Make a panel wave's follow-up letters from an earlier panel wave's batch (ZIP)."""
    from surveyapp.console.panel_letters import follow_up_download

    wave = _wave_in(wave_id, language)

    def make() -> None:
        archive = follow_up_download(
            db.session,
            wave,
            batch_id,
            language,
            base_url=base_url(),
            translations=translations_dir(),
            actor=ACTOR,
            limit=1_000_000,
        )
        private_file(out)  # the only copy of the codes: 0600 before anything is written
        out.write_bytes(archive)

    committed(make)
    click.echo(
        f"Wrote the follow-up letters of batch {batch_id} to {out}. "
        "Keep it safe: it is the only copy of the codes."
    )


@invitations_group.command("remind")
@click.argument("wave_id", type=int)
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--language", required=True, help="Language of the letters.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@needs_database
def invitations_remind(wave_id: int, csv_file: Path, language: str, out: Path) -> None:
    """Reminder letters for the unused codes of a kept CSV (ZIP: PDF + the unused rows)."""
    from surveyapp.console.reminders import Reminders, reminders_download

    wave = _wave_in(wave_id, language)

    def make() -> Reminders:
        made = reminders_download(
            db.session,
            wave,
            csv_file.read_bytes(),
            language,
            base_url=base_url(),
            translations=translations_dir(),
            actor=ACTOR,
            limit=None,
        )
        if made.archive is not None:
            private_file(out)  # holds codes and addresses: 0600 before anything is written
            out.write_bytes(made.archive)
        return made

    made = committed(make)
    for line in made.summary:
        click.echo(line)
    if made.archive is None:
        click.echo("No reminder letters: no row of the file has an unused code of this wave.")
    else:
        click.echo(f"Wrote {len(made.plan.unused)} reminder letters to {out}.")


@invitations_group.command("batches")
@click.argument("wave_id", type=int)
@needs_database
def invitations_batches(wave_id: int) -> None:
    """List the wave's batches of letters, and for a panel wave the batches it can follow up."""
    from surveyapp.console.panel_letters import batches_of, batches_to_follow

    wave = lookups.by_id(Wave, wave_id, "wave")
    rows = batches_of(db.session, wave)
    if not rows:
        click.echo(f"Wave {wave.id} has no batches of letters yet.")
    for row in rows:
        follows = ""
        if row.follows:
            follows = f", follows batch {row.follows.id} (wave {row.follows.wave_id})"
        made_on = row.batch.created_at.date().isoformat()
        click.echo(f"batch {row.batch.id}: {row.batch.letters} letters, {made_on}{follows}")
    if wave.is_panel:
        for row in batches_to_follow(db.session, wave):
            click.echo(
                f"can follow up: batch {row.batch.id} of wave {row.wave.id} "
                f"({row.wave.name}), {row.batch.letters} letters"
            )


@invitations_group.command("poster")
@click.argument("wave_id", type=int)
@click.option("--language", required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--area", "area_code", help="An area's code: a poster with that area's own link.")
@SECOND_LANGUAGE
@needs_database
def invitations_poster(
    wave_id: int, language: str, out: Path, area_code: str | None, second: str | None
) -> None:
    """Write an A4 poster PDF with the wave's open link (or an area's) as a QR code."""
    from surveyapp.console.area_links import area_link, area_poster_pdf
    from surveyapp.console.posters import poster_pdf

    wave = _wave_in(wave_id, language)
    second = _second_in(wave, second)
    if area_code is None:
        pdf = committed(
            lambda: poster_pdf(
                wave, language, base_url(), translations_dir(), second_language=second
            )
        )
    else:
        area_id = lookups.area(wave.city, area_code).id
        link = committed(lambda: area_link(db.session, wave, area_id, base_url()))
        pdf = area_poster_pdf(wave, link, language, translations_dir(), second_language=second)
    out.write_bytes(pdf)
    click.echo(f"Wrote the poster to {out}.")
