"""Which waves and areas evaluate an initiative: the one place that decides it.

A wave belongs to an initiative, or to its city as a city-wide round over chosen areas
(all of them when none are listed). An initiative is evaluated from its own waves plus every
city-wide round of its city that covers at least one of its treated and one of its
comparison areas; from such a round only the responses in those areas count.

Comparison areas are the ones staff chose for the initiative or, when they chose none, the
city's areas that no initiative treats during the evaluation period (the *default*). An
initiative treats its areas from its start date on (there is no end date), so another
initiative's treated area stays a default comparison area only when that initiative started
after the last wave that evaluates this one ("after" waves; with none yet, the period is
open and every area another initiative treats is left out).

Each wave is *before* the start date when it closed by then (closing date at or before
midnight UTC of the start date), *after* it when it opened on or after that day, and
otherwise *spanning* (also when it has no closing date yet) or *undated* (no opening date,
or an initiative without a start date): neither before nor after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.orm import Session

from surveyapp.models import (
    Area,
    AreaRole,
    Initiative,
    InitiativeArea,
    Response,
    ResponseStatus,
    Wave,
)

BEFORE, AFTER, SPANNING, UNDATED = "before", "after", "spanning", "undated"


def wave_areas(session: Session, wave: Wave) -> list[Area]:
    """The areas a wave covers: a city-wide round's listed areas (else every area of the
    city); an initiative's wave, the initiative's treated and comparison areas."""
    if wave.initiative is not None:  # treated, then comparison, as the pages list them
        roles = (AreaRole.TREATED, AreaRole.COMPARISON)
        return [area for role in roles for area in wave.initiative.areas_with_role(role)]
    listed = [link.area for link in wave.area_links]
    if listed:
        return sorted(listed, key=_area_key)
    return list(
        session.scalars(select(Area).where(Area.city_id == wave.city_id).order_by(Area.name))
    )


def citywide_waves(session: Session, city_id: int) -> list[Wave]:
    """The city-wide rounds of a city, oldest first."""
    return list(
        session.scalars(
            select(Wave)
            .where(Wave.city_id == city_id, Wave.initiative_id.is_(None))
            .order_by(Wave.id)
        )
    )


def timing(wave: Wave, start: date | None) -> str:
    """``before``, ``after``, ``spanning`` or ``undated`` relative to a start date."""
    if start is None or wave.opens_at is None:
        return UNDATED
    midnight = datetime(start.year, start.month, start.day, tzinfo=UTC)
    if wave.opens_at >= midnight:
        return AFTER
    if wave.closes_at is not None and wave.closes_at <= midnight:
        return BEFORE
    return SPANNING


def treated_areas(initiative: Initiative) -> list[Area]:
    """The areas the initiative treats."""
    return sorted(initiative.areas_with_role(AreaRole.TREATED), key=_area_key)


def comparison_is_default(initiative: Initiative) -> bool:
    """True when staff chose no comparison areas, so the default list applies."""
    return not initiative.areas_with_role(AreaRole.COMPARISON)


def comparison_areas(session: Session, initiative: Initiative) -> list[Area]:
    """The areas staff chose as comparison, or by default the city's areas that no initiative
    treats in the evaluation period (see the module text)."""
    chosen = initiative.areas_with_role(AreaRole.COMPARISON)
    if chosen:
        return sorted(chosen, key=_area_key)
    treated = {area.id for area in treated_areas(initiative)}
    end = _period_end(session, initiative, treated)
    others = session.execute(
        select(InitiativeArea.area_id, Initiative.start_date)
        .join(Initiative, InitiativeArea.initiative_id == Initiative.id)
        .where(
            Initiative.city_id == initiative.city_id,
            Initiative.id != initiative.id,
            InitiativeArea.role == AreaRole.TREATED,
        )
    ).all()
    busy = {area for area, start in others if start is None or end is None or start <= end}
    areas = session.scalars(select(Area).where(Area.city_id == initiative.city_id)).all()
    return sorted((a for a in areas if a.id not in treated | busy), key=_area_key)


def area_groups(session: Session, initiative: Initiative) -> dict[int, str]:
    """Area id -> ``treated`` or ``comparison`` for the initiative's design."""
    groups = {area.id: str(AreaRole.COMPARISON) for area in comparison_areas(session, initiative)}
    return groups | {area.id: str(AreaRole.TREATED) for area in treated_areas(initiative)}


def waves_for_initiative(session: Session, initiative: Initiative) -> list[Wave]:
    """The initiative's own waves and the city-wide rounds that evaluate it, oldest first."""
    groups = area_groups(session, initiative)
    treated = {a for a, g in groups.items() if g == AreaRole.TREATED}
    comparison = set(groups) - treated
    rounds = [
        wave
        for wave in citywide_waves(session, initiative.city_id)
        if _covers(session, wave, treated) and _covers(session, wave, comparison)
    ]
    return sorted([*initiative.waves, *rounds], key=lambda wave: wave.id)


def waves_by_timing(session: Session, initiative: Initiative) -> dict[str, list[Wave]]:
    """The initiative's waves (:func:`waves_for_initiative`) grouped by :func:`timing`."""
    grouped: dict[str, list[Wave]] = {BEFORE: [], AFTER: [], SPANNING: [], UNDATED: []}
    for wave in waves_for_initiative(session, initiative):
        grouped[timing(wave, initiative.start_date)].append(wave)
    return grouped


def response_scope(session: Session, initiative: Initiative) -> ColumnElement[bool]:
    """A condition on ``Response`` (joined to ``Wave``) selecting the initiative's rows: all
    of its own waves, and of each city-wide round those in its treated and comparison areas."""
    waves = waves_for_initiative(session, initiative)
    rounds = [w.id for w in waves if w.initiative_id is None]
    own = Wave.initiative_id == initiative.id
    if not rounds:
        return own
    areas = list(area_groups(session, initiative))
    return or_(own, and_(Response.wave_id.in_(rounds), round_rows(rounds, areas)))


def round_rows(round_ids: list[int], area_ids: list[int]) -> ColumnElement[bool]:
    """A condition on ``Response`` alone: outside the rounds ``round_ids`` every row, in them
    only rows in ``area_ids`` (the design's areas; for exports streamed from plain ids)."""
    if not round_ids:
        return true()
    inside = Response.area_id.in_(area_ids) if area_ids else false()
    return or_(Response.wave_id.not_in(round_ids), inside)


def initiatives_for_wave(session: Session, wave: Wave) -> list[Initiative]:
    """The initiatives a wave evaluates: its own, or those a city-wide round covers."""
    if wave.initiative is not None:
        return [wave.initiative]
    initiatives = session.scalars(
        select(Initiative).where(Initiative.city_id == wave.city_id).order_by(Initiative.id)
    )
    return [i for i in initiatives if wave in waves_for_initiative(session, i)]


def _covers(session: Session, wave: Wave, area_ids: set[int]) -> bool:
    return bool(area_ids & {area.id for area in wave_areas(session, wave)})


def _period_end(session: Session, initiative: Initiative, treated: set[int]) -> date | None:
    """The last day of the initiative's evaluation period: the latest end of its "after"
    waves (own or city-wide over a treated area); None while it has none (open period)."""
    start = initiative.start_date
    candidates = [*initiative.waves] + [
        w for w in citywide_waves(session, initiative.city_id) if _covers(session, w, treated)
    ]
    after = [w for w in candidates if timing(w, start) == AFTER]
    if not after or any(w.closes_at is None for w in after):
        return None  # no after wave yet, or one still without an end: the period is open
    ends = [w.closes_at.date() for w in after if w.closes_at is not None]
    return max(ends)


def _area_key(area: Area) -> tuple[str, int]:
    return (area.name, area.id)


@dataclass
class RoundUse:
    """A city-wide round as one initiative uses it: its timing and answers in the design."""

    wave: Wave
    timing: str
    completed: int


def initiative_rounds(session: Session, initiative: Initiative) -> list[RoundUse]:
    """The city-wide rounds that evaluate the initiative, with their complete responses in
    its treated and comparison areas."""
    rounds = [w for w in waves_for_initiative(session, initiative) if w.initiative_id is None]
    counts: dict[int, int] = {}
    if rounds:
        areas = list(area_groups(session, initiative))
        counts = dict(
            session.execute(
                select(Response.wave_id, func.count(Response.id))
                .where(
                    Response.wave_id.in_([w.id for w in rounds]),
                    Response.area_id.in_(areas),
                    Response.status == ResponseStatus.COMPLETE,
                )
                .group_by(Response.wave_id)
            ).all()
        )
    return [RoundUse(w, timing(w, initiative.start_date), counts.get(w.id, 0)) for w in rounds]
