"""Initiatives: a local intervention on the prevention pyramid, with its theory of change
and its treated and comparison areas.

Functions receive checked values, change the session, audit, and leave committing to the
caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.audit import record
from surveyapp.console.errors import ConsoleError
from surveyapp.models import Area, AreaRole, City, Initiative, InitiativeArea, User

MAX_NAME = 200

#: What a coordinator reads when a chosen area is another city's (lazily translated).
FOREIGN_AREAS = _l("Some chosen areas do not belong to this city.")
#: The change to plan for is a number of points on the 0-100 indices.
TARGET_CHANGE_RANGE = _l(
    "The change to plan for must be more than 0 and at most 100 points (the indices run "
    "from 0 to 100)."
)


def city_areas(session: Session, city: City, area_ids: Iterable[int]) -> dict[int, Area]:
    """The areas of ``city`` among ``area_ids``, by id (another city's ids are left out)."""
    wanted = set(area_ids)
    if not wanted:
        return {}
    return {
        area.id: area
        for area in session.scalars(
            select(Area).where(Area.city_id == city.id, Area.id.in_(wanted))
        )
    }


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
    target_change: float | None = None,
) -> Initiative:
    """Create or change an initiative.

    Its areas are always the city's own, whoever asks: another city's area raises
    :class:`ConsoleError` (the form reports it first).
    """
    if target_change is not None and not 0 < target_change <= 100:
        raise ConsoleError(TARGET_CHANGE_RANGE)
    treated, comparison = set(treated), set(comparison)
    areas = city_areas(session, city, treated | comparison)
    if (treated | comparison) - set(areas):
        raise ConsoleError(FOREIGN_AREAS)
    created = initiative is None
    if initiative is None:
        initiative = Initiative(city=city, name=name.strip())
        session.add(initiative)
    initiative.name = name.strip()
    initiative.description = description.strip()
    initiative.pyramid_level = pyramid_level
    initiative.target_constructs = sorted(set(target_constructs))
    initiative.start_date = start_date
    initiative.target_change = target_change
    initiative.area_links = [
        InitiativeArea(area=areas[i], city_id=city.id, role=AreaRole.TREATED)
        for i in sorted(treated)
    ] + [
        InitiativeArea(area=areas[i], city_id=city.id, role=AreaRole.COMPARISON)
        for i in sorted(comparison)
    ]
    session.flush()
    record(
        session,
        actor,
        city.id,
        "initiative_created" if created else "initiative_changed",
        "initiative",
        initiative.id,
        pyramid_level=pyramid_level,
    )
    return initiative
