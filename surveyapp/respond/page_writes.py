"""The statements a page save runs, and the writer that runs them on the request's session.

A page save is a handful of rows: plain statements, built once (SQLAlchemy then reuses their
compiled form) and run on the session's connection, not through the unit of work. On
PostgreSQL the page's four writes are one statement (data-modifying CTEs, one round trip);
SQLite, which has no such CTEs and no network, runs four.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import bindparam, delete, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from surveyapp.models import Answer, PageSubmission, Response
from surveyapp.respond import used_codes
from surveyapp.respond.saving import CodeAlreadyUsed, PagePlan

_RECORD_SUBMISSION = insert(PageSubmission.__table__)
_REMOVE_ANSWERS = delete(Answer.__table__).where(
    Answer.response_id == bindparam("response_id"),
    Answer.item_id.in_(bindparam("item_ids", expanding=True)),
)
_WRITE_ANSWER = insert(Answer.__table__)


class SessionWriter:
    """Writes page plans on the request's session; its transaction holds the draft's lock."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def write(self, plan: PagePlan) -> None:
        """Claim the code (on sending), write the page and commit, or roll back and raise."""
        connection = self.session.connection()
        try:
            if plan.invitation is not None and not used_codes.claim(connection, plan.invitation):
                raise CodeAlreadyUsed
            if connection.dialect.name == "postgresql":
                # Under the lock taken when the draft was read: no version to compare.
                params = statement_params(plan) | {"guard": False, "seen": None}
                connection.exec_driver_sql(WRITE_PAGE_POSTGRESQL, params)
            else:
                _write_page_sqlite(connection, plan)
            self.session.commit()
        except (IntegrityError, CodeAlreadyUsed):
            self.session.rollback()
            raise

    def earlier(self, key: str) -> tuple[int, int] | None:
        """(response id, outcome page) of the save that already used ``key``."""
        row = self.session.get(PageSubmission, key)
        return None if row is None else (row.response_id, row.outcome_page)

    def abandon(self) -> None:
        """End the transaction (and the draft's lock) without writing."""
        self.session.rollback()


def _write_page_sqlite(connection: Any, plan: PagePlan) -> None:
    response_id = plan.submission["response_id"]
    # The key first: a repeated key fails here, before anything else is written.
    connection.execute(_RECORD_SUBMISSION, plan.submission)
    connection.execute(_REMOVE_ANSWERS, {"response_id": response_id, "item_ids": plan.remove})
    if plan.answers:
        connection.execute(_WRITE_ANSWER, plan.answers)
    connection.execute(
        update(Response.__table__).where(Response.id == response_id).values(**plan.changes)
    )


def statement_params(plan: PagePlan) -> dict[str, Any]:
    """The parameters of :data:`WRITE_PAGE_POSTGRESQL` for ``plan`` (without the guard)."""
    written = {answer["item_id"] for answer in plan.answers}
    changes = plan.changes
    flags = changes.get("quality_flags")
    return {
        **plan.submission,
        # Every part of the statement sees one snapshot: the answers deleted and the
        # answers written must not overlap, so an answer given again is updated in place.
        "remove": [item_id for item_id in plan.remove if item_id not in written],
        **{
            column: [answer[column] for answer in plan.answers]
            for column in ("item_id", "value_code", "value_number", "value_text")
        },
        "value_codes": [
            None if answer["value_codes"] is None else json.dumps(answer["value_codes"])
            for answer in plan.answers
        ],
        "language": changes["language"],
        "saved_at": changes["last_saved_at"],
        "next_page": changes.get("page"),
        "complete": plan.complete,
        "submitted_on": changes.get("submitted_on"),
        "duration_seconds": changes.get("duration_seconds"),
        "quality_flags": None if flags is None else json.dumps(flags),
    }


# PostgreSQL runs the page's four writes as one statement (data-modifying CTEs), in psycopg's
# placeholder style (both writers hand it to the driver as it is): the same text for every
# page, so the server prepares it once per connection. Everything hangs on ``updated``: if
# the draft is no longer a draft, or (``guard``) was saved since ``seen``, nothing is
# written and the count is 0. A repeated idempotency key fails the whole statement.
WRITE_PAGE_POSTGRESQL = """
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
