"""Initiatives: a local intervention on the prevention pyramid, with its theory of change
and its treated and comparison areas.

Functions receive checked values, change the session, audit, and leave committing to the
caller.

The *design* (treated and comparison areas, start date, pyramid level) decides which
answers are compared with which. Once an answer has arrived, an ordinary edit may not
change it (:func:`save_initiative` refuses); :func:`change_design` does, with a stated
reason, after staff saw what it changes in the results (:mod:`design_changes`). Every
change is audited with the old and new values of the fields it changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp import designs
from surveyapp.audit import record
from surveyapp.console.errors import ConsoleError
from surveyapp.models import (
    Area,
    AreaRole,
    City,
    Initiative,
    InitiativeArea,
    Response,
    ResponseStatus,
    User,
    Wave,
)

MAX_NAME = 200
#: Longest reason a design change may give (it is stored in the audit log).
MAX_REASON = 1000

#: The fields that decide which answers are compared with which.
DESIGN_FIELDS = ("treated", "comparison", "start_date", "pyramid_level")
#: Every field an audit entry of a change reports, in the order pages list them.
AUDITED_FIELDS = (
    "name",
    "description",
    "pyramid_level",
    "target_constructs",
    "treated",
    "comparison",
    "start_date",
    "target_change",
)
#: What the audit log and the design-change pages call each field (lazily translated).
FIELD_LABELS = {
    "name": _l("Name"),
    "description": _l("Description"),
    "pyramid_level": _l("Pyramid level"),
    "target_constructs": _l("Should change"),
    "treated": _l("Treated areas"),
    "comparison": _l("Comparison areas"),
    "start_date": _l("Start date"),
    "target_change": _l("Smallest change to show (points)"),
}

#: What a coordinator reads when a chosen area is another city's (lazily translated).
FOREIGN_AREAS = _l("Some chosen areas do not belong to this city.")
#: The change to plan for is a number of points on the 0-100 indices.
TARGET_CHANGE_RANGE = _l(
    "The change to plan for must be more than 0 and at most 100 points (the indices run "
    "from 0 to 100)."
)
#: An ordinary edit that would change the design of an initiative with answers.
DESIGN_LOCKED = _l(
    "Nothing was saved: this initiative already has answers, so its treated and comparison "
    "areas, start date and pyramid level change only through “Change the design”, which "
    "shows what the change does to the results and records why."
)
#: A design change without a stated reason.
REASON_NEEDED = _l("Say why the design changes: the reason is kept in the audit log.")


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


def own_areas(session: Session, city: City, area_ids: set[int]) -> dict[int, Area]:
    """The areas ``area_ids`` of ``city``, by id; :class:`ConsoleError` if one is another
    city's (or unknown)."""
    areas = city_areas(session, city, area_ids)
    if area_ids - set(areas):
        raise ConsoleError(FOREIGN_AREAS)
    return areas


def has_answers(session: Session, initiative: Initiative) -> bool:
    """True once any complete response counts for the initiative: in its own waves, or in
    its areas of a city-wide round that evaluates it (:func:`designs.response_scope`)."""
    if initiative.id is None:
        return False
    found = session.scalar(
        select(func.count(Response.id))
        .join(Wave, Response.wave_id == Wave.id)
        .where(
            designs.response_scope(session, initiative),
            Response.status == ResponseStatus.COMPLETE,
        )
    )
    return bool(found)


def described(initiative: Initiative) -> dict[str, Any]:
    """The audited fields of ``initiative`` as plain JSON values (areas by code)."""

    def codes(role: AreaRole) -> list[str]:
        return sorted(area.code for area in initiative.areas_with_role(role))

    return {
        "name": initiative.name,
        "description": initiative.description or "",
        "pyramid_level": initiative.pyramid_level,
        "target_constructs": sorted(initiative.target_constructs or []),
        "treated": codes(AreaRole.TREATED),
        "comparison": codes(AreaRole.COMPARISON),
        "start_date": initiative.start_date.isoformat() if initiative.start_date else None,
        "target_change": initiative.target_change,
    }


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    """The fields that differ between two :func:`described` states: (old, new) values."""
    fields = [field for field in AUDITED_FIELDS if before.get(field) != after.get(field)]
    return {f: before.get(f) for f in fields}, {f: after.get(f) for f in fields}


def design_differs(
    initiative: Initiative,
    *,
    treated: Iterable[int],
    comparison: Iterable[int],
    start_date: date | None,
    pyramid_level: int,
) -> bool:
    """True when these design values differ from the initiative's stored ones."""
    links = initiative.area_links
    return (
        set(treated) != {link.area_id for link in links if link.role == AreaRole.TREATED}
        or set(comparison) != {link.area_id for link in links if link.role == AreaRole.COMPARISON}
        or start_date != initiative.start_date
        or pyramid_level != initiative.pyramid_level
    )


def apply_design(
    session: Session,
    initiative: Initiative,
    *,
    treated: Iterable[int],
    comparison: Iterable[int],
    start_date: date | None,
    pyramid_level: int,
) -> None:
    """Set the design fields (areas of the initiative's city only); no audit, no checks of
    the lock: :func:`save_initiative` and :func:`change_design` decide when this may run."""
    treated, comparison = set(treated), set(comparison)
    city = initiative.city
    areas = own_areas(session, city, treated | comparison)
    initiative.pyramid_level = pyramid_level
    initiative.start_date = start_date
    initiative.area_links = [
        InitiativeArea(area=areas[i], city_id=city.id, role=AreaRole.TREATED)
        for i in sorted(treated)
    ] + [
        InitiativeArea(area=areas[i], city_id=city.id, role=AreaRole.COMPARISON)
        for i in sorted(comparison)
    ]


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
    :class:`ConsoleError` (the form reports it first). Once the initiative has answers,
    a change of its design raises :class:`ConsoleError` (:data:`DESIGN_LOCKED`) before
    anything changes: that goes through :func:`change_design`.
    """
    if target_change is not None and not 0 < target_change <= 100:
        raise ConsoleError(TARGET_CHANGE_RANGE)
    design = {
        "treated": set(treated),
        "comparison": set(comparison),
        "start_date": start_date,
        "pyramid_level": pyramid_level,
    }
    own_areas(session, city, design["treated"] | design["comparison"])  # before any change
    created = initiative is None
    if initiative is None:
        # Complete before it joins the session: looking up the areas flushes it.
        initiative = Initiative(
            city=city, name=name.strip(), pyramid_level=pyramid_level, start_date=start_date
        )
        session.add(initiative)
        before: dict[str, Any] = {}
    else:
        if design_differs(initiative, **design) and has_answers(session, initiative):
            raise ConsoleError(DESIGN_LOCKED)
        before = described(initiative)
    initiative.name = name.strip()
    initiative.description = description.strip()
    initiative.target_constructs = sorted(set(target_constructs))
    initiative.target_change = target_change
    apply_design(session, initiative, **design)
    session.flush()
    if created:
        details: dict[str, Any] = {"pyramid_level": pyramid_level}
    else:
        old, new = changed(before, described(initiative))
        details = {"old": old, "new": new}
    record(
        session,
        actor,
        city.id,
        "initiative_created" if created else "initiative_changed",
        "initiative",
        initiative.id,
        **details,
    )
    return initiative


def change_design(
    session: Session,
    initiative: Initiative,
    *,
    treated: Iterable[int],
    comparison: Iterable[int],
    start_date: date | None,
    pyramid_level: int,
    reason: str,
    actor: User | str,
) -> tuple[dict, dict]:
    """Change the design of an initiative, answers or not, and audit the old and new values
    with the reason (action ``initiative_design_changed``). Returns (old, new)."""
    reason = reason.strip()
    if not reason:
        raise ConsoleError(REASON_NEEDED)
    before = described(initiative)
    apply_design(
        session,
        initiative,
        treated=treated,
        comparison=comparison,
        start_date=start_date,
        pyramid_level=pyramid_level,
    )
    session.flush()
    old, new = changed(before, described(initiative))
    record(
        session,
        actor,
        initiative.city_id,
        "initiative_design_changed",
        "initiative",
        initiative.id,
        old=old,
        new=new,
        reason=reason[:MAX_REASON],
    )
    return old, new
