"""Whether a wave or an invitation code can be answered now, and finding them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from surveyapp.db import utcnow
from surveyapp.models import AreaLink, Invitation, Wave, WaveMode, WaveStatus
from surveyapp.respond.codes import hash_code


class Unavailable(enum.StrEnum):
    """Why a wave or code cannot be answered; each has its own page for the resident."""

    UNKNOWN = "unknown"
    NOT_YET_OPEN = "not_yet_open"
    CLOSED = "closed"
    CODE_USED = "code_used"


def availability(wave: Any, now: datetime | None = None) -> Unavailable | None:
    """None when the wave (a Wave or a draft's wave state) accepts answers now, else why not."""
    now = now or utcnow()
    if wave is None or wave.status == WaveStatus.DRAFT:
        return Unavailable.UNKNOWN
    if wave.status in (WaveStatus.CLOSED, WaveStatus.ARCHIVED):
        return Unavailable.CLOSED
    if wave.opens_at is not None and now < wave.opens_at:
        return Unavailable.NOT_YET_OPEN
    if wave.closes_at is not None and now >= wave.closes_at:
        return Unavailable.CLOSED
    return None


def wave_by_open_token(session: Session, token: str) -> Wave | None:
    """The wave whose open link carries ``token``, if open links are allowed for it."""
    wave = session.scalar(select(Wave).where(Wave.open_token == token))
    if wave is None or wave.mode == WaveMode.INVITATION:
        return None
    return wave


def open_link_target(session: Session, token: str) -> tuple[Wave | None, int | None]:
    """The wave (and area, for an area's own link) that an open link ``/w/<token>`` opens.

    A wave's wave-wide token gives ``(wave, None)``; an area link's token the wave and the
    area's id; anything else, or a wave without open links, ``(None, None)``.
    """
    wave = wave_by_open_token(session, token)
    if wave is not None:
        return wave, None
    link = session.scalar(
        select(AreaLink).where(AreaLink.token == token).options(joinedload(AreaLink.wave))
    )
    if link is None or link.wave.mode == WaveMode.INVITATION:
        return None, None
    return link.wave, link.area_id


def invitation_by_code(session: Session, code: str) -> Invitation | None:
    """The invitation for a typed or scanned code (case and dashes do not matter)."""
    return session.scalar(
        select(Invitation)
        .where(Invitation.code_hash == hash_code(code))
        .options(joinedload(Invitation.wave, innerjoin=True))
    )
