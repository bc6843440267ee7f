"""SQLite, the zero-setup default: saves at the same moment all succeed.

Runs on a SQLite file of its own whatever database the suite uses, because it is about
SQLite's locking: a page save (a POST) that read the draft and then writes must not fail
because another resident's save was committed in between; a reading request must not hold
up writers, and a reading request that writes at the end (a dashboard audits its view)
must not fail because a resident saved while it was reading.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from surveyapp import migrate
from surveyapp.db import build_engine
from surveyapp.instruments import Instrument
from surveyapp.instruments.registry import wave_sections
from surveyapp.models import AuditEvent, PageSubmission
from surveyapp.respond import drafts, saving
from surveyapp.respond.page_writes import SessionWriter

from .conftest import Factory, complete_answers


def _web() -> Flask:
    """A bare app with a code key: drafts are found by keyed hashes of their resume keys."""
    web = Flask(__name__)
    web.config["CODE_KEY"] = "k" * 32
    return web


def test_two_residents_saving_at_once_on_sqlite_both_succeed(
    tmp_path: Path, core_instrument: Instrument
) -> None:
    url = f"sqlite:///{tmp_path / 'city.sqlite'}"
    migrate.upgrade(url)
    engine = build_engine(url)
    keys = ["a" * 32, "b" * 32, "c" * 32, "d" * 32]
    web = _web()  # a POST request around each save, as in the app
    with web.app_context(), Session(engine, expire_on_commit=False) as session:
        wave = Factory(session, core_instrument).wave(languages=["en"])
        sections = wave_sections(wave)
        for key in keys:
            drafts.start_draft(
                session, wave=wave, language="en", resume_key=key, idempotency_key=key[::-1]
            )
        session.commit()
    form = MultiDict(complete_answers([sections[0]]))
    first_has_read, first_may_save = threading.Event(), threading.Event()
    outcomes: dict[str, int | None] = {}
    errors: list[Exception] = []

    def resident(key: str, first: bool) -> None:
        try:
            with web.test_request_context(method="POST"), Session(engine) as session:
                draft = drafts.lock_draft(session, key)
                if first:
                    first_has_read.set()
                    first_may_save.wait(5)
                result = saving.save_page(
                    SessionWriter(session),
                    draft=draft,
                    sections=sections,
                    page=1,
                    form=form,
                    idempotency_key="k" + key[1:],
                    action="next",
                    language="en",
                )
                outcomes[key] = result.outcome_page
        except Exception as error:  # what the resident would get as a "try again" page
            errors.append(error)

    first = threading.Thread(target=resident, args=(keys[0], True))
    first.start()
    assert first_has_read.wait(5)
    second = threading.Thread(target=resident, args=(keys[1], False))
    second.start()
    time.sleep(0.3)  # the second resident is now reading (or waiting to)
    first_may_save.set()
    first.join(10)
    second.join(10)
    assert errors == []
    assert outcomes == {keys[0]: 2, keys[1]: 2}
    with Session(engine) as session:
        assert session.query(PageSubmission).count() == 2

    # A reading request (a dashboard taking its time) holds no write lock: a save goes on.
    with web.test_request_context(method="GET"), Session(engine) as reader:
        reader.execute(text("SELECT count(*) FROM responses")).scalar_one()
        resident(keys[2], False)
        reader.rollback()
    assert errors == [] and outcomes[keys[2]] == 2

    # A dashboard: it reads (the report), a resident saves meanwhile, then it records that
    # it was viewed. Before, that last write was refused ("database is locked").
    with web.test_request_context(method="GET"), Session(engine) as dashboard:
        before = dashboard.execute(text("SELECT count(*) FROM page_submissions")).scalar_one()
        resident(keys[3], False)
        dashboard.add(AuditEvent(actor="coordinator", action="report_viewed"))
        dashboard.commit()
        after = dashboard.execute(text("SELECT count(*) FROM page_submissions")).scalar_one()
    assert errors == [] and outcomes[keys[3]] == 2
    assert (before, after) == (3, 4)  # each read sees the latest save, as on PostgreSQL
    engine.dispose()


def test_cron_command_on_sqlite_does_not_fail_when_a_resident_saves_meanwhile(
    tmp_path: Path, core_instrument: Instrument, monkeypatch
) -> None:
    """``waves tick`` reads the waves due, then closes them: a save in between must not fail it.

    In a deferred transaction the command's write was refused ("database is locked") when a
    resident's save was committed after its read; from cron that meant a wave left open
    until the next night. Now the command takes the write lock first and the save waits.
    """
    from datetime import timedelta

    from surveyapp import create_app
    from surveyapp.cli.settings import ACTOR
    from surveyapp.console import waves
    from surveyapp.db import utcnow
    from surveyapp.models import Wave, WaveStatus

    url = f"sqlite:///{tmp_path / 'city.sqlite'}"
    migrate.upgrade(url)
    engine = build_engine(url)
    web = _web()
    with web.app_context(), Session(engine, expire_on_commit=False) as session:
        make = Factory(session, core_instrument)
        due = make.wave(
            languages=["en"],
            opens_at=utcnow() - timedelta(days=10),
            closes_at=utcnow() - timedelta(hours=1),
        )
        running = make.wave(languages=["en"])
        drafts.start_draft(
            session, wave=running, language="en", resume_key="r" * 32, idempotency_key="i" * 32
        )
        session.commit()
        sections = wave_sections(running)
    saved: list[int | None] = []
    errors: list[Exception] = []

    def resident_saves() -> None:
        try:
            with web.test_request_context(method="POST"), Session(engine) as session:
                result = saving.save_page(
                    SessionWriter(session),
                    draft=drafts.lock_draft(session, "r" * 32),
                    sections=sections,
                    page=1,
                    form=MultiDict(complete_answers([sections[0]])),
                    idempotency_key="k" * 32,
                    action="next",
                    language="en",
                )
                saved.append(result.outcome_page)
        except Exception as error:
            errors.append(error)

    close_due_waves = waves.close_due_waves

    def with_a_save_in_between(session: Session, now, *, actor):
        session.execute(text("SELECT count(*) FROM waves")).scalar_one()  # the command reads
        resident = threading.Thread(target=resident_saves)
        resident.start()
        time.sleep(0.3)  # the resident's save is committed now, or waits for the command
        threads.append(resident)
        return close_due_waves(session, now, actor=actor)

    threads: list[threading.Thread] = []
    monkeypatch.setattr(waves, "close_due_waves", with_a_save_in_between)
    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": url})
    from surveyapp.cli import main

    result = app.test_cli_runner().invoke(main, ["waves", "tick"])
    for thread in threads:
        thread.join(10)
    assert result.exit_code == 0, result.output
    assert f"Closed 1 wave(s): {due.id}" in result.output
    assert errors == [] and saved == [2]  # the resident's save went through as well
    with Session(engine) as session:
        assert session.get(Wave, due.id).status == WaveStatus.CLOSED
        assert session.scalar(
            select(AuditEvent).where(AuditEvent.actor == ACTOR, AuditEvent.action == "wave_closed")
        )
        assert session.query(PageSubmission).count() == 1
    engine.dispose()
    db_engine = app.extensions["surveyapp.db.engine"]
    db_engine.dispose()
