"""``surveyapp waves``: create, copy, open, close, archive and delete waves; fieldwork figures."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from surveyapp.cli import arguments, lookups
from surveyapp.cli.guards import committed, needs_database
from surveyapp.cli.settings import ACTOR, translations_dir
from surveyapp.db import writing
from surveyapp.extensions import db
from surveyapp.models import Initiative, Wave


@click.group("waves", cls=AppGroup)
def waves_group() -> None:
    """Open and close survey waves."""


@waves_group.command("create")
@click.argument("initiative_id", type=int, required=False)
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
@click.option(
    "--city",
    "city_slug",
    help="Instead of INITIATIVE_ID: a city-wide round of this city (its slug).",
)
@click.option(
    "--areas",
    default="",
    help="With --city: comma-separated area codes the round covers (default: every area).",
)
@needs_database
def waves_create(
    initiative_id: int | None,
    name: str,
    instrument_ref: str,
    modules: str,
    languages: str,
    mode: str,
    opens: str | None,
    closes: str | None,
    panel: bool,
    retention_days: int,
    city_slug: str | None,
    areas: str,
) -> None:
    """Create a draft wave of an initiative, or with --city a city-wide round."""
    from surveyapp.console.waves import create_wave
    from surveyapp.instruments.registry import published_version

    if (initiative_id is None) == (city_slug is None):
        raise click.UsageError("Give either INITIATIVE_ID or --city SLUG (a city-wide round).")
    if areas and city_slug is None:
        raise click.UsageError("--areas only goes with --city (an initiative has its own areas).")
    initiative, city, covered = None, None, []
    if initiative_id is not None:
        initiative = lookups.by_id(Initiative, initiative_id, "initiative")
    else:
        city = lookups.city(city_slug)
        covered = [lookups.area(city, code) for code in arguments.csv_list(areas)]
    key, _, version = instrument_ref.partition("@")
    row = published_version(db.session, key, version)
    if row is None:
        raise click.ClickException(
            f"Questionnaire {instrument_ref} is not loaded; run `surveyapp instruments load`."
        )
    opens_at, closes_at = arguments.day(opens), arguments.day(closes, end=True)
    wave = committed(
        lambda: create_wave(
            db.session,
            initiative,
            instrument_row=row,
            name=name,
            modules=arguments.csv_list(modules),
            languages=arguments.csv_list(languages),
            mode=mode,
            opens_at=opens_at,
            closes_at=closes_at,
            is_panel=panel,
            retention_days=retention_days,
            translations=translations_dir(),
            actor=ACTOR,
            city=city,
            areas=covered,
        )
    )
    if city is None:
        click.echo(f"Created draft wave {wave.id}: {wave.name}.")
    else:
        scope = ", ".join(a.code for a in covered) if covered else "every area"
        click.echo(f"Created draft city-wide wave {wave.id} of {city.slug}: {wave.name} ({scope}).")


@waves_group.command("copy")
@click.argument("wave_id", type=int)
@click.option("--name", required=True, help="The new wave's name.")
@click.option("--opens", help="First day residents can answer (YYYY-MM-DD).")
@click.option("--closes", help="Last day residents can answer (YYYY-MM-DD).")
@needs_database
def waves_copy(wave_id: int, name: str, opens: str | None, closes: str | None) -> None:
    """Copy a wave's settings into a new draft wave for the next round."""
    from surveyapp.console.waves import copy_wave

    source = lookups.by_id(Wave, wave_id, "wave")
    opens_at, closes_at = arguments.day(opens), arguments.day(closes, end=True)
    wave = committed(
        lambda: copy_wave(
            db.session,
            source,
            name=name,
            opens_at=opens_at,
            closes_at=closes_at,
            translations=translations_dir(),
            actor=ACTOR,
        )
    )
    click.echo(f"Created draft wave {wave.id} (a copy of wave {source.id}): {wave.name}.")


@waves_group.command("open")
@click.argument("wave_id", type=int)
@click.option(
    "--acknowledge-draft-languages",
    "acknowledge",
    is_flag=True,
    help="Let residents answer in the wave's draft (unreviewed) translations; audited.",
)
@needs_database
def waves_open(wave_id: int, acknowledge: bool) -> None:
    """Open (or reopen) a wave; refused while a wave language is incompletely translated,
    and, without --acknowledge-draft-languages, while one is a draft translation."""
    from surveyapp.console.waves import open_wave
    from surveyapp.draft_languages import draft_languages

    wave = lookups.by_id(Wave, wave_id, "wave")
    drafts = draft_languages(wave.languages or [], translations_dir()) if acknowledge else []
    committed(
        lambda: open_wave(
            db.session,
            wave,
            actor=ACTOR,
            translations_dir=translations_dir(),
            acknowledged=drafts,
        )
    )
    click.echo(f"Wave {wave.id} is open (instrument {wave.frozen_instrument_hash[:12]}).")


@waves_group.command("close")
@click.argument("wave_id", type=int)
@needs_database
def waves_close(wave_id: int) -> None:
    """Close a wave: no new answers, saved drafts are kept."""
    from surveyapp.console.waves import close_wave

    wave = lookups.by_id(Wave, wave_id, "wave")
    committed(lambda: close_wave(db.session, wave, actor=ACTOR))
    click.echo(f"Wave {wave.id} is closed.")


@waves_group.command("archive")
@click.argument("wave_id", type=int)
@needs_database
def waves_archive(wave_id: int) -> None:
    """Archive a closed wave."""
    from surveyapp.console.waves import archive_wave

    wave = lookups.by_id(Wave, wave_id, "wave")
    committed(lambda: archive_wave(db.session, wave, actor=ACTOR))
    click.echo(f"Wave {wave_id} is archived.")


@waves_group.command("delete")
@click.argument("wave_id", type=int)
@needs_database
def waves_delete(wave_id: int) -> None:
    """Delete a draft wave without responses."""
    from surveyapp.console.waves import delete_wave

    wave = lookups.by_id(Wave, wave_id, "wave")
    committed(lambda: delete_wave(db.session, wave, actor=ACTOR))
    click.echo(f"Wave {wave_id} is deleted.")


@waves_group.command("tick")
@needs_database
def waves_tick() -> None:
    """Close open waves whose closing date has passed (run it daily from cron)."""
    from surveyapp.console.waves import close_due_waves

    with writing():
        closed = committed(lambda: close_due_waves(db.session, datetime.now(UTC), actor=ACTOR))
    click.echo(
        f"Closed {len(closed)} wave(s)"
        + (": " if closed else ".")
        + ", ".join(str(w.id) for w in closed)
    )


@waves_group.command("monitor")
@click.argument("wave_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@needs_database
def waves_monitor(wave_id: int, as_json: bool) -> None:
    """Fieldwork figures of a wave (exact counts: the CLI is for administrators)."""
    from dataclasses import asdict

    from surveyapp.console.monitoring import monitor

    figures = monitor(db.session, lookups.by_id(Wave, wave_id, "wave"))
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


@waves_group.command("links")
@click.argument("wave_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@needs_database
def waves_links(wave_id: int, as_json: bool) -> None:
    """The wave's open link and each area's own open link (made on first use)."""
    from surveyapp.cli.settings import base_url
    from surveyapp.console.area_links import area_links

    wave = lookups.by_id(Wave, wave_id, "wave")
    if not wave.open_token:
        raise click.ClickException(
            "This wave has no open link; open it with mode 'open link' or 'both'."
        )
    base = base_url().rstrip("/")
    links = committed(lambda: area_links(db.session, wave, base))
    wave_link = f"{base}/w/{wave.open_token}"
    if as_json:
        areas = [{"area": x.area.code, "name": x.area.name, "url": x.url} for x in links]
        click.echo(json.dumps({"wave": wave_link, "areas": areas}, indent=2, ensure_ascii=False))
        return
    click.echo(f"Wave-wide (asks the neighbourhood): {wave_link}")
    for link in links:
        click.echo(f"  {link.area.code} {link.area.name}: {link.url}")
