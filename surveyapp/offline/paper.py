"""Entering paper questionnaires in the console, once or twice (double entry).

In double entry, two people enter the same sheet under its sheet number; the response is
stored only when their entries agree, or once a third look at the sheet resolved every
disagreement. Until then the entries wait in :class:`~surveyapp.models.PaperEntry` and are
deleted when the response is stored.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.instruments import Section
from surveyapp.models import Area, Channel, PaperEntry, User, Wave
from surveyapp.offline.importing import offline_key, store_response
from surveyapp.offline.submissions import Submission, form_values
from surveyapp.respond.codes import normalize_code, resume_hash


@dataclass
class Sheet:
    """What a person typed from one paper questionnaire."""

    values: dict[str, dict[str, Any]]
    area: Area | None
    sheet: str = ""
    code: str = ""
    #: ``paper`` (filled in by the resident) or ``interviewer`` (read out and noted).
    channel: str = Channel.PAPER


@dataclass
class Outcome:
    """What entering a sheet led to."""

    stored: bool = False
    waiting: bool = False
    refused: str | None = None
    disagreements: list[tuple[str, Any, Any]] = field(default_factory=list)


def paper_form(sections: tuple[Section, ...], form: Any) -> list[tuple[str, str]]:
    """The entry form as the web questionnaire's parsers read it: a number item's typed
    missing-value code (``-2``) becomes its "missing" field."""
    pairs: list[tuple[str, str]] = []
    for section in sections:
        for item in section.items:
            raws = form.getlist(f"q-{item.id}")
            if item.type == "multiple_choice":
                # Typed as codes separated by spaces or commas ("1 3"), or ticked boxes.
                codes = " ".join(raws).replace(",", " ").split()
                pairs += [(f"q-{item.id}", code) for code in codes]
            elif raws:
                pairs += form_values(item, raws[0])
    return pairs


def _store(session: Session, wave: Wave, sheet: Sheet) -> str | None:
    """Store the sheet as a paper response, keyed by its sheet number when it has one."""
    identifier = sheet.sheet or secrets.token_hex(16)
    submission = Submission(row=0, instance_id=identifier, values=sheet.values, code=sheet.code)
    return store_response(
        session,
        wave,
        submission,
        channel=sheet.channel,
        key=offline_key("paper", wave.id, identifier),
        area=sheet.area,
    )


def sheet_taken(session: Session, wave: Wave, sheet: str) -> bool:
    """Whether a response was already stored under this sheet number."""
    from surveyapp.models import Response

    key = offline_key("paper", wave.id, sheet)
    return session.scalar(select(Response.id).where(Response.idempotency_key == key)) is not None


def disagreements(first: PaperEntry, second: PaperEntry) -> list[tuple[str, Any, Any]]:
    """(what, first value, second value) for every answer, area or code that differs."""
    found: list[tuple[str, Any, Any]] = []
    if first.area_id != second.area_id:
        found.append(("area", first.area_id, second.area_id))
    if first.code_hash != second.code_hash:
        found.append(("code", "…", "…"))
    for item_id in sorted(set(first.answer_values) | set(second.answer_values)):
        a, b = first.answer_values.get(item_id), second.answer_values.get(item_id)
        if a != b:
            found.append((item_id, shown_value(a), shown_value(b)))
    return found


def shown_value(value: dict[str, Any] | None) -> str:
    """An answer as typed in the entry form (codes separated by spaces)."""
    if not value:
        return ""
    (only,) = value.values()
    return " ".join(map(str, only)) if isinstance(only, list) else str(only)


def pending(session: Session, wave: Wave, sheet: str) -> list[PaperEntry]:
    """The entries of the sheet waiting in double entry, oldest first."""
    return list(
        session.scalars(
            select(PaperEntry)
            .where(PaperEntry.wave_id == wave.id, PaperEntry.sheet == sheet)
            .order_by(PaperEntry.id)
        )
    )


def enter_sheet(
    session: Session, wave: Wave, user: User, sheet: Sheet, *, double: bool = False
) -> Outcome:
    """Enter one sheet (not committed): store it, or in double entry wait for the second
    entry, or report where two entries disagree."""
    if sheet.sheet and sheet_taken(session, wave, sheet.sheet):
        return Outcome(refused="sheet_taken")
    if not double:
        reason = _store(session, wave, sheet)
        return Outcome(stored=reason is None, refused=reason)
    entries = pending(session, wave, sheet.sheet)
    if any(entry.entered_by == user.id for entry in entries):
        return Outcome(refused="same_person")
    entry = PaperEntry(
        wave_id=wave.id,
        sheet=sheet.sheet,
        entered_by=user.id,
        area_id=sheet.area.id if sheet.area else None,
        code_hash=resume_hash(f"paper:{normalize_code(sheet.code)}") if sheet.code else None,
        answer_values=sheet.values,
    )
    if not entries:
        session.add(entry)
        session.flush()
        return Outcome(waiting=True)
    differences = disagreements(entries[0], entry)
    if differences:
        if len(entries) == 1:
            session.add(entry)
            session.flush()
        return Outcome(disagreements=differences)
    return resolve(session, wave, sheet)


def resolve(session: Session, wave: Wave, sheet: Sheet) -> Outcome:
    """Store the sheet as finally read and drop its waiting entries."""
    reason = _store(session, wave, sheet)
    if reason is not None:
        return Outcome(refused=reason)
    for entry in pending(session, wave, sheet.sheet):
        session.delete(entry)
    session.flush()
    return Outcome(stored=True)
