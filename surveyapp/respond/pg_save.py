"""Page saves on PostgreSQL, on the pooled DBAPI connection: two statements, no ORM.

A page save is the request residents make most, and on PostgreSQL it is the one that
decides how many residents a server can take at once. It runs here in two statements on a
pooled psycopg connection in autocommit, instead of through the ORM session (which costs
more CPU than the save's own work; ``BENCHMARKS.md``):

1. :func:`read_draft`: the draft, its wave, its saved answers (one JSON array) and, for an
   invitation, the invitation, in one query without a lock;
2. :func:`surveyapp.respond.saving.save_page` validates the page as on every other path
   and writes it with one statement (data-modifying CTEs) that only changes anything if
   the draft is still a draft *and* unchanged since step 1 (its ``last_saved_at``). If
   another save came in between (two tabs, a double tap), nothing is written and
   :class:`~surveyapp.respond.saving.DraftChanged` says to read the draft again. The
   last page of an invitation questionnaire claims the code in the same transaction.

Everything else (CSRF check, session cookie, validation, the pages shown) is the same as on
the general path, which SQLite uses, and which PostgreSQL still takes for a draft whose
questionnaire this process has not loaded yet or after repeated conflicts. Errors are
turned into SQLAlchemy's (``OperationalError`` for a database that went away, with the
connection discarded; ``IntegrityError`` for a repeated idempotency key), so that the same
handlers answer them: the "try again" page, the first save's outcome.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from surveyapp.instruments.registry import is_loaded
from surveyapp.respond import used_codes
from surveyapp.respond.codes import hash_code, resume_hash
from surveyapp.respond.drafts import VALUE_COLUMNS, Draft, WaveState, area_pending
from surveyapp.respond.page_writes import WRITE_PAGE_POSTGRESQL, statement_params
from surveyapp.respond.saving import CodeAlreadyUsed, DraftChanged, PagePlan


@dataclass(frozen=True)
class InvitationState:
    """The invitation of a draft reached by its code: enough to claim it at the end."""

    id: int
    wave_id: int
    area_id: int
    is_used: bool


class DirectConnection:
    """A pooled psycopg connection in autocommit for one page save; see the module notes.

    Given a SQLAlchemy ``Connection`` instead of the engine (the test suite binds every
    session to one, in a transaction rolled back after each test), it works in that
    connection's transaction and leaves it open.
    """

    def __init__(self, bind: Engine | Connection) -> None:
        import psycopg

        self._error = psycopg.Error
        self._dialect = bind.dialect
        self._owned = isinstance(bind, Engine)
        try:
            self._fairy = bind.raw_connection() if self._owned else bind.connection
        except self._error as error:  # the server is down or restarting
            raise DBAPIError.instance(
                None, None, error, self._error, connection_invalidated=True, dialect=self._dialect
            ) from error
        self._connection = self._fairy.driver_connection
        if self._owned:
            self._connection.autocommit = True

    @property
    def shared(self) -> bool:
        """Whether this works in a SQLAlchemy connection's transaction (the test suite)."""
        return not self._owned

    def execute(self, sql: str, params: Mapping[str, Any]) -> Any:
        """Run ``sql`` (psycopg's ``%(name)s`` placeholders); its cursor."""
        try:
            if self._owned:
                return self._connection.execute(sql, params)
            # Inside someone else's transaction a failed statement must not abort it.
            with self._connection.transaction():
                return self._connection.execute(sql, params)
        except self._error as error:
            raise self._translated(error, sql, params) from error

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN ... COMMIT; rolled back if the block raises."""
        try:
            with self._connection.transaction():
                yield
        except self._error as error:
            raise self._translated(error, None, None) from error

    def close(self) -> None:
        """Back to the pool as the pool gave it (not in autocommit), or discarded if broken."""
        if not self._owned:
            return
        if self._fairy.is_valid:
            try:
                self._connection.autocommit = False
            except self._error as error:
                self._fairy.invalidate(error)
        self._fairy.close()

    def _translated(self, error: Exception, sql: str | None, params: Any) -> BaseException:
        dialect = self._dialect
        gone = dialect.is_disconnect(error, self._connection, None)
        if gone:
            self._fairy.invalidate(error)  # a new connection for the next request
        return DBAPIError.instance(
            sql,
            params,
            error,
            self._error,
            hide_parameters=True,  # a resident's answers stay out of error logs
            connection_invalidated=gone,
            dialect=dialect,
        )


@contextmanager
def connect(bind: Engine | Connection) -> Iterator[DirectConnection]:
    """A :class:`DirectConnection` for the block, returned to the pool afterwards."""
    connection = DirectConnection(bind)
    try:
        yield connection
    finally:
        connection.close()


# The answers come as one JSON array: on a join, each JSON column of the draft and its wave
# would be sent and parsed again for every answer. Open links have no invitation to read.
_READ_DRAFT = """
SELECT r.id, r.status, r.quality_flags, r.page, r.language, r.last_saved_at, r.started_at,
       r.channel, r.area_source, w.id, w.status, w.opens_at, w.closes_at, w.languages, w.modules,
       w.frozen_instrument_hash,
       (SELECT json_agg(json_build_array(
                   a.item_id, a.value_code, a.value_codes, a.value_number, a.value_text))
          FROM answers AS a WHERE a.response_id = r.id),
       {invitation}
FROM responses AS r JOIN waves AS w ON w.id = r.wave_id
WHERE r.resume_key_hash = %(resume_key_hash)s
"""
_READ_OPEN_LINK_DRAFT = _READ_DRAFT.format(invitation="NULL")
_READ_INVITATION_DRAFT = _READ_DRAFT.format(
    invitation=f"""(SELECT json_build_array(
              i.id, i.wave_id, i.area_id, {used_codes.IS_USED_POSTGRESQL})
          FROM invitations AS i WHERE i.code_hash = %(code_hash)s)"""
)


def read_draft(
    connection: DirectConnection, key: str, *, invitation_code: str | None = None
) -> tuple[Draft, InvitationState | None] | None:
    """The draft that ``key`` resumes, with its wave, answers and invitation (if a code).

    None when there is no such draft, or when this process has not loaded the draft's
    questionnaire yet: the general path handles both (and loads it).
    """
    if invitation_code:
        sql = _READ_INVITATION_DRAFT
        params = {"resume_key_hash": resume_hash(key), "code_hash": hash_code(invitation_code)}
    else:
        sql, params = _READ_OPEN_LINK_DRAFT, {"resume_key_hash": resume_hash(key)}
    row = connection.execute(sql, params).fetchone()
    if row is None:
        return None
    (
        response_id,
        status,
        quality_flags,
        page,
        language,
        last_saved_at,
        started_at,
        channel,
        area_source,
        wave_id,
        wave_status,
        opens_at,
        closes_at,
        languages,
        modules,
        frozen_instrument_hash,
        answers,
        invitation,
    ) = row
    if not is_loaded(frozen_instrument_hash):
        return None
    values: dict[str, dict[str, Any]] = {}
    for item_id, *given in answers or ():
        for column, value in zip(VALUE_COLUMNS, given, strict=True):
            if value is not None:
                # JSON has one kind of number: a stored 3.0 would come back as 3.
                values[item_id] = {column: float(value) if column == "value_number" else value}
    draft = Draft(
        id=response_id,
        status=status,
        quality_flags=list(quality_flags or []),
        page=page,
        language=language,
        wave=WaveState(
            id=wave_id,
            status=wave_status,
            opens_at=opens_at,
            closes_at=closes_at,
            languages=list(languages or []),
            modules=list(modules or []),
            frozen_instrument_hash=frozen_instrument_hash,
        ),
        values=values,
        last_saved_at=last_saved_at,
        started_at=started_at,
        area_pending=area_pending(channel, area_source),
    )
    return draft, None if invitation is None else InvitationState(*invitation)


class DirectWriter:
    """Writes page plans on a :class:`DirectConnection`, only if the draft is unchanged.

    One statement in autocommit; the last page of an invitation questionnaire also claims
    the code, both in one transaction. Raises :class:`DraftChanged` (nothing written) when
    the draft was saved since it was read, :class:`CodeAlreadyUsed` when the code was.
    """

    def __init__(self, connection: DirectConnection) -> None:
        self.connection = connection

    def write(self, plan: PagePlan) -> None:
        """Write the plan if the draft is as read; see the class notes."""
        params = statement_params(plan) | {"guard": True, "seen": plan.seen}
        direct = self.connection
        if plan.invitation is None:
            if direct.execute(WRITE_PAGE_POSTGRESQL, params).fetchone()[0] != 1:
                raise DraftChanged
            return
        with direct.transaction():
            claim = used_codes.claim_params(plan.invitation)
            if direct.execute(used_codes.CLAIM_POSTGRESQL, claim).rowcount != 1:
                raise CodeAlreadyUsed
            if direct.execute(WRITE_PAGE_POSTGRESQL, params).fetchone()[0] != 1:
                raise DraftChanged

    def earlier(self, key: str) -> tuple[int, int] | None:
        """(response id, outcome page) of the save that already used ``key``."""
        row = self.connection.execute(_EARLIER_SUBMISSION, {"key": key}).fetchone()
        return None if row is None else (row[0], row[1])

    def abandon(self) -> None:
        """Nothing to end: the direct path reads without a transaction."""


_EARLIER_SUBMISSION = """
SELECT response_id, outcome_page FROM page_submissions WHERE idempotency_key = %(key)s
"""
