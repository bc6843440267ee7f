"""Resident-side rules: which waves accept answers, reading a submitted form, saving it.

Views stay thin; everything here works on a SQLAlchemy session and plain values so that it
can be tested without HTTP.
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from surveyapp.db import utcnow
from surveyapp.instruments import Instrument, Item, Section
from surveyapp.models import (
    Answer,
    Channel,
    Invitation,
    PageSubmission,
    Response,
    ResponseStatus,
    Wave,
    WaveMode,
    WaveStatus,
)
from surveyapp.respond import used_codes
from surveyapp.respond.codes import hash_code, resume_hash

MAX_TEXT_LENGTH = 1000
#: An answer's value columns; exactly one is filled.
_VALUE_COLUMNS = ("value_code", "value_codes", "value_number", "value_text")


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
    return session.scalar(
        select(Invitation)
        .where(Invitation.code_hash == hash_code(code))
        .options(joinedload(Invitation.wave, innerjoin=True))
    )


_INSTRUMENTS: dict[str, Instrument] = {}


def wave_instrument(wave: Wave) -> Instrument:
    """The validated instrument definition the wave uses (cached per content hash)."""
    # An opened wave names its frozen version: no need to load the stored definition.
    if wave.frozen_instrument_hash in _INSTRUMENTS:
        return _INSTRUMENTS[wave.frozen_instrument_hash]
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


def is_shown(item: Item, values: Mapping[str, dict[str, Any]]) -> bool:
    """Whether the item's display condition holds for the answers known so far."""
    if item.show_if is None:
        return True
    answer = values.get(item.show_if.item, {})
    codes = set(item.show_if.codes)
    # As in the XLSForm export: a chosen option or a number equal to a listed value, and for
    # multiple choice any one of the chosen options.
    if answer.get("value_code") in codes or answer.get("value_number") in codes:
        return True
    return bool(codes & set(answer.get("value_codes") or ()))


def parse_form(
    sections: Iterable[Section],
    form: Any,
    context: Mapping[str, dict[str, Any]] | None = None,
    *,
    require: bool = True,
) -> ParsedForm:
    """Read and check every item's answer from a form (a werkzeug MultiDict or similar).

    Field names are ``q-<item id>``; number items take a missing-value code from
    ``q-<item id>-missing``. Items hidden by their display condition are ignored; the
    condition may refer to an answer in ``context`` (earlier pages). With ``require=False``
    required items left empty are not an error (going back, switching language).
    """
    parsed = ParsedForm()
    known = dict(context or {})
    for section in sections:
        for item in section.items:
            known.pop(item.id, None)
            if not is_shown(item, known):
                continue
            value, error = _parse_item(item, form)
            if error:
                parsed.errors[item.id] = error
            elif value is not None:
                parsed.values[item.id] = value
                known[item.id] = value
            elif item.required and require:
                parsed.errors[item.id] = "missing"
    return parsed


def unknown_fields(sections: Iterable[Section], form: Any) -> list[str]:
    """Question fields in ``form`` that name no item of ``sections`` (forged or stale)."""
    names = set()
    for section in sections:
        for item in section.items:
            names |= {f"q-{item.id}", f"q-{item.id}-missing"}
    return sorted(key for key in form if key.startswith("q-") and key not in names)


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


# --- Page-by-page answering with drafts saved on the server -------------------------------

# A page save is a handful of rows: plain statements, built once (SQLAlchemy then reuses
# their compiled form without rebuilding them per request) and run on the session's
# connection, not through the unit of work.
_LOCK_DRAFT = (
    select(Response.status, Response.quality_flags)
    .where(Response.id == bindparam("response_id"))
    .with_for_update()
)
_STORED_ANSWERS = select(
    Answer.item_id, Answer.value_code, Answer.value_codes, Answer.value_number, Answer.value_text
).where(Answer.response_id == bindparam("response_id"))
_RECORD_SUBMISSION = insert(PageSubmission.__table__)
_REMOVE_ANSWERS = delete(Answer.__table__).where(
    Answer.response_id == bindparam("response_id"),
    Answer.item_id.in_(bindparam("item_ids", expanding=True)),
)
_WRITE_ANSWER = insert(Answer.__table__)

#: ``outcome_page`` of a submission that completed the questionnaire.
COMPLETE = 0


def sent_state(started_at: datetime | None, now: datetime) -> dict[str, Any]:
    """The columns a questionnaire gets when it is sent.

    Only the day it was sent and how long it took are kept: the exact times of starting and
    of the last save are erased, so that no time of day can be matched to anything else
    (nothing stored says when an invitation code was used either).
    """
    duration = None if started_at is None else max(0, round((now - started_at).total_seconds()))
    return {
        "status": ResponseStatus.COMPLETE,
        "submitted_on": now.date(),
        "duration_seconds": duration,
        "started_at": None,
        "last_saved_at": None,
        "resume_key_hash": None,
    }


def find_draft(session: Session, key: str, *, lock: bool = False) -> Response | None:
    """The draft a resident resumes with their invitation code or resume token.

    With ``lock=True`` the draft's row is locked until the transaction ends (PostgreSQL;
    SQLite writers are serialised anyway): the lock :func:`save_page` needs, taken in the
    same round trip that finds the draft.
    """
    query = (
        select(Response)
        .where(Response.resume_key_hash == resume_hash(key))
        .options(joinedload(Response.wave, innerjoin=True))
    )
    if lock:
        query = query.with_for_update(of=Response)
    return session.scalar(query)


@dataclass
class WaveState:
    """The parts of a wave that a page save reads: the same names as :class:`Wave`'s."""

    id: int
    status: str
    opens_at: datetime | None
    closes_at: datetime | None
    languages: list[str]
    modules: list[str]
    frozen_instrument_hash: str


@dataclass
class LockedDraft:
    """A draft read for a page save, its row locked, with its wave and saved answers.

    It stands in for the :class:`Response` (same attribute names) on the save path: one
    query instead of the ORM loading the draft, its wave and its answers.
    """

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

    @property
    def wave_id(self) -> int:
        """The wave's id, as on :class:`Response`."""
        return self.wave.id


_DRAFT_FOR_SAVE = (
    select(
        Response.id,
        Response.status,
        Response.quality_flags,
        Response.page,
        Response.language,
        Response.last_saved_at,
        Response.started_at,
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
    .with_for_update(of=Response.__table__)
)


def lock_draft(session: Session, key: str) -> LockedDraft | Response | None:
    """The draft for ``key``, locked for a page save, with its wave and answers in one query.

    The lock is the one :func:`save_page` needs (``locked=True``): one save at a time per
    questionnaire, and the status read here is current. A wave whose questionnaire this
    process has not read yet (the first save after a start) is loaded the ordinary way.
    """
    rows = session.connection().execute(_DRAFT_FOR_SAVE, {"resume_key_hash": resume_hash(key)})
    rows = rows.all()
    if not rows:
        return None
    first = rows[0]
    if first.frozen_instrument_hash not in _INSTRUMENTS:
        return find_draft(session, key, lock=True)
    values: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row.item_id is None:
            continue  # the outer join's row for a draft without answers
        for column in _VALUE_COLUMNS:
            value = getattr(row, column)
            if value is not None:
                values[row.item_id] = {column: value}
    return LockedDraft(
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
    )


def start_draft(
    session: Session,
    *,
    wave: Wave,
    language: str,
    resume_key: str,
    idempotency_key: str,
    invitation: Invitation | None = None,
) -> Response:
    """Create the resident's draft after consent, exactly once per key and per resume key."""
    existing = session.scalar(select(Response).where(Response.idempotency_key == idempotency_key))
    if existing is not None:
        return existing
    existing = find_draft(session, resume_key)
    if existing is not None:
        return existing
    response = Response(
        wave_id=wave.id,
        area_id=invitation.area_id if invitation is not None else None,
        language=language,
        channel=Channel.INVITATION if invitation is not None else Channel.OPEN_LINK,
        status=ResponseStatus.DRAFT,
        started_at=utcnow(),
        started_on=utcnow().date(),
        idempotency_key=idempotency_key,
        panel_id=invitation.panel_id if invitation is not None and wave.is_panel else None,
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
        ) or find_draft(session, resume_key)
        if winner is None:
            raise
        return winner
    return response


def saved_values(response: Response | LockedDraft) -> dict[str, dict[str, Any]]:
    """The response's saved answers as ``{item_id: {column: value}}``."""
    if isinstance(response, LockedDraft):
        return dict(response.values)
    values: dict[str, dict[str, Any]] = {}
    for answer in response.answers:
        for column in _VALUE_COLUMNS:
            value = getattr(answer, column)
            if value is not None:
                values[answer.item_id] = {column: value}
    return values


def shown_items(section: Section, values: Mapping[str, dict[str, Any]]) -> list[Item]:
    """The section's items whose display condition holds for the answers known so far."""
    return [item for item in section.items if is_shown(item, values)]


def step(
    sections: tuple[Section, ...], page: int, values: Mapping[str, dict[str, Any]], direction: int
) -> int:
    """The next (``direction=1``) or previous (-1) page with a question to show.

    Beyond the last page this is :data:`COMPLETE`; before the first it is page 1.
    """
    candidate = page + direction
    while 1 <= candidate <= len(sections):
        if shown_items(sections[candidate - 1], values):
            return candidate
        candidate += direction
    return COMPLETE if direction > 0 else 1


def first_incomplete_page(
    sections: tuple[Section, ...], values: Mapping[str, dict[str, Any]]
) -> int | None:
    """The first page with a required, shown item still unanswered, if any."""
    for number, section in enumerate(sections, start=1):
        if any(item.required and item.id not in values for item in shown_items(section, values)):
            return number
    return None


class ForeignSubmission(Exception):
    """An idempotency key that belongs to another resident's questionnaire."""


class DraftChanged(Exception):
    """Another save of the questionnaire came between reading it and writing: read it again."""


@dataclass
class PageResult:
    """What a page POST led to: the page to show next (or COMPLETE), or errors to fix."""

    outcome_page: int | None = None
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    duplicate: bool = False


def save_page(
    session: Session,
    *,
    response: Response | LockedDraft,
    sections: tuple[Section, ...],
    page: int,
    form: Any,
    idempotency_key: str,
    action: str,
    language: str,
    invitation: Invitation | None = None,
    completion_flags: Iterable[str] = (),
    locked: bool = False,
    direct: Any = None,
) -> PageResult:
    """Save one page's answers and move the resident on, exactly once per key.

    ``action`` is ``next`` (required items must be answered; after the last page the
    questionnaire is sent), ``back`` or ``stay`` (switching language), which save what is
    valid without requiring anything. Nothing is saved when an answer is invalid. Sending
    is atomic: the last page, the completion and the invitation's use commit together.
    ``locked=True`` says that ``response`` was read with ``find_draft(..., lock=True)`` in
    this transaction, so its status and flags are current and its row is already locked.
    ``direct`` is a :class:`~surveyapp.respond.pg_save.DirectConnection` that read
    ``response`` without a lock: the write then happens only if the draft is unchanged
    since, else :class:`DraftChanged` is raised and nothing is written.
    """
    connection = session.connection() if direct is None else None
    if locked or direct is not None:
        status, quality_flags = response.status, response.quality_flags
    else:
        # One save at a time per questionnaire (two tabs, two taps): lock the draft's row
        # and read what an earlier save, waited for here, may have changed.
        state = connection.execute(_LOCK_DRAFT, {"response_id": response.id}).first()
        status, quality_flags = (None, None) if state is None else tuple(state)
    if status != ResponseStatus.DRAFT:
        return _earlier_outcome(session, response, idempotency_key, direct) or PageResult(
            outcome_page=COMPLETE, duplicate=True
        )
    section = sections[page - 1]
    context = (
        dict(response.values)
        if isinstance(response, LockedDraft)
        else stored_values(session, response.id)
    )
    parsed = parse_form([section], form, context, require=action == "next")
    if parsed.errors:
        if direct is None:
            session.rollback()
        return PageResult(errors=parsed.errors, values=parsed.values)

    page_ids = {item.id for item in section.items}
    values = {k: v for k, v in context.items() if k not in page_ids}
    values.update(parsed.values)
    if action == "next":
        outcome = step(sections, page, values, 1)
        if outcome == COMPLETE:
            missing = first_incomplete_page(sections, values)
            if missing is not None:
                outcome = missing
    elif action == "back":
        outcome = step(sections, page, values, -1)
    else:
        outcome = page

    # Plain statements, not the unit of work: a page save is a handful of rows.
    now = utcnow()
    remove = set(page_ids)
    if outcome == COMPLETE:
        remove |= set(context) - _shown_ids(sections, values)
    changes: dict[str, Any] = {"language": language, "last_saved_at": now}
    if outcome == COMPLETE:
        flags = list(quality_flags or [])
        flags += [f for f in completion_flags if f not in flags]
        changes |= sent_state(response.started_at, now) | {"quality_flags": flags}
    else:
        changes["page"] = outcome
    answers = [
        {
            "response_id": response.id,
            "item_id": item_id,
            "value_code": value.get("value_code"),
            "value_codes": value.get("value_codes"),
            "value_number": value.get("value_number"),
            "value_text": value.get("value_text"),
        }
        for item_id, value in parsed.values.items()
    ]
    submission = {
        "idempotency_key": idempotency_key,
        "response_id": response.id,
        "page": page,
        "outcome_page": outcome,
    }
    if direct is not None:
        try:
            _write_page_direct(
                direct,
                submission,
                sorted(remove),
                answers,
                changes,
                seen=response.last_saved_at,
                invitation=invitation if outcome == COMPLETE else None,
            )
        except IntegrityError:
            earlier = _earlier_outcome(session, response, idempotency_key, direct)
            if earlier is None:
                raise
            return earlier
        return PageResult(outcome_page=outcome)
    try:
        if (
            outcome == COMPLETE
            and invitation is not None
            and not used_codes.claim(connection, invitation)
        ):
            session.rollback()
            raise CodeAlreadyUsed
        _write_page(connection, submission, sorted(remove), answers, changes)
        session.commit()
    except IntegrityError:
        # The key was used before (a retry, a double tap): answer with that save's outcome.
        session.rollback()
        earlier = _earlier_outcome(session, response, idempotency_key)
        if earlier is None:
            raise
        return earlier
    if isinstance(response, Response):
        session.expire(response)
    return PageResult(outcome_page=outcome)


def _write_page(
    connection: Connection,
    submission: dict[str, Any],
    remove: list[str],
    answers: list[dict[str, Any]],
    changes: dict[str, Any],
) -> None:
    """Record the page's key, replace its answers and update the draft (not committed).

    A repeated idempotency key raises IntegrityError and writes nothing. On PostgreSQL the
    four writes are one statement (data-modifying CTEs: one round trip to the server); on
    SQLite, which has no such CTEs and no network, they are four.
    """
    response_id = submission["response_id"]
    if connection.dialect.name != "postgresql":
        # The key first: a repeated key fails here, before anything else is written.
        connection.execute(_RECORD_SUBMISSION, submission)
        connection.execute(_REMOVE_ANSWERS, {"response_id": response_id, "item_ids": remove})
        if answers:
            connection.execute(_WRITE_ANSWER, answers)
        connection.execute(
            update(Response.__table__).where(Response.id == response_id).values(**changes)
        )
        return
    params = _page_write_params(submission, remove, answers, changes)
    # Under the lock taken when the draft was read: no need to compare its version.
    connection.exec_driver_sql(_WRITE_PAGE_POSTGRESQL, {**params, "guard": False, "seen": None})


def _write_page_direct(
    direct: Any,
    submission: dict[str, Any],
    remove: list[str],
    answers: list[dict[str, Any]],
    changes: dict[str, Any],
    *,
    seen: datetime | None,
    invitation: Any,
) -> None:
    """The page's writes on a ``pg_save.DirectConnection``, if the draft is unchanged.

    One statement in autocommit; the last page of an invitation questionnaire also claims
    the code, both in one transaction. Raises :class:`DraftChanged` (nothing written) when
    the draft was saved since it was read, :class:`CodeAlreadyUsed` when the code was.
    """
    params = {**_page_write_params(submission, remove, answers, changes), "guard": True}
    params["seen"] = seen
    if invitation is None:
        if direct.execute(_WRITE_PAGE_POSTGRESQL, params).fetchone()[0] != 1:
            raise DraftChanged
        return
    with direct.transaction():
        claim = used_codes.claim_params(invitation)
        if direct.execute(used_codes.CLAIM_POSTGRESQL, claim).rowcount != 1:
            raise CodeAlreadyUsed
        if direct.execute(_WRITE_PAGE_POSTGRESQL, params).fetchone()[0] != 1:
            raise DraftChanged


def _page_write_params(
    submission: dict[str, Any],
    remove: list[str],
    answers: list[dict[str, Any]],
    changes: dict[str, Any],
) -> dict[str, Any]:
    written = {answer["item_id"] for answer in answers}
    complete = changes.get("status") == ResponseStatus.COMPLETE
    flags = changes.get("quality_flags")
    return {
        **submission,
        # Every part of the statement sees one snapshot: the answers deleted and the
        # answers written must not overlap, so an answer given again is updated in place.
        "remove": [item_id for item_id in remove if item_id not in written],
        **{
            column: [answer[column] for answer in answers]
            for column in ("item_id", "value_code", "value_number", "value_text")
        },
        "value_codes": [
            None if answer["value_codes"] is None else json.dumps(answer["value_codes"])
            for answer in answers
        ],
        "language": changes["language"],
        "saved_at": changes["last_saved_at"],
        "next_page": None if complete else changes["page"],
        "complete": complete,
        "submitted_on": changes.get("submitted_on"),
        "duration_seconds": changes.get("duration_seconds"),
        "quality_flags": None if flags is None else json.dumps(flags),
    }


# PostgreSQL runs the page's four writes as one statement (data-modifying CTEs), in psycopg's
# placeholder style (both paths hand it to the driver as it is): the same text for every
# page, so the server prepares it once per connection. Everything hangs on ``updated``: if
# the draft is no longer a draft, or (``guard``) was saved since ``seen``, nothing is
# written and the count is 0. A repeated idempotency key fails the whole statement.
_WRITE_PAGE_POSTGRESQL = """
WITH updated AS (
    UPDATE responses SET
        language = %(language)s,
        last_saved_at = CAST(%(saved_at)s AS TIMESTAMPTZ),
        page = COALESCE(CAST(%(next_page)s AS INTEGER), page),
        status = CASE WHEN %(complete)s THEN 'complete' ELSE status END,
        started_at = CASE WHEN %(complete)s THEN NULL ELSE started_at END,
        submitted_on = CAST(%(submitted_on)s AS DATE),
        duration_seconds = CAST(%(duration_seconds)s AS INTEGER),
        resume_key_hash = CASE WHEN %(complete)s THEN NULL ELSE resume_key_hash END,
        quality_flags = COALESCE(CAST(%(quality_flags)s AS JSON), quality_flags)
    WHERE id = %(response_id)s AND status = 'draft'
      AND (NOT %(guard)s OR last_saved_at IS NOT DISTINCT FROM CAST(%(seen)s AS TIMESTAMPTZ))
    RETURNING id
), recorded AS (
    INSERT INTO page_submissions (idempotency_key, response_id, page, outcome_page)
    SELECT %(idempotency_key)s, updated.id, %(page)s, %(outcome_page)s
    FROM updated
), removed AS (
    DELETE FROM answers
    WHERE response_id IN (SELECT id FROM updated)
      AND item_id = ANY(CAST(%(remove)s AS TEXT[]))
), written AS (
    INSERT INTO answers
        (response_id, item_id, value_code, value_codes, value_number, value_text)
    SELECT updated.id, given.item_id, given.value_code, CAST(given.value_codes AS JSON),
           given.value_number, given.value_text
    FROM updated, unnest(
        CAST(%(item_id)s AS TEXT[]), CAST(%(value_code)s AS INTEGER[]),
        CAST(%(value_codes)s AS TEXT[]), CAST(%(value_number)s AS FLOAT8[]),
        CAST(%(value_text)s AS TEXT[])
    ) AS given(item_id, value_code, value_codes, value_number, value_text)
    ON CONFLICT (response_id, item_id) DO UPDATE SET
        value_code = excluded.value_code, value_codes = excluded.value_codes,
        value_number = excluded.value_number, value_text = excluded.value_text
)
SELECT count(*) FROM updated
"""
_EARLIER_SUBMISSION_POSTGRESQL = """
SELECT response_id, outcome_page FROM page_submissions WHERE idempotency_key = %(key)s
"""


def _earlier_outcome(
    session: Session, response: Response | LockedDraft, key: str, direct: Any = None
) -> PageResult | None:
    """The outcome of the save that already used ``key``, if any."""
    if direct is not None:
        done = direct.execute(_EARLIER_SUBMISSION_POSTGRESQL, {"key": key}).fetchone()
    else:
        row = session.get(PageSubmission, key)
        done = None if row is None else (row.response_id, row.outcome_page)
    if done is None:
        return None
    if done[0] != response.id:
        raise ForeignSubmission
    return PageResult(outcome_page=done[1], duplicate=True)


def stored_values(session: Session, response_id: int) -> dict[str, dict[str, Any]]:
    """A response's saved answers as ``{item_id: {column: value}}``, read without the ORM."""
    rows = session.connection().execute(_STORED_ANSWERS, {"response_id": response_id})
    values: dict[str, dict[str, Any]] = {}
    for item_id, code, codes, number, free_text in rows:
        for column, value in (
            ("value_code", code),
            ("value_codes", codes),
            ("value_number", number),
            ("value_text", free_text),
        ):
            if value is not None:
                values[item_id] = {column: value}
    return values


def _shown_ids(sections: tuple[Section, ...], values: Mapping[str, dict[str, Any]]) -> set[str]:
    return {item.id for section in sections for item in shown_items(section, values)}


def flag_drafts_of_closed_wave(session: Session, wave: Wave) -> int:
    """Mark the wave's unfinished drafts, which stay saved, when it closes. Not committed."""
    drafts = session.scalars(
        select(Response).where(Response.wave_id == wave.id, Response.status == ResponseStatus.DRAFT)
    ).all()
    for draft in drafts:
        if "wave_closed_while_draft" not in (draft.quality_flags or []):
            draft.quality_flags = [*(draft.quality_flags or []), "wave_closed_while_draft"]
    return len(drafts)
