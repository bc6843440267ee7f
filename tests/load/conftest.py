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
from dataclasses import dataclass
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
def _gunicorn(tmp_path: Path, url: str) -> Iterator[Server]:
    """gunicorn (3 gthread workers x 8 threads) on the database at ``url``, migrated here."""
    process = None
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115 - closed below
    try:
        migrate.upgrade(url)
        app = create_app({"ENV_NAME": "testing", "DATABASE_URL": url})
        with app.app_context():
            make = Factory(db.session, load_instrument(CORE_INSTRUMENT))
            wave = make.wave(mode="open_link", languages=["en"])
            sections = wave_sections(wave)
            open_path = f"/w/{wave.open_token}"
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
        for _ in range(100):
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
        )
    finally:
        if process is not None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()


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
