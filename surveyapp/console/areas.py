"""Areas of a city and their population margins: creating, renaming, replacing margins.

Functions receive checked values (:mod:`surveyapp.console.forms` on the pages, click's
options on the command line), change the session, audit, and leave committing to the
caller.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.audit import record
from surveyapp.console.errors import ConsoleError
from surveyapp.console.margins import MarginRow
from surveyapp.models import Area, AreaMargin, City, User

MAX_CODE = 64
MAX_NAME = 200


def code_taken(session: Session, city: City, code: str, area: Area | None = None) -> bool:
    """Whether another area of ``city`` has ``code`` (compared without case)."""
    clash = session.scalar(
        select(Area).where(Area.city_id == city.id, func.lower(Area.code) == code.strip().lower())
    )
    return clash is not None and clash is not area


def code_taken_message(code: str) -> str:
    """What a coordinator reads when the code is in use (lazily translated)."""
    return _l("The city already has an area with the code %(code)s.", code=repr(code.strip()))


def save_area(
    session: Session,
    city: City,
    *,
    code: str,
    name: str,
    actor: User | str,
    area: Area | None = None,
) -> Area:
    """Create an area of ``city``, or rename/recode ``area``.

    Two areas of a city never share a code, whoever asks: a clash raises
    :class:`ConsoleError` (the form reports it first).
    """
    code, name = code.strip(), name.strip()
    if code_taken(session, city, code, area):
        raise ConsoleError(code_taken_message(code))
    created = area is None
    if area is None:
        area = Area(city=city, code=code, name=name)
        session.add(area)
    else:
        area.code, area.name = code, name
    session.flush()
    action = "area_created" if created else "area_changed"
    record(session, actor, city.id, action, "area", area.id)
    return area


def replace_margins(
    session: Session, area: Area, rows: Sequence[MarginRow], *, actor: User | str
) -> None:
    """Replace the area's margins with rows read by :func:`margins.parse_margins`."""
    area.margins = [AreaMargin(age_band=a, gender=g, population=p) for a, g, p in rows]
    session.flush()
    record(
        session,
        actor,
        area.city_id,
        "margins_uploaded",
        "area",
        area.id,
        rows=len(rows),
        population=sum(p for _a, _g, p in rows),
    )
