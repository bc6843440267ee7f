"""Database layer: declarative base with a constraint naming convention, engine set-up, sessions.

Plain SQLAlchemy 2 (no Flask-SQLAlchemy) so that sessions can be bound to an outer
transaction in tests and the same metadata drives Alembic.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import current_app, has_request_context, request
from sqlalchemy import CheckConstraint, DateTime, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker

# Stable constraint names so that migrations can drop and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every model; its metadata is what Alembic compares against."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


#: Statements that write, or open a nested transaction that may: on SQLite they must run in
#: a transaction that holds the write lock (see ``_configure_sqlite``).
_SQLITE_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT")
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_IMMEDIATE: ContextVar[bool] = ContextVar("surveyapp_sqlite_immediate", default=False)


@contextmanager
def writing() -> Iterator[None]:
    """Transactions begun inside take SQLite's write lock at once (BEGIN IMMEDIATE).

    For commands that read and then write, such as the daily ``waves tick`` and
    ``retention purge`` run from cron: in a deferred transaction their write would fail
    with "database is locked" if a resident saved a page between their read and their
    write. Inside ``writing()`` they wait for that save instead, and a save that comes
    while they run waits for them (both within the busy timeout). No effect on PostgreSQL.
    """
    token = _IMMEDIATE.set(True)
    try:
        yield
    finally:
        _IMMEDIATE.reset(token)


def _configure_sqlite(engine: Engine) -> None:
    """Switch on WAL, foreign keys and a busy timeout on every new SQLite connection.

    pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; the SQLAlchemy
    recipe below lets SQLAlchemy emit BEGIN itself, so nested transactions work.

    SQLite has one writer at a time. A deferred transaction that reads and then writes
    fails at once with "database is locked" when another connection has written since its
    read, and no busy timeout helps (SQLITE_BUSY_SNAPSHOT): with 50 residents on gunicorn
    that was a "try again" page for one page save in twenty, and for nearly every dashboard
    a coordinator opened while residents were answering (the report is read, then the view
    is audited). So, in the web app:

    - a request that changes something (POST and the like) begins IMMEDIATE, taking the
      write lock at the start: a second save waits for the first (up to the busy timeout);
    - a reading request (GET) opens no transaction for its reads, each of which sees the
      latest commit (as PostgreSQL's READ COMMITTED does), so a report that reads for
      seconds holds no lock; if it then writes (an audit event), that write begins an
      IMMEDIATE transaction of its own.

    Commands and scripts keep SQLite's plain deferred transactions, unless they run inside
    :func:`writing` (those that read and then write, such as the cron commands).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if not has_request_context():
            connection.exec_driver_sql("BEGIN IMMEDIATE" if _IMMEDIATE.get() else "BEGIN")
        elif request.method not in _SAFE_METHODS:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        # A reading request: no BEGIN; the first write begins one (below).

    @event.listens_for(engine, "before_cursor_execute")
    def _before_write(
        _connection: Any, cursor: Any, statement: str, *_args: Any, **_kwargs: Any
    ) -> None:
        if (
            not cursor.connection.in_transaction
            and statement.lstrip()[:9].upper().startswith(_SQLITE_WRITES)
            and has_request_context()
        ):
            cursor.execute("BEGIN IMMEDIATE")


def build_engine(url: str, **options: Any) -> Engine:
    """Create an engine for ``url`` with the per-backend settings this app relies on."""
    # A statement that fails names its parameters in the error, and errors are logged:
    # those parameters are residents' answers and code hashes. Keep them out of logs.
    options.setdefault("hide_parameters", True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            # Residents' answers: readable by the app's user only (0600), not the world.
            path = Path(database)
            if path.parent.is_dir() and not path.exists():
                path.touch(mode=0o600)
        engine = create_engine(url, **options)
        _configure_sqlite(engine)
        return engine
    # No pool_pre_ping: it costs every request a round trip. A connection that died with
    # the server (a restart) fails its first statement instead; SQLAlchemy then discards
    # every pooled connection of that age, and the resident gets the "try again" page
    # (security.py) once, after which new connections are made.
    return create_engine(url, **options)


class AppSession(Session):
    """A session that uses the current Flask app's engine unless bound explicitly.

    Several apps (for example a test app and a second app built inside a test) can then
    share the one ``db`` extension without taking each other's database.
    """

    def get_bind(self, mapper: Any = None, **kwargs: Any) -> Any:
        if self.bind is not None:
            return self.bind
        return current_app.extensions[ENGINE_KEY]


ENGINE_KEY = "surveyapp.db.engine"


class Database:
    """The engine per app and the request-scoped session.

    ``db.session`` is a scoped session; it is removed at the end of every app context, so
    each request gets its own session and one transaction. ``db.engine`` is the engine of
    the current app.
    """

    def __init__(self) -> None:
        self.session = scoped_session(sessionmaker(class_=AppSession, expire_on_commit=False))

    @property
    def engine(self) -> Engine:
        """The current app's engine."""
        return current_app.extensions[ENGINE_KEY]

    @property
    def bind(self) -> Any:
        """What the request's session would use (the engine; in the test suite the one
        connection every session is bound to), found without creating a session."""
        return self.session.session_factory.kw.get("bind") or self.engine

    def engine_for(self, app: Any) -> Engine:
        """The engine of ``app`` (usable outside an app context)."""
        return app.extensions[ENGINE_KEY]

    def init_app(self, app: Any) -> None:
        """Create the app's engine from its ``DATABASE_URL`` and register session teardown."""
        app.extensions[ENGINE_KEY] = build_engine(app.config["DATABASE_URL"])
        app.extensions["surveyapp.db"] = self

        @app.teardown_appcontext
        def _remove_session(_exc: BaseException | None) -> None:
            try:
                self.session.remove()
            except SQLAlchemyError:
                # The connection died under the session (database restarted): the rollback
                # of nothing failed. Forget the session; the pool checks connections anew.
                logging.getLogger(__name__).warning("discarding a session whose connection died")
                self.session.registry.clear()


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend.

    PostgreSQL stores ``timestamptz``; SQLite stores text without an offset, so values are
    normalised to UTC on the way in and marked UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime (db.utcnow())")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def values_check(column: str, values: Iterable[str], name: str) -> CheckConstraint:
    """A CHECK constraint that keeps ``column`` within ``values`` (our portable enum)."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=name)
