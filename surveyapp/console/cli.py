"""The console's actions from the command line, for scripting: `surveyapp cities|areas|...`.

Each command calls the same functions as the console pages and is audited as
"surveyapp cli". Cities are named by slug, areas by code within their city, other objects
by the id the console shows.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import click
from flask import current_app
from sqlalchemy import select

from surveyapp.db import writing
from surveyapp.extensions import db

ACTOR = "surveyapp cli"


def _translations() -> Path:
    return Path(current_app.config["BABEL_TRANSLATION_DIRECTORIES"])


def _city(slug: str):
    from surveyapp.models import City

    city = db.session.scalar(select(City).where(City.slug == slug))
    if city is None:
        raise click.ClickException(f"There is no city with the slug {slug!r}.")
    return city


def _area(city, code: str):
    for area in city.areas:
        if area.code.lower() == code.lower():
            return area
    raise click.ClickException(f"{city.name} has no area with the code {code!r}.")


def _get(model: Any, object_id: int, label: str):
    found = db.session.get(model, object_id)
    if found is None:
        raise click.ClickException(f"There is no {label} {object_id}.")
    return found


def _commit_or_fail(action) -> Any:
    from surveyapp.console.errors import ConsoleError
    from surveyapp.console.waves import WaveError

    try:
        result = action()
    except (ConsoleError, WaveError) as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    return result


def _csv_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _day(value: str | None, end: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2027-03-01.") from None
    return datetime.combine(day, time.max if end else time.min, tzinfo=UTC)


def register(main: click.Group, needs_database) -> None:
    """Add the console command groups to the ``surveyapp`` command."""

    # -- cities ------------------------------------------------------------------------------
    @main.group("cities")
    def cities() -> None:
        """Cities using the platform."""

    @cities.command("create")
    @click.option("--slug", required=True, help="Short name used in commands, e.g. ghent.")
    @click.option("--name", required=True)
    @click.option("--languages", default="en", show_default=True, help="Comma-separated.")
    @click.option("--contact", help="Privacy contact shown to residents (e-mail or address).")
    @needs_database
    def cities_create(slug: str, name: str, languages: str, contact: str | None) -> None:
        """Create a city."""
        from surveyapp.audit import record as audit
        from surveyapp.models import City

        if db.session.scalar(select(City).where(City.slug == slug)) is not None:
            raise click.ClickException(f"A city with the slug {slug!r} exists already.")
        codes = _csv_list(languages) or ["en"]
        city = City(
            slug=slug,
            name=name,
            languages=codes,
            default_language=codes[0],
            privacy_contact=contact,
        )
        db.session.add(city)
        db.session.flush()
        audit(db.session, ACTOR, city.id, "city_created", "city", city.id)
        db.session.commit()
        click.echo(f"Created city {name} ({slug}).")

    # -- areas -------------------------------------------------------------------------------
    @main.group("areas")
    def areas() -> None:
        """A city's areas and their population margins."""

    @areas.command("list")
    @click.argument("city_slug")
    @needs_database
    def areas_list(city_slug: str) -> None:
        """List the city's areas with their population totals."""
        for area in _city(city_slug).areas:
            total = sum(m.population for m in area.margins)
            click.echo(f"{area.id}\t{area.code}\t{area.name}\t{total or '-'}")

    @areas.command("add")
    @click.argument("city_slug")
    @click.argument("code")
    @click.argument("name")
    @needs_database
    def areas_add(city_slug: str, code: str, name: str) -> None:
        """Add an area to a city."""
        from surveyapp.console.areas import save_area

        city = _city(city_slug)
        area = _commit_or_fail(
            lambda: save_area(db.session, city, code=code, name=name, actor=ACTOR)
        )
        click.echo(f"Added area {area.code} ({area.name}), id {area.id}.")

    @areas.command("rename")
    @click.argument("city_slug")
    @click.argument("code")
    @click.option("--new-code")
    @click.option("--name")
    @needs_database
    def areas_rename(city_slug: str, code: str, new_code: str | None, name: str | None) -> None:
        """Change an area's code or name."""
        from surveyapp.console.areas import save_area

        city = _city(city_slug)
        area = _area(city, code)
        _commit_or_fail(
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

    @areas.command("margins")
    @click.argument("city_slug")
    @click.argument("code")
    @click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @needs_database
    def areas_margins(city_slug: str, code: str, csv_file: Path) -> None:
        """Replace an area's age band x gender population counts from a CSV file."""
        from surveyapp.console.areas import replace_margins
        from surveyapp.console.margins import parse_margins

        area = _area(_city(city_slug), code)
        rows, problems = parse_margins(csv_file.read_bytes())
        if problems:
            for problem in problems:
                click.echo(f"{csv_file}: {problem}", err=True)
            raise click.ClickException(f"{len(problems)} problem(s); nothing was saved.")
        _commit_or_fail(lambda: replace_margins(db.session, area, rows, actor=ACTOR))
        click.echo(f"Saved {len(rows)} margin rows for {area.name}.")

    # -- initiatives -------------------------------------------------------------------------
    @main.group("initiatives")
    def initiatives() -> None:
        """Initiatives on the prevention pyramid."""

    @initiatives.command("list")
    @click.argument("city_slug")
    @needs_database
    def initiatives_list(city_slug: str) -> None:
        """List a city's initiatives by pyramid level."""
        from surveyapp.console.queries import city_initiatives

        for initiative, waves in city_initiatives(db.session, _city(city_slug).id):
            click.echo(
                f"{initiative.id}\tlevel {initiative.pyramid_level}\t{initiative.name}\t"
                + ", ".join(f"{w.wave.id}:{w.wave.name}({w.wave.status})" for w in waves)
            )

    @initiatives.command("add")
    @click.argument("city_slug")
    @click.option("--name", required=True)
    @click.option("--level", type=click.IntRange(0, 4), required=True, help="Pyramid level.")
    @click.option("--treated", required=True, help="Comma-separated area codes.")
    @click.option("--comparison", default="", help="Comma-separated area codes.")
    @click.option("--constructs", default="", help="Comma-separated construct ids.")
    @click.option("--start-date")
    @click.option("--description", default="")
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
    ) -> None:
        """Register an initiative with its treated and comparison areas."""
        from surveyapp.console.initiatives import save_initiative

        city = _city(city_slug)
        start = _day(start_date).date() if start_date else None
        initiative = _commit_or_fail(
            lambda: save_initiative(
                db.session,
                city,
                name=name,
                description=description,
                pyramid_level=level,
                target_constructs=_csv_list(constructs),
                treated=[_area(city, c).id for c in _csv_list(treated)],
                comparison=[_area(city, c).id for c in _csv_list(comparison)],
                start_date=start,
                actor=ACTOR,
            )
        )
        click.echo(f"Registered initiative {initiative.id}: {initiative.name}.")

    # -- waves (open and close live in surveyapp.cli) ----------------------------------------
    waves = main.commands["waves"]

    @waves.command("create")
    @click.argument("initiative_id", type=int)
    @click.option("--name", required=True)
    @click.option("--instrument", "instrument_ref", default="social-cohesion-safety@1.0.0")
    @click.option("--modules", default="", help="Comma-separated optional modules.")
    @click.option("--languages", default="en", show_default=True, help="Comma-separated.")
    @click.option(
        "--mode", type=click.Choice(["invitation", "open_link", "both"]), default="invitation"
    )
    @click.option("--opens", help="First day residents can answer (YYYY-MM-DD).")
    @click.option("--closes", help="Last day residents can answer (YYYY-MM-DD).")
    @click.option("--panel", is_flag=True, help="The same residents are invited in later waves.")
    @click.option("--retention-days", type=int, default=730, show_default=True)
    @needs_database
    def waves_create(
        initiative_id: int,
        name: str,
        instrument_ref: str,
        modules: str,
        languages: str,
        mode: str,
        opens: str | None,
        closes: str | None,
        panel: bool,
        retention_days: int,
    ) -> None:
        """Create a draft wave of an initiative."""
        from surveyapp.console.waves import create_wave
        from surveyapp.models import Initiative
        from surveyapp.models import Instrument as InstrumentRow

        initiative = _get(Initiative, initiative_id, "initiative")
        key, _, version = instrument_ref.partition("@")
        row = db.session.scalar(
            select(InstrumentRow).where(InstrumentRow.key == key, InstrumentRow.version == version)
        )
        if row is None:
            raise click.ClickException(
                f"Questionnaire {instrument_ref} is not loaded; run `surveyapp instruments load`."
            )
        wave = _commit_or_fail(
            lambda: create_wave(
                db.session,
                initiative,
                instrument_row=row,
                name=name,
                modules=_csv_list(modules),
                languages=_csv_list(languages),
                mode=mode,
                opens_at=_day(opens),
                closes_at=_day(closes, end=True),
                is_panel=panel,
                retention_days=retention_days,
                translations=_translations(),
                actor=ACTOR,
            )
        )
        click.echo(f"Created draft wave {wave.id}: {wave.name}.")

    @waves.command("archive")
    @click.argument("wave_id", type=int)
    @needs_database
    def waves_archive(wave_id: int) -> None:
        """Archive a closed wave."""
        from surveyapp.console.waves import archive_wave
        from surveyapp.models import Wave

        wave = _get(Wave, wave_id, "wave")
        _commit_or_fail(lambda: archive_wave(db.session, wave, actor=ACTOR))
        click.echo(f"Wave {wave_id} is archived.")

    @waves.command("delete")
    @click.argument("wave_id", type=int)
    @needs_database
    def waves_delete(wave_id: int) -> None:
        """Delete a draft wave without responses."""
        from surveyapp.console.waves import delete_wave
        from surveyapp.models import Wave

        wave = _get(Wave, wave_id, "wave")
        _commit_or_fail(lambda: delete_wave(db.session, wave, actor=ACTOR))
        click.echo(f"Wave {wave_id} is deleted.")

    @waves.command("tick")
    @needs_database
    def waves_tick() -> None:
        """Close open waves whose closing date has passed (run it daily from cron)."""
        from surveyapp.console.waves import close_due_waves

        with writing():
            closed = _commit_or_fail(
                lambda: close_due_waves(db.session, datetime.now(UTC), actor=ACTOR)
            )
        click.echo(
            f"Closed {len(closed)} wave(s)"
            + (": " if closed else ".")
            + ", ".join(str(w.id) for w in closed)
        )

    @waves.command("monitor")
    @click.argument("wave_id", type=int)
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
    @needs_database
    def waves_monitor(wave_id: int, as_json: bool) -> None:
        """Fieldwork figures of a wave (exact counts: the CLI is for administrators)."""
        from dataclasses import asdict

        from surveyapp.console.monitoring import monitor
        from surveyapp.models import Wave

        figures = monitor(db.session, _get(Wave, wave_id, "wave"))
        if as_json:
            click.echo(json.dumps(asdict(figures), indent=2))
            return
        rate = figures.completion_rate
        click.echo(
            f"started {figures.started}, completed {figures.completed}, completion "
            f"{'-' if rate is None else f'{rate:.0%}'}, codes made {figures.invited}, "
            f"used {figures.codes_used}"
        )
        for row in figures.by_area:
            click.echo(f"  {row.label}: {row.completed} completed of {row.invited or '-'} letters")

    # -- invitations -------------------------------------------------------------------------
    @main.group("invitations")
    def invitations() -> None:
        """Invitation codes, letters and posters."""

    @invitations.command("generate")
    @click.argument("wave_id", type=int)
    @click.option("--area", "per_area", multiple=True, required=True, help="CODE=N, repeatable.")
    @click.option("--language", required=True, help="Language of the letters.")
    @click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
    @needs_database
    def invitations_generate(
        wave_id: int, per_area: tuple[str, ...], language: str, out: Path
    ) -> None:
        """Make codes and write letters.pdf + codes.csv into a ZIP (the only copy of the codes)."""
        from surveyapp.audit import record as audit
        from surveyapp.console import invitations as invites
        from surveyapp.models import Wave

        wave = _get(Wave, wave_id, "wave")
        if language not in (wave.languages or []):
            raise click.ClickException(f"The wave's languages are {', '.join(wave.languages)}.")
        counts = {}
        for spec in per_area:
            code, _, number = spec.partition("=")
            if not number.isdigit():
                raise click.BadParameter(f"{spec!r}: write AREA_CODE=NUMBER.")
            counts[_area(wave.initiative.city, code).id] = int(number)

        def make() -> bytes:
            made = invites.generate(
                db.session,
                wave,
                counts,
                base_url=current_app.config["BASE_URL"],
                actor=ACTOR,
                limit=1_000_000,
            )
            archive = invites.letters_zip(wave, made, language, _translations())
            out.write_bytes(archive)
            audit(
                db.session,
                ACTOR,
                wave.initiative.city_id,
                "letters_downloaded",
                "wave",
                wave.id,
                letters=len(made),
                language=language,
            )
            return archive

        _commit_or_fail(make)
        click.echo(
            f"Wrote {sum(counts.values())} letters to {out}. "
            "Keep it safe: it is the only copy of the codes."
        )

    @invitations.command("poster")
    @click.argument("wave_id", type=int)
    @click.option("--language", required=True)
    @click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
    @needs_database
    def invitations_poster(wave_id: int, language: str, out: Path) -> None:
        """Write an A4 poster PDF with the wave's open link as a QR code."""
        from surveyapp.console import invitations as invites
        from surveyapp.models import Wave

        wave = _get(Wave, wave_id, "wave")
        if language not in (wave.languages or []):
            raise click.ClickException(f"The wave's languages are {', '.join(wave.languages)}.")
        pdf = _commit_or_fail(
            lambda: invites.poster_pdf(
                wave, language, current_app.config["BASE_URL"], _translations()
            )
        )
        out.write_bytes(pdf)
        click.echo(f"Wrote the poster to {out}.")

    # -- retention ---------------------------------------------------------------------------
    @main.group("retention")
    def retention() -> None:
        """Delete what waves keep only for a while (run daily from cron)."""

    @retention.command("purge")
    @click.option("--dry-run", is_flag=True, help="Only say what would be deleted.")
    @needs_database
    def retention_purge(dry_run: bool) -> None:
        """Delete unfinished questionnaires and unused codes of waves past their retention."""
        from surveyapp.retention import purge

        if dry_run:
            done = purge(db.session, datetime.now(UTC), dry_run=True, actor=ACTOR)
            db.session.rollback()
        else:
            with writing():
                done = purge(db.session, datetime.now(UTC), actor=ACTOR)
                db.session.commit()
        verb = "Would delete" if dry_run else "Deleted"
        for item in done:
            click.echo(
                f"{verb} {item.drafts} unfinished questionnaire(s) and {item.codes} unused "
                f"code(s) of wave {item.wave.id} ({item.wave.name})."
            )
        if not done:
            click.echo("Nothing is past its retention period.")

    # -- audit -------------------------------------------------------------------------------
    @main.command("audit")
    @click.argument("city_slug")
    @click.option("--limit", type=int, default=50, show_default=True)
    @needs_database
    def audit_log(city_slug: str, limit: int) -> None:
        """Print the city's audit log, newest first."""
        from surveyapp.models import AuditEvent

        city = _city(city_slug)
        events = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.city_id == city.id)
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
        for event in events:
            click.echo(
                f"{event.occurred_at:%Y-%m-%d %H:%M}\t{event.actor}\t{event.action}\t"
                f"{event.object_type or ''} {event.object_id or ''}\t{json.dumps(event.details)}"
            )
