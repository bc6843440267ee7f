"""The open link's first step, "Which neighbourhood do you live in?", and what it offers.

An answer through a wave's wave-wide open link has no area: before the questionnaire, the
resident says which of the city's areas they live in, or "outside the city", or "don't
know". The chosen area is stored on the response with area source ``self_reported``; the
other two replies are stored too, without an area, and stay out of the treated-versus-
comparison analysis.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from surveyapp.models import Area, AreaReply, AreaSource, Response, ResponseStatus, Wave

#: The replies that name no area, in the order the page offers them after the areas.
OTHER_REPLIES = (AreaReply.OUTSIDE_CITY, AreaReply.DONT_KNOW)


def areas_offered(session: Session, wave: Wave) -> list[Area]:
    """The areas a resident of ``wave`` can choose from: the city's, sorted by name.

    The one place that decides which areas an open link offers and which get their own
    link and poster: the areas of the wave's city (an initiative's or a city-wide round).
    """
    return list(
        session.scalars(
            select(Area).where(Area.city_id == wave.city_id).order_by(Area.name, Area.id)
        )
    )


def parse_choice(value: str, offered: list[Area]) -> tuple[int | None, str | None] | None:
    """``(area_id, reply)`` for a submitted choice, or None when it is none of the offered."""
    if value in {reply.value for reply in OTHER_REPLIES}:
        return None, value
    if value.isdigit() and int(value) in {area.id for area in offered}:
        return int(value), None
    return None


def current_choice(session: Session, response_id: int) -> str | None:
    """The draft's saved choice as the form's value (area id or reply), if it gave one."""
    row = session.execute(
        select(Response.area_id, Response.area_reply, Response.area_source).where(
            Response.id == response_id
        )
    ).one_or_none()
    if row is None or row.area_source != AreaSource.SELF_REPORTED:
        return None
    return row.area_reply or (str(row.area_id) if row.area_id is not None else None)


def record_choice(
    session: Session, response_id: int, area_id: int | None, reply: str | None
) -> Any:
    """Store the resident's area (or reply) on their draft; nothing once it is sent. Not
    committed. The draft's own open link must have no area of its own (an area link's or a
    letter's area is never overwritten)."""
    return session.execute(
        update(Response)
        .where(
            Response.id == response_id,
            Response.status == ResponseStatus.DRAFT,
            (Response.area_source.is_(None)) | (Response.area_source == AreaSource.SELF_REPORTED),
        )
        .values(area_id=area_id, area_reply=reply, area_source=AreaSource.SELF_REPORTED)
    ).rowcount
