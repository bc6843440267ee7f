"""Resident-side rules: which waves accept answers, reading a submitted form, saving it.

Views stay thin; everything here works on a SQLAlchemy session and plain values so that it
can be tested without HTTP.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from surveyapp.db import utcnow
from surveyapp.instruments import Instrument, Item, Section
from surveyapp.models import (
    Answer,
    Channel,
    Invitation,
    Response,
    ResponseStatus,
    Wave,
    WaveMode,
    WaveStatus,
)
from surveyapp.respond.codes import hash_code

MAX_TEXT_LENGTH = 1000


class Unavailable(enum.StrEnum):
    """Why a wave or code cannot be answered; each has its own page for the resident."""

    UNKNOWN = "unknown"
    NOT_YET_OPEN = "not_yet_open"
    CLOSED = "closed"
    CODE_USED = "code_used"


def availability(wave: Wave | None, now: datetime | None = None) -> Unavailable | None:
    """None when the wave accepts answers now, else the reason it does not."""
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


def invitation_by_code(session: Session, code: str) -> Invitation | None:
    """The invitation for a typed or scanned code (case and dashes do not matter)."""
    return session.scalar(select(Invitation).where(Invitation.code_hash == hash_code(code)))


_INSTRUMENTS: dict[str, Instrument] = {}


def wave_instrument(wave: Wave) -> Instrument:
    """The validated instrument definition the wave uses (cached per content hash)."""
    row = wave.instrument
    instrument = _INSTRUMENTS.get(row.content_hash)
    if instrument is None:
        instrument = Instrument.from_definition(row.definition)
        _INSTRUMENTS[row.content_hash] = instrument
    return instrument


def wave_sections(wave: Wave) -> tuple[Section, ...]:
    """The sections residents answer in this wave: core plus the wave's modules."""
    return wave_instrument(wave).sections_for(wave.modules or [])


@dataclass
class ParsedForm:
    """Answers read from a submitted questionnaire, and the problems found, by item id."""

    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _codes(options: Iterable[Any]) -> set[int]:
    return {option.code for option in options}


def _as_int(raw: str) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def _is_shown(item: Item, values: Mapping[str, dict[str, Any]]) -> bool:
    if item.show_if is None:
        return True
    answer = values.get(item.show_if.item, {})
    return answer.get("value_code") in set(item.show_if.codes)


def parse_form(sections: Iterable[Section], form: Any) -> ParsedForm:
    """Read and check every item's answer from a form (a werkzeug MultiDict or similar).

    Field names are ``q-<item id>``; number items take a missing-value code from
    ``q-<item id>-missing``. Items hidden by their display condition are ignored.
    """
    parsed = ParsedForm()
    for section in sections:
        for item in section.items:
            if not _is_shown(item, parsed.values):
                continue
            value, error = _parse_item(item, form)
            if error:
                parsed.errors[item.id] = error
            elif value is not None:
                parsed.values[item.id] = value
            elif item.required:
                parsed.errors[item.id] = "missing"
    return parsed


def _parse_item(item: Item, form: Any) -> tuple[dict[str, Any] | None, str | None]:
    name = f"q-{item.id}"
    missing = _codes(item.missing_options)
    if item.type in ("scale", "single_choice", "yes_no"):
        raw = (form.get(name) or "").strip()
        if not raw:
            return None, None
        code = _as_int(raw)
        if code is None or code not in _codes(item.options) | missing:
            return None, "invalid_choice"
        return {"value_code": code}, None
    if item.type == "multiple_choice":
        raws = [r for r in form.getlist(name) if r.strip()]
        if not raws:
            return None, None
        codes = [_as_int(r) for r in raws]
        if any(c is None for c in codes):
            return None, "invalid_choice"
        chosen = sorted(set(codes))
        if not set(chosen) <= _codes(item.options) | missing:
            return None, "invalid_choice"
        if set(chosen) & missing:
            if len(chosen) > 1:
                return None, "missing_with_answer"
            return {"value_code": chosen[0]}, None
        return {"value_codes": chosen}, None
    if item.type == "number":
        raw = (form.get(name) or "").strip()
        missing_raw = (form.get(f"{name}-missing") or "").strip()
        if raw:
            try:
                number = float(raw.replace(",", "."))
            except ValueError:
                return None, "not_a_number"
            if not math.isfinite(number):
                return None, "not_a_number"
            if (item.min is not None and number < item.min) or (
                item.max is not None and number > item.max
            ):
                return None, "out_of_range"
            return {"value_number": number}, None
        if missing_raw:
            code = _as_int(missing_raw)
            if code not in missing:
                return None, "invalid_choice"
            return {"value_code": code}, None
        return None, None
    # short_text
    text = (form.get(name) or "").strip()
    if not text:
        return None, None
    if len(text) > MAX_TEXT_LENGTH:
        return None, "too_long"
    return {"value_text": text}, None


class CodeAlreadyUsed(Exception):
    """The invitation was used by another submission while this one was being answered."""


def submit_response(
    session: Session,
    *,
    wave: Wave,
    language: str,
    idempotency_key: str,
    values: Mapping[str, Mapping[str, Any]],
    invitation: Invitation | None = None,
    area_id: int | None = None,
    started_at: datetime | None = None,
) -> Response:
    """Save a complete response and its answers in one transaction, exactly once.

    A retried submission with the same ``idempotency_key`` returns the response saved the
    first time. With an invitation the code is marked used in the same transaction; a code
    used concurrently raises :class:`CodeAlreadyUsed` and nothing is saved.
    """
    existing = session.scalar(select(Response).where(Response.idempotency_key == idempotency_key))
    if existing is not None:
        return existing
    now = utcnow()
    response = Response(
        wave_id=wave.id,
        area_id=invitation.area_id if invitation is not None else area_id,
        language=language,
        channel=Channel.INVITATION if invitation is not None else Channel.OPEN_LINK,
        status=ResponseStatus.COMPLETE,
        started_at=started_at or now,
        last_saved_at=now,
        submitted_at=now,
        idempotency_key=idempotency_key,
        panel_id=invitation.panel_id if invitation is not None and wave.is_panel else None,
        quality_flags=[],
        answers=[
            Answer(item_id=item_id, saved_at=now, **value) for item_id, value in values.items()
        ],
    )
    try:
        if invitation is not None:
            # Compare-and-set: only one submission can flip used_at from NULL.
            claimed = session.execute(
                update(Invitation)
                .where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
                .values(used_at=now)
            ).rowcount
            if claimed != 1:
                session.rollback()
                raise CodeAlreadyUsed
        session.add(response)
        session.commit()
    except IntegrityError:
        # The same idempotency key won a race in another request: return that response.
        session.rollback()
        existing = session.scalar(
            select(Response).where(Response.idempotency_key == idempotency_key)
        )
        if existing is None:
            raise
        return existing
    return response
