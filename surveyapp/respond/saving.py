"""Saving a page: one planner decides what a page POST writes, a writer writes it.

:func:`save_page` validates the page, works out where the resident goes next and builds a
:class:`PagePlan` (the page's key, the answers to write and remove, the draft's new state,
the code to claim on sending). Two writers carry plans out: :class:`~surveyapp.respond.
page_writes.SessionWriter` on the request's session (both databases), and on PostgreSQL
:class:`~surveyapp.respond.pg_save.DirectWriter` on a pooled connection in autocommit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError

from surveyapp.db import utcnow
from surveyapp.instruments import Section
from surveyapp.models import ResponseStatus
from surveyapp.respond.drafts import VALUE_COLUMNS, Draft
from surveyapp.respond.fields import parse_form
from surveyapp.respond.navigation import COMPLETE, outcome_of, shown_ids


class CodeAlreadyUsed(Exception):
    """The invitation was used by another submission while this one was being answered."""


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


@dataclass
class PagePlan:
    """Everything one page save writes, in one transaction."""

    #: The page's submission: its idempotency key, the draft, the page and where it led.
    submission: dict[str, Any]
    #: Item ids whose stored answers go (the page's, and on sending those no longer shown).
    remove: list[str]
    #: Answer rows to write (insert or replace).
    answers: list[dict[str, Any]]
    #: The draft's new columns (language, page; on sending its sent state).
    changes: dict[str, Any]
    #: When the draft was last saved as read (the direct writer writes only if unchanged).
    seen: datetime | None = None
    #: The invitation whose code the sending claims, if any.
    invitation: Any = None

    @property
    def complete(self) -> bool:
        """Whether this save sends the questionnaire."""
        return self.changes.get("status") == ResponseStatus.COMPLETE


class PageWriter(Protocol):
    """Carries out a :class:`PagePlan`; see :mod:`surveyapp.respond.page_writes`."""

    def write(self, plan: PagePlan) -> None:
        """Write the plan or nothing: IntegrityError for a repeated key, DraftChanged or
        CodeAlreadyUsed when the draft or the code changed meanwhile."""

    def earlier(self, key: str) -> tuple[int, int] | None:
        """(response id, outcome page) of the save that already used ``key``."""

    def abandon(self) -> None:
        """Nothing will be written (invalid answers): end the transaction."""


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


def save_page(
    writer: PageWriter,
    *,
    draft: Draft,
    sections: tuple[Section, ...],
    page: int,
    form: Any,
    idempotency_key: str,
    action: str,
    language: str,
    invitation: Any = None,
    completion_flags: Iterable[str] = (),
) -> PageResult:
    """Save one page's answers and move the resident on, exactly once per key.

    ``action`` is ``next`` or ``review`` (required items must be answered; after the last
    page ``next`` sends and ``review`` leads to the review page), ``send`` (from the review
    page), ``back`` or ``stay`` (switching language), which save what is
    valid without requiring anything. Nothing is saved when an answer is invalid. Sending
    is atomic: the last page, the completion and the invitation's use commit together.
    ``draft`` was read for this save (locked by the session writer's transaction, or
    unlocked for the direct writer, which then writes only if it is unchanged).
    """
    if draft.status != ResponseStatus.DRAFT:
        return _earlier_outcome(writer, draft, idempotency_key) or PageResult(
            outcome_page=COMPLETE, duplicate=True
        )
    context = dict(draft.values)
    # The review page (one after the last section) has no questions of its own.
    on_page = list(sections[page - 1 : page])
    parsed = parse_form(on_page, form, context, require=action in ("next", "review", "change"))
    if parsed.errors:
        writer.abandon()
        return PageResult(errors=parsed.errors, values=parsed.values)
    plan = plan_page(
        draft, sections, page, parsed.values, idempotency_key, action, language, completion_flags
    )
    if plan.complete:
        plan.invitation = invitation
    try:
        writer.write(plan)
    except IntegrityError:
        # The key was used before (a retry, a double tap): answer with that save's outcome.
        earlier = _earlier_outcome(writer, draft, idempotency_key)
        if earlier is None:
            raise
        return earlier
    return PageResult(outcome_page=plan.submission["outcome_page"])


def plan_page(
    draft: Draft,
    sections: tuple[Section, ...],
    page: int,
    given: dict[str, dict[str, Any]],
    idempotency_key: str,
    action: str,
    language: str,
    completion_flags: Iterable[str] = (),
) -> PagePlan:
    """What saving the valid answers ``given`` on ``page`` writes (see :class:`PagePlan`)."""
    page_ids = {item.id for section in sections[page - 1 : page] for item in section.items}
    values = {k: v for k, v in draft.values.items() if k not in page_ids} | given
    outcome = outcome_of(sections, page, values, action)
    remove = set(page_ids)
    now = utcnow()
    changes: dict[str, Any] = {"language": language, "last_saved_at": now}
    if outcome == COMPLETE:
        remove |= set(draft.values) - shown_ids(sections, values)
        flags = list(draft.quality_flags or [])
        flags += [f for f in completion_flags if f not in flags]
        changes |= sent_state(draft.started_at, now) | {"quality_flags": flags}
    else:
        changes["page"] = outcome
    answers = [
        {"response_id": draft.id, "item_id": item_id}
        | {column: value.get(column) for column in VALUE_COLUMNS}
        for item_id, value in given.items()
    ]
    submission = {
        "idempotency_key": idempotency_key,
        "response_id": draft.id,
        "page": page,
        "outcome_page": outcome,
    }
    return PagePlan(submission, sorted(remove), answers, changes, seen=draft.last_saved_at)


def _earlier_outcome(writer: PageWriter, draft: Draft, key: str) -> PageResult | None:
    """The outcome of the save that already used ``key``, if any."""
    done = writer.earlier(key)
    if done is None:
        return None
    if done[0] != draft.id:
        raise ForeignSubmission
    return PageResult(outcome_page=done[1], duplicate=True)
