"""PostgreSQL's direct page save (``surveyapp.respond.pg_save``) with real commits.

The rest of the suite runs every test inside one rolled-back transaction, where the direct
path works in that transaction. Here it runs as in production: its own pooled connection in
autocommit, a read without a lock, a write only if the draft is unchanged since, and errors
that must become the usual pages.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from surveyapp import create_app, migrate
from surveyapp.extensions import db
from surveyapp.instruments import Instrument
from surveyapp.instruments.registry import wave_sections
from surveyapp.models import Invitation, PageSubmission, Response, ResponseStatus
from surveyapp.respond import pg_save, used_codes

from ..conftest import BACKEND, Factory, complete_answers, throwaway_database
from ..resident import Resident, idempotency_key

pytestmark = pytest.mark.skipif(
    BACKEND != "postgresql", reason="PostgreSQL only; the PostgreSQL pass of the suite runs it"
)


@pytest.fixture
def city(tmp_path: Path, core_instrument: Instrument) -> Iterator[tuple[Flask, Any, Factory]]:
    """An app on a database of its own, whose data the test commits for real."""
    with throwaway_database(tmp_path) as url:
        migrate.upgrade(url)
        app = create_app(
            {
                "ENV_NAME": "testing",
                "DATABASE_URL": url,
                "WTF_CSRF_ENABLED": False,
                "RATELIMIT_STORAGE_URI": "memory://",
            }
        )
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        session = Session(engine, expire_on_commit=False)
        try:
            yield app, engine, Factory(session, core_instrument)
        finally:
            session.close()
            engine.dispose()
            db.engine_for(app).dispose()


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """Every draft the direct path read (its keys), to show which path a save took."""
    read, seen = pg_save.read_draft, []

    def counted(connection, key, **kwargs):
        seen.append(key)
        return read(connection, key, **kwargs)

    monkeypatch.setattr(pg_save, "read_draft", counted)
    return seen


def _scalar(engine: Any, query: Any) -> Any:
    with Session(engine) as session:
        return session.scalar(query)


def test_a_questionnaire_saved_page_by_page_on_its_own_connection(
    city: tuple[Flask, Any, Factory], reads: list[str]
) -> None:
    app, engine, make = city
    with app.app_context():
        wave = make.wave(languages=["en"])
        sections = wave_sections(wave)
    resident = Resident(app.test_client())
    resident.open(f"/w/{wave.open_token}")
    page1 = resident.consent()
    form = complete_answers([sections[0]]) | {"idempotency_key": idempotency_key(resident.html)}
    first = resident.client.post(page1, data=form | {"nav": "next"})
    again = resident.client.post(page1, data=form | {"nav": "next"})  # a double tap
    assert first.status_code == again.status_code == 303
    assert first.location == again.location and first.location.endswith("/2")
    resident.open(first.location)
    for section in sections[1:]:
        assert resident.submit(complete_answers([section])) == 303
    assert resident.url.endswith("/thanks")
    assert len(reads) == len(sections) + 1  # every save took the direct path
    response = _scalar(engine, select(Response))
    assert response.status == ResponseStatus.COMPLETE and response.resume_key_hash is None
    assert _scalar(engine, select(func.count()).select_from(PageSubmission)) == len(sections)


def test_a_save_that_another_tab_overtook_is_read_again_and_made_once(
    city: tuple[Flask, Any, Factory], monkeypatch
) -> None:
    """Between this save's read and its write another save of the draft commits: the write
    changes nothing, the draft is read again, and the page is saved once on top."""
    app, engine, make = city
    with app.app_context():
        wave = make.wave(languages=["en"])
        sections = wave_sections(wave)
    resident = Resident(app.test_client())
    resident.open(f"/w/{wave.open_token}")
    page1 = resident.consent()
    read, calls = pg_save.read_draft, []

    def overtaken(connection, key, **kwargs):
        found = read(connection, key, **kwargs)
        calls.append(found[0].last_saved_at)
        if len(calls) == 1:  # the other tab saves now
            with engine.connect() as other:
                other.execute(text("UPDATE responses SET last_saved_at = now()"))
        return found

    monkeypatch.setattr(pg_save, "read_draft", overtaken)
    form = complete_answers([sections[0]]) | {"idempotency_key": idempotency_key(resident.html)}
    saved = resident.client.post(page1, data=form | {"nav": "next"})
    assert saved.status_code == 303 and saved.location.endswith("/2")
    assert len(calls) == 2 and calls[1] != calls[0]  # read again after the conflict
    assert _scalar(engine, select(func.count()).select_from(PageSubmission)) == 1
    assert _scalar(engine, select(Response.page)) == 2


def test_the_last_page_claims_the_code_or_changes_nothing(
    city: tuple[Flask, Any, Factory], reads: list[str]
) -> None:
    app, engine, make = city
    with app.app_context():
        wave = make.wave(languages=["en"], mode="invitation")
        invitations = [make.invitation(wave) for _ in range(2)]
        codes = [code for code, _row in invitations]
        second_claim = used_codes.claim_params(invitations[1][1])
        sections = wave_sections(wave)
    for number, code in enumerate(codes):
        resident = Resident(app.test_client())
        resident.open(f"/i/{code}")
        resident.consent()
        for section in sections[:-1]:
            assert resident.submit(complete_answers([section])) == 303
        if number == 1:  # the code was used meanwhile (another phone, the same letter)
            with engine.connect() as other:
                other.exec_driver_sql(used_codes.CLAIM_POSTGRESQL, second_claim)
                other.commit()
        status = resident.submit(complete_answers([sections[-1]]))
        if number == 0:
            assert status == 303 and resident.url.endswith("/thanks")
        else:
            assert status == 410
    assert len(reads) == 2 * len(sections)  # invitation saves take the direct path too
    with Session(engine) as session:
        statuses = session.scalars(select(Response.status).order_by(Response.id)).all()
        assert statuses == [ResponseStatus.COMPLETE, ResponseStatus.DRAFT]
        rows = session.scalars(select(Invitation).order_by(Invitation.id)).all()
        assert all(used_codes.is_used(session, row) for row in rows)
        # The refused last page left nothing behind: its key is not recorded.
        draft = session.scalar(select(Response.id).where(Response.status == "draft"))
        pages = session.scalars(
            select(PageSubmission.page).where(PageSubmission.response_id == draft)
        ).all()
        assert len(pages) == len(sections) - 1


def test_a_connection_lost_under_a_save_gives_the_try_again_page_then_works(
    city: tuple[Flask, Any, Factory], reads: list[str]
) -> None:
    """The server ended the app's connection (a restart): "try again", nothing saved, and
    the next attempt, on a new connection, saves the page once."""
    app, engine, make = city
    with app.app_context():
        wave = make.wave(languages=["en"])
        sections = wave_sections(wave)
    resident = Resident(app.test_client())
    resident.open(f"/w/{wave.open_token}")
    page1 = resident.consent()
    with engine.connect() as admin:
        ended = admin.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).all()
    assert ended  # the app's pooled connection
    form = complete_answers([sections[0]]) | {"idempotency_key": idempotency_key(resident.html)}
    lost = resident.client.post(page1, data=form | {"nav": "next"})
    assert lost.status_code == 503 and b"try again" in lost.data.lower()
    assert _scalar(engine, select(func.count()).select_from(PageSubmission)) == 0
    retried = resident.client.post(page1, data=form | {"nav": "next"})
    assert retried.status_code == 303 and retried.location.endswith("/2")
    assert _scalar(engine, select(func.count()).select_from(PageSubmission)) == 1
    assert len(reads) == 2


def test_no_connection_to_be_had_gives_the_try_again_page(
    city: tuple[Flask, Any, Factory], monkeypatch
) -> None:
    """The server is restarting and refuses new connections: "try again", not a 500."""
    import psycopg

    app, engine, make = city
    with app.app_context():
        wave = make.wave(languages=["en"])
        sections = wave_sections(wave)
    resident = Resident(app.test_client())
    resident.open(f"/w/{wave.open_token}")
    page1 = resident.consent()
    with app.app_context():
        pool = db.engine.pool
    pool.dispose()  # no pooled connection left: the save must connect

    def refused(*_args: Any, **_kwargs: Any) -> Any:
        raise psycopg.OperationalError("the database system is shutting down")

    monkeypatch.setattr(psycopg, "connect", refused)
    form = complete_answers([sections[0]]) | {"idempotency_key": idempotency_key(resident.html)}
    refused_save = resident.client.post(page1, data=form | {"nav": "next"})
    assert refused_save.status_code == 503 and b"try again" in refused_save.data.lower()
    monkeypatch.undo()
    assert resident.client.post(page1, data=form | {"nav": "next"}).status_code == 303
    assert _scalar(engine, select(func.count()).select_from(PageSubmission)) == 1
