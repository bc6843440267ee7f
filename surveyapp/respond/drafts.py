"""Residents' drafts: started after consent, found by a keyed hash of the code or resume
token, read for a page with their wave and answers, and flagged when the wave closes.

Every path that shows or saves a page works on one shape, :class:`Draft`: the ORM path and
the direct PostgreSQL save (``pg_save``) read the same columns into it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from surveyapp.db import utcnow
from surveyapp.instruments.registry import is_loaded, wave_instrument
from surveyapp.models import (
    WAVE_CLOSED_WHILE_DRAFT,
    Answer,
    AreaSource,
    Channel,
    Invitation,
    Response,
    ResponseStatus,
    Wave,
)
from surveyapp.respond.codes import resume_hash
from surveyapp.respond.panel import panel_id

#: An answer's value columns; exactly one is filled.
VALUE_COLUMNS = ("value_code", "value_codes", "value_number", "value_text")


@dataclass
class WaveState:
    """The parts of a wave that answering reads: the same names as :class:`Wave`'s."""

    id: int
    status: str
    opens_at: datetime | None
    closes_at: datetime | None
    languages: list[str]
    modules: list[str]
    frozen_instrument_hash: str


@dataclass
class Draft:
    """A resident's questionnaire as a page reads it: state, wave and saved answers."""

    id: int
    status: str
    quality_flags: list[str]
    page: int
    language: str
    wave: WaveState
    values: dict[str, dict[str, Any]]
    #: When the draft was last saved: a direct save (``pg_save``) writes only if unchanged.
    last_saved_at: datetime | None = None
    #: When it was started: the time taken is kept when it is sent, the time of day is not.
    started_at: datetime | None = None
    #: An open-link draft whose resident has not said yet which area they live in.
    area_pending: bool = False

    @property
    def wave_id(self) -> int:
        """The wave's id, as on :class:`Response`."""
        return self.wave.id


_DRAFT = (
    select(
        Response.id,
        Response.status,
        Response.quality_flags,
        Response.page,
        Response.language,
        Response.last_saved_at,
        Response.started_at,
        Response.channel,
        Response.area_source,
        Wave.id.label("wave_id"),
        Wave.status.label("wave_status"),
        Wave.opens_at,
        Wave.closes_at,
        Wave.languages,
        Wave.modules,
        Wave.frozen_instrument_hash,
        Answer.item_id,
        Answer.value_code,
        Answer.value_codes,
        Answer.value_number,
        Answer.value_text,
    )
    .join(Wave, Wave.id == Response.wave_id)
    .outerjoin(Answer, Answer.response_id == Response.id)
    .where(Response.resume_key_hash == bindparam("resume_key_hash"))
)
_LOCKED_DRAFT = _DRAFT.with_for_update(of=Response.__table__)


def find_draft(session: Session, key: str) -> Draft | None:
    """The draft a resident resumes with their invitation code or resume token."""
    return _read(session, _DRAFT, key)


def lock_draft(session: Session, key: str) -> Draft | None:
    """The draft for ``key``, its row locked until the transaction ends, for a page save.

    One save at a time per questionnaire (two tabs, two taps), and the status read here is
    current. PostgreSQL locks the row; SQLite's writers are serialised anyway.
    """
    return _read(session, _LOCKED_DRAFT, key)


def _read(session: Session, query: Any, key: str) -> Draft | None:
    rows = session.connection().execute(query, {"resume_key_hash": resume_hash(key)}).all()
    if not rows:
        return None
    first = rows[0]
    if not is_loaded(first.frozen_instrument_hash):
        wave_instrument(session.get(Wave, first.wave_id))  # the first page of this wave here
    values: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row.item_id is None:
            continue  # the outer join's row for a draft without answers
        for column in VALUE_COLUMNS:
            value = getattr(row, column)
            if value is not None:
                values[row.item_id] = {column: value}
    return Draft(
        id=first.id,
        status=first.status,
        quality_flags=list(first.quality_flags or []),
        page=first.page,
        language=first.language,
        wave=WaveState(
            id=first.wave_id,
            status=first.wave_status,
            opens_at=first.opens_at,
            closes_at=first.closes_at,
            languages=list(first.languages or []),
            modules=list(first.modules or []),
            frozen_instrument_hash=first.frozen_instrument_hash,
        ),
        values=values,
        last_saved_at=first.last_saved_at,
        started_at=first.started_at,
        area_pending=area_pending(first.channel, first.area_source),
    )


def area_pending(channel: str, area_source: str | None) -> bool:
    """True for an open-link draft whose area is not known yet: it asks for it first."""
    return channel == Channel.OPEN_LINK and area_source is None


def start_draft(
    session: Session,
    *,
    wave: Wave,
    language: str,
    resume_key: str,
    idempotency_key: str,
    invitation: Invitation | None = None,
    area_id: int | None = None,
) -> Response:
    """Create the resident's draft after consent, exactly once per key and per resume key.

    Its area is the invitation's (source ``letter``), else ``area_id``, the area of the area
    link it came through (source ``area_link``), else not known yet (asked on its first step).
    """
    existing = session.scalar(select(Response).where(Response.idempotency_key == idempotency_key))
    if existing is not None:
        return existing
    existing = _draft_row(session, resume_key)
    if existing is not None:
        return existing
    now = utcnow()
    if invitation is not None:
        area_id, area_source = invitation.area_id, AreaSource.LETTER
    else:
        area_source = AreaSource.AREA_LINK if area_id is not None else None
    response = Response(
        wave_id=wave.id,
        area_id=area_id,
        area_source=area_source,
        language=language,
        channel=Channel.INVITATION if invitation is not None else Channel.OPEN_LINK,
        status=ResponseStatus.DRAFT,
        started_at=now,
        started_on=now.date(),
        idempotency_key=idempotency_key,
        panel_id=_panel_id(wave, invitation),
        quality_flags=[],
        resume_key_hash=resume_hash(resume_key),
        page=1,
    )
    session.add(response)
    try:
        session.commit()
    except IntegrityError:
        # A double tap, or the same code opened on two devices at once: one draft wins.
        session.rollback()
        winner = session.scalar(
            select(Response).where(Response.idempotency_key == idempotency_key)
        ) or _draft_row(session, resume_key)
        if winner is None:
            raise
        return winner
    return response


def _panel_id(wave: Wave, invitation: Invitation | None) -> str | None:
    """A keyed hash of the letter's panel seed: never a value the invitation row holds."""
    if invitation is None or not wave.is_panel or not invitation.panel_seed:
        return None
    return panel_id(invitation.panel_seed)


def _draft_row(session: Session, resume_key: str) -> Response | None:
    return session.scalar(
        select(Response).where(Response.resume_key_hash == resume_hash(resume_key))
    )


def saved_values(draft: Draft) -> dict[str, dict[str, Any]]:
    """The draft's saved answers as ``{item_id: {column: value}}``."""
    return dict(draft.values)


_STORED_ANSWERS = select(
    Answer.item_id, Answer.value_code, Answer.value_codes, Answer.value_number, Answer.value_text
).where(Answer.response_id == bindparam("response_id"))


def stored_values(session: Session, response_id: int) -> dict[str, dict[str, Any]]:
    """A response's saved answers as ``{item_id: {column: value}}``, read without the ORM."""
    rows = session.connection().execute(_STORED_ANSWERS, {"response_id": response_id})
    values: dict[str, dict[str, Any]] = {}
    for row in rows:
        for column in VALUE_COLUMNS:
            value = getattr(row, column)
            if value is not None:
                values[row.item_id] = {column: value}
    return values


def flag_drafts_of_closed_wave(session: Session, wave: Wave) -> int:
    """Mark the wave's unfinished drafts, which stay saved, when it closes. Not committed."""
    drafts = session.scalars(
        select(Response).where(Response.wave_id == wave.id, Response.status == ResponseStatus.DRAFT)
    ).all()
    for draft in drafts:
        if WAVE_CLOSED_WHILE_DRAFT not in (draft.quality_flags or []):
            draft.quality_flags = [*(draft.quality_flags or []), WAVE_CLOSED_WHILE_DRAFT]
    return len(drafts)
