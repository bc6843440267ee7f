"""Queries behind the console, always scoped to the cities a user is a member of."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session, selectinload

from surveyapp import designs
from surveyapp.models import (
    Area,
    AuditEvent,
    City,
    Initiative,
    Membership,
    Response,
    ResponseStatus,
    User,
    Wave,
)


@dataclass(frozen=True)
class WaveSummary:
    """A wave with its response counts."""

    wave: Wave
    completed: int
    drafts: int


def memberships(session: Session, user: User) -> list[Membership]:
    """The user's memberships with their cities, by city name."""
    return list(
        session.scalars(
            select(Membership)
            .join(City)
            .where(Membership.user_id == user.id)
            .options(selectinload(Membership.city))
            .order_by(City.name)
        )
    )


def wave_summaries(
    session: Session, waves: list[Wave], areas: list[int] | None = None
) -> list[WaveSummary]:
    """The waves with their completed and unfinished response counts; with ``areas`` (an
    initiative's design areas), a city-wide round's counts are those in these areas only."""
    counts: dict[tuple[int, str], int] = {}
    if waves:
        rounds = [wave.id for wave in waves if wave.initiative_id is None]
        rows = session.execute(
            select(Response.wave_id, Response.status, func.count())
            .where(
                Response.wave_id.in_([wave.id for wave in waves]),
                designs.round_rows(rounds, areas) if areas is not None else true(),
            )
            .group_by(Response.wave_id, Response.status)
        )
        counts = {(wave_id, status): n for wave_id, status, n in rows}
    return [
        WaveSummary(
            wave,
            counts.get((wave.id, ResponseStatus.COMPLETE), 0),
            counts.get((wave.id, ResponseStatus.DRAFT), 0),
        )
        for wave in waves
    ]


def city_initiatives(session: Session, city_id: int) -> list[tuple[Initiative, list[WaveSummary]]]:
    """Initiatives of one city, by pyramid level then name, with their waves' counts: their
    own waves and the city-wide rounds that evaluate them (counted in their areas)."""
    initiatives = list(
        session.scalars(
            select(Initiative)
            .where(Initiative.city_id == city_id)
            .options(selectinload(Initiative.waves))
            .order_by(Initiative.pyramid_level, Initiative.name)
        )
    )
    return [
        (
            initiative,
            wave_summaries(
                session,
                designs.waves_for_initiative(session, initiative),
                list(designs.area_groups(session, initiative)),
            ),
        )
        for initiative in initiatives
    ]


def city_by_slug(session: Session, slug: str) -> City | None:
    """The city with this slug (the short name commands use), if any."""
    return session.scalar(select(City).where(City.slug == slug))


def audit_events(session: Session, city_id: int, limit: int) -> list[AuditEvent]:
    """The city's audit log, newest first, at most ``limit`` events."""
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.city_id == city_id)
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )


def audit_object_names(
    session: Session, city_id: int, events: list[AuditEvent]
) -> dict[tuple[str, str], str]:
    """Names of the city's waves, initiatives and areas the ``events`` are about, keyed by
    (object type, id as recorded), so the audit log names them instead of numbering them."""
    wanted: dict[str, set[int]] = {"wave": set(), "initiative": set(), "area": set(), "user": set()}
    for event in events:
        if event.object_type in wanted and str(event.object_id or "").isdigit():
            wanted[event.object_type].add(int(event.object_id))
    names: dict[tuple[str, str], str] = {}
    for kind, model in (("wave", Wave), ("initiative", Initiative), ("area", Area)):
        if not wanted[kind]:
            continue
        rows = session.execute(
            select(model.id, model.name).where(model.id.in_(wanted[kind]), model.city_id == city_id)
        )
        for object_id, name in rows:
            names[(kind, str(object_id))] = name
    if wanted["user"]:  # colleagues of this city, by the name they gave
        members = session.execute(
            select(User.id, User.display_name, User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(User.id.in_(wanted["user"]), Membership.city_id == city_id)
        )
        for user_id, display_name, email in members:
            names[("user", str(user_id))] = display_name or email
    return names
