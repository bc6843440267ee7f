"""gunicorn + PostgreSQL (or SQLite), started for the load and fault tests (marker ``load``).

They run after the two test passes of `make test` (`make test-load`), against a throw-away
PostgreSQL database on the server at SURVEYAPP_TEST_PG_ADMIN_URL or a SQLite file, on
loopback only.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from surveyapp import create_app, migrate
from surveyapp.extensions import db
from surveyapp.instruments import load_instrument
from surveyapp.instruments.registry import wave_sections

from ..conftest import CORE_INSTRUMENT, PG_ADMIN_URL, Factory, complete_answers

pytestmark = pytest.mark.load


@dataclass
class Server:
    """A running gunicorn on a fresh database, with one open-link wave."""

    url: str
    database_url: str
    open_path: str
    pages: list[dict[str, str]]
    page_items: list[list[str]]
    process: subprocess.Popen
    #: Invitation codes of the wave (only when asked for) and a second open-link wave.
    codes: list[str] = field(default_factory=list)
    other_open_path: str = ""

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        engine = create_engine(self.database_url)
        try:
            with Session(engine) as session:
                yield session
        finally:
            engine.dispose()

    def workers(self) -> list[int]:
        out = subprocess.run(
            ["ps", "--ppid", str(self.process.pid), "-o", "pid="], capture_output=True, text=True
        ).stdout
        return [int(pid) for pid in out.split()]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _gunicorn(
    tmp_path: Path, url: str, *, codes: int = 0, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """gunicorn (3 gthread workers x 8 threads) on the database at ``url``, migrated here,
    with ``codes`` invitation codes; ``env`` adds to (or overrides) its environment."""
    process = None
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115 - closed below
    try:
        migrate.upgrade(url)
        app = create_app({"ENV_NAME": "testing", "DATABASE_URL": url})
        with app.app_context():
            make = Factory(db.session, load_instrument(CORE_INSTRUMENT))
            wave = make.wave(mode="both" if codes else "open_link", languages=["en"])
            sections = wave_sections(wave)
            open_path = f"/w/{wave.open_token}"
            invitations = [make.invitation(wave)[0] for _ in range(codes)]
            other = make.wave(initiative=wave.initiative, mode="open_link", languages=["en"])
            other_open_path = f"/w/{other.open_token}"
            code_key = app.config["CODE_KEY"]  # the server must read the codes made here
            db.session.remove()
        db.engine_for(app).dispose()
        port = _free_port()
        env = {
            **os.environ,
            "SURVEYAPP_ENV": "production",
            "SURVEYAPP_SECRET_KEY": secrets.token_urlsafe(48),
            "SURVEYAPP_DATABASE_URL": url,
            "SURVEYAPP_BASE_URL": f"http://127.0.0.1:{port}",
            # Many simulated residents share one address: no per-client limits here.
            "SURVEYAPP_RATELIMIT_ENABLED": "0",
            "SURVEYAPP_CODE_KEY": code_key,
            **(env or {}),
        }
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "3",
                "--worker-class",
                "gthread",
                "--threads",
                "8",
                "--bind",
                f"127.0.0.1:{port}",
                "--timeout",
                "30",
                "--graceful-timeout",
                "5",
                "surveyapp:create_app()",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):  # a minute at most, on a busy machine
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError((tmp_path / "gunicorn.log").read_text()[-2000:])
        yield Server(
            url=base,
            database_url=url,
            open_path=open_path,
            pages=[complete_answers([s]) for s in sections],
            page_items=[[i.id for i in s.items] for s in sections],
            process=process,
            codes=invitations,
            other_open_path=other_open_path,
        )
    finally:
        if process is not None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()


@contextlib.contextmanager
def _postgresql_database() -> Iterator[str]:
    """A throw-away PostgreSQL database's URL."""
    name = f"surveyapp_load_{secrets.token_hex(5)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        admin.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


#: Redis database of the shared-address load test (flushed before and after).
LIMITS_REDIS = "redis://127.0.0.1:6379/13"


@pytest.fixture
def limited_server(tmp_path: Path) -> Iterator[Server]:
    """gunicorn on PostgreSQL with the production rate limits, counted in Redis, and 100
    invitation codes: every simulated resident comes from one address (127.0.0.1)."""
    import redis

    counters = redis.Redis.from_url(LIMITS_REDIS)
    counters.flushdb()
    env = {"SURVEYAPP_RATELIMIT_ENABLED": "1", "SURVEYAPP_RATELIMIT_STORAGE_URI": LIMITS_REDIS}
    try:
        with _postgresql_database() as url, _gunicorn(tmp_path, url, codes=100, env=env) as running:
            yield running
    finally:
        counters.flushdb()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """gunicorn on a throw-away PostgreSQL database."""
    name = f"surveyapp_load_{secrets.token_hex(5)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        with _gunicorn(tmp_path, url) as running:
            yield running
    finally:
        admin.dispose()  # its connections did not survive a PostgreSQL restart
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Iterator[Server]:
    """gunicorn on a SQLite file, the zero-setup default (WAL, one writer at a time)."""
    with _gunicorn(tmp_path, f"sqlite:///{tmp_path / 'city.sqlite'}") as running:
        yield running
