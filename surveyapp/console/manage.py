"""What city staff create and change: areas and their population margins, initiatives, waves.

Functions here take plain values, check them, raise :class:`ConsoleError` with a message a
coordinator can act on, record an audit event, and leave committing to the caller. The
console's forms and the ``surveyapp`` CLI both call them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.i18n.instrument import missing_texts
from surveyapp.instruments import Instrument
from surveyapp.models import (
    Area,
    AreaMargin,
    AreaRole,
    AuditEvent,
    City,
    Initiative,
    InitiativeArea,
    PyramidLevel,
    Response,
    User,
    Wave,
    WaveMode,
    WaveStatus,
)
from surveyapp.models import (
    Instrument as InstrumentRow,
)


class ConsoleError(ValueError):
    """A change that cannot be made; the message says what is wrong and what to do."""


def audit(
    session: Session,
    actor: User | str,
    city_id: int | None,
    action: str,
    object_type: str,
    object_id: Any,
    **details: Any,
) -> None:
    """Record a staff action (not committed)."""
    user = actor if isinstance(actor, User) else None
    session.add(
        AuditEvent(
            user_id=user.id if user else None,
            actor=user.email if user else str(actor),
            city_id=city_id,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            details=details,
        )
    )


# --- Areas ----------------------------------------------------------------------------------


def save_area(
    session: Session,
    city: City,
    *,
    code: str,
    name: str,
    actor: User | str,
    area: Area | None = None,
) -> Area:
    """Create an area of ``city``, or rename/recode ``area``."""
    code, name = code.strip(), name.strip()
    if not code or not name:
        raise ConsoleError("An area needs a code and a name.")
    if len(code) > 64 or len(name) > 200:
        raise ConsoleError("The code may have at most 64 characters and the name 200.")
    clash = session.scalar(
        select(Area).where(Area.city_id == city.id, func.lower(Area.code) == code.lower())
    )
    if clash is not None and clash is not area:
        raise ConsoleError(f"The city already has an area with the code {code!r}.")
    created = area is None
    if area is None:
        area = Area(city=city, code=code, name=name)
        session.add(area)
    else:
        area.code, area.name = code, name
    session.flush()
    audit(session, actor, city.id, "area_created" if created else "area_changed", "area", area.id)
    return area


MARGIN_COLUMNS = ("age_band", "gender", "population")


@dataclass
class MarginProblem:
    """One problem in an uploaded margins file: where, and what is wrong."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def parse_margins(data: bytes | str) -> tuple[list[tuple[str, str, int]], list[MarginProblem]]:
    """Read a population margins CSV: columns age_band, gender, population.

    Returns the rows and every problem found, each with its line number; the caller saves
    nothing when there is any problem. Comma or semicolon separated, UTF-8 (with or
    without BOM).
    """
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return [], [MarginProblem(1, "the file is not UTF-8 text; save it as CSV UTF-8")]
    else:
        text = data
    if not text.strip():
        return [], [MarginProblem(1, "the file is empty")]
    first = text.splitlines()[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader)]
    missing = [c for c in MARGIN_COLUMNS if c not in header]
    if missing:
        return [], [
            MarginProblem(
                1,
                f"missing column(s) {', '.join(missing)}; the header must be "
                f"{delimiter.join(MARGIN_COLUMNS)}",
            )
        ]
    index = {c: header.index(c) for c in MARGIN_COLUMNS}
    rows: list[tuple[str, str, int]] = []
    problems: list[MarginProblem] = []
    seen: dict[tuple[str, str], int] = {}
    for line, record in enumerate(reader, start=2):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) < len(header):
            problems.append(
                MarginProblem(line, f"expected {len(header)} cells, found {len(record)}")
            )
            continue
        age, gender, raw = (record[index[c]].strip() for c in MARGIN_COLUMNS)
        if not age or len(age) > 16:
            problems.append(MarginProblem(line, "age_band is empty or longer than 16 characters"))
            continue
        if not gender or len(gender) > 32:
            problems.append(MarginProblem(line, "gender is empty or longer than 32 characters"))
            continue
        try:
            population = int(raw.replace(" ", "").replace("\u00a0", ""))
        except ValueError:
            problems.append(MarginProblem(line, f"population {raw!r} is not a whole number"))
            continue
        if population < 0:
            problems.append(MarginProblem(line, "population cannot be negative"))
            continue
        if (age, gender) in seen:
            problems.append(
                MarginProblem(line, f"{age} x {gender} already given on line {seen[(age, gender)]}")
            )
            continue
        seen[(age, gender)] = line
        rows.append((age, gender, population))
    if not rows and not problems:
        problems.append(MarginProblem(2, "the file has a header but no rows"))
    return rows, problems


def replace_margins(
    session: Session, area: Area, rows: Sequence[tuple[str, str, int]], *, actor: User | str
) -> None:
    """Replace the area's margins with checked rows from :func:`parse_margins`."""
    area.margins = [AreaMargin(age_band=a, gender=g, population=p) for a, g, p in rows]
    session.flush()
    audit(
        session,
        actor,
        area.city_id,
        "margins_uploaded",
        "area",
        area.id,
        rows=len(rows),
        population=sum(p for _a, _g, p in rows),
    )


# --- Initiatives ----------------------------------------------------------------------------


def save_initiative(
    session: Session,
    city: City,
    *,
    name: str,
    description: str,
    pyramid_level: int,
    target_constructs: Iterable[str],
    treated: Iterable[int],
    comparison: Iterable[int],
    start_date: date | None,
    actor: User | str,
    initiative: Initiative | None = None,
) -> Initiative:
    """Create or change an initiative; its areas must belong to the same city."""
    name = name.strip()
    if not name or len(name) > 200:
        raise ConsoleError("An initiative needs a name of at most 200 characters.")
    if pyramid_level not in {level.value for level in PyramidLevel}:
        raise ConsoleError("Choose a level of the prevention pyramid (0 to 4).")
    treated, comparison = set(treated), set(comparison)
    if not treated:
        raise ConsoleError("Choose at least one area where the initiative takes place.")
    if treated & comparison:
        raise ConsoleError("An area cannot be both treated and a comparison area.")
    areas = {
        area.id: area
        for area in session.scalars(
            select(Area).where(Area.city_id == city.id, Area.id.in_(treated | comparison))
        )
    }
    unknown = (treated | comparison) - set(areas)
    if unknown:
        raise ConsoleError("Some chosen areas do not belong to this city.")
    created = initiative is None
    if initiative is None:
        initiative = Initiative(city=city, name=name)
        session.add(initiative)
    initiative.name = name
    initiative.description = description.strip()
    initiative.pyramid_level = pyramid_level
    initiative.target_constructs = sorted(set(target_constructs))
    initiative.start_date = start_date
    initiative.area_links = [
        InitiativeArea(area=areas[i], city_id=city.id, role=AreaRole.TREATED)
        for i in sorted(treated)
    ] + [
        InitiativeArea(area=areas[i], city_id=city.id, role=AreaRole.COMPARISON)
        for i in sorted(comparison)
    ]
    session.flush()
    audit(
        session,
        actor,
        city.id,
        "initiative_created" if created else "initiative_changed",
        "initiative",
        initiative.id,
        pyramid_level=pyramid_level,
    )
    return initiative


# --- Waves ----------------------------------------------------------------------------------


def complete_languages(
    instrument: Instrument, modules: Sequence[str], candidates: Iterable[str], translations: Path
) -> list[str]:
    """The candidate languages in which the questionnaire (with modules) is fully translated."""
    return [
        language
        for language in candidates
        if not missing_texts(instrument, list(modules), language, translations)
    ]


def create_wave(
    session: Session,
    initiative: Initiative,
    *,
    instrument_row: InstrumentRow,
    name: str,
    modules: Sequence[str],
    languages: Sequence[str],
    mode: str,
    opens_at: datetime | None,
    closes_at: datetime | None,
    is_panel: bool,
    retention_days: int,
    translations: Path,
    actor: User | str,
) -> Wave:
    """A new draft wave; only fully translated languages and known modules are accepted."""
    name = name.strip()
    if not name or len(name) > 200:
        raise ConsoleError("A wave needs a name of at most 200 characters.")
    instrument = Instrument.from_definition(instrument_row.definition)
    known = {module.id for module in instrument.modules if module.optional}
    unknown = sorted(set(modules) - known)
    if unknown:
        raise ConsoleError(f"Unknown module(s): {', '.join(unknown)}.")
    if not languages:
        raise ConsoleError("Choose at least one language.")
    incomplete = sorted(
        set(languages) - set(complete_languages(instrument, modules, languages, translations))
    )
    if incomplete:
        raise ConsoleError(
            "The questionnaire is not fully translated into: " + ", ".join(incomplete) + "."
        )
    if mode not in set(WaveMode):
        raise ConsoleError("Choose how residents are reached: invitation, open link or both.")
    if opens_at and closes_at and closes_at <= opens_at:
        raise ConsoleError("The closing date must be after the opening date.")
    if not 1 <= retention_days <= 3650:
        raise ConsoleError("The retention period must be between 1 and 3650 days.")
    wave = Wave(
        initiative=initiative,
        instrument_id=instrument_row.id,
        name=name,
        modules=sorted(set(modules)),
        languages=list(dict.fromkeys(languages)),
        mode=mode,
        status=WaveStatus.DRAFT,
        opens_at=opens_at,
        closes_at=closes_at,
        is_panel=is_panel,
        retention_days=retention_days,
    )
    session.add(wave)
    session.flush()
    audit(session, actor, initiative.city_id, "wave_created", "wave", wave.id, name=name)
    return wave


def archive_wave(session: Session, wave: Wave, *, actor: User | str) -> None:
    """Archive a closed wave: it leaves the working lists; its data stays."""
    if wave.status != WaveStatus.CLOSED:
        raise ConsoleError("Only a closed wave can be archived.")
    wave.status = WaveStatus.ARCHIVED
    audit(session, actor, wave.initiative.city_id, "wave_archived", "wave", wave.id)


def delete_wave(session: Session, wave: Wave, *, actor: User | str) -> None:
    """Delete a wave that has no responses (a draft set up by mistake)."""
    count = session.scalar(select(func.count(Response.id)).where(Response.wave_id == wave.id))
    if count:
        raise ConsoleError(
            f"This wave has {count} response(s) and cannot be deleted; close or archive it."
        )
    if wave.status not in (WaveStatus.DRAFT,):
        raise ConsoleError("Only a draft wave can be deleted.")
    city_id = wave.initiative.city_id
    audit(session, actor, city_id, "wave_deleted", "wave", wave.id, name=wave.name)
    session.delete(wave)
    session.flush()


def close_due_waves(session: Session, now: datetime, *, actor: User | str) -> list[Wave]:
    """Close open waves whose closing date has passed (run from cron: `waves tick`)."""
    from surveyapp.console.waves import close_wave

    due = session.scalars(
        select(Wave).where(
            Wave.status == WaveStatus.OPEN, Wave.closes_at.is_not(None), Wave.closes_at <= now
        )
    ).all()
    for wave in due:
        close_wave(session, wave, actor=actor)
    return list(due)
