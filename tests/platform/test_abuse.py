"""Brute force on codes, ballot stuffing on open links, bots: limited, flagged, never stored."""

from __future__ import annotations

import re

import pytest
import redis
from flask import Flask
from sqlalchemy import func, select

from surveyapp import create_app
from surveyapp.extensions import db
from surveyapp.models import Response
from surveyapp.reports import initiative_frame
from surveyapp.respond.services import wave_sections

from ..conftest import Factory, complete_answers


def _key(html: bytes) -> str:
    return re.search(rb'name="idempotency_key" value="([^"]+)"', html).group(1).decode()


def test_guessing_codes_is_stopped_per_client(app: Flask, make: Factory) -> None:
    code, _invitation = make.invitation()
    guesser = app.test_client()
    statuses = [guesser.post("/", data={"code": f"ZZZZ{n:04d}"}).status_code for n in range(20)]
    assert statuses == [404] * 20
    blocked = guesser.get("/i/ZZZZYYYY")  # the limit covers every page that takes a code
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.get_data(as_text=True)
    # Another client (another address) is not affected, and a right code still counts as
    # nothing: only unknown codes use up the allowance.
    other = app.test_client()
    ok = other.get(f"/i/{code}", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert ok.status_code == 200


def test_open_link_starts_are_limited_per_client(app: Flask, make: Factory) -> None:
    wave = make.wave()
    statuses = []
    for _ in range(31):
        client = app.test_client()  # a stuffer throws the cookie away each time
        page = client.get(f"/w/{wave.open_token}")
        if page.status_code != 200:
            statuses.append(page.status_code)
            break
        started = client.post(f"/w/{wave.open_token}", data={"idempotency_key": _key(page.data)})
        statuses.append(started.status_code)
    assert statuses[:30] == [303] * 30 and statuses[30] == 429
    assert make.session.scalar(select(func.count(Response.id))) == 30


def test_honeypot_field_stores_nothing(client, make: Factory) -> None:
    wave = make.wave()
    page = client.get(f"/w/{wave.open_token}")
    assert 'name="website"' in page.get_data(as_text=True)
    bot = client.post(
        f"/w/{wave.open_token}",
        data={"idempotency_key": _key(page.data), "website": "http://spam.example"},
    )
    assert bot.status_code == 303 and bot.location.endswith("/thanks")
    assert make.session.scalar(select(func.count(Response.id))) == 0


def test_second_questionnaire_from_one_browser_is_flagged_and_cleaned(
    client, make: Factory
) -> None:
    wave = make.wave()
    sections = wave_sections(wave)
    for _ in range(2):
        page = client.get(f"/w/{wave.open_token}")
        started = client.post(f"/w/{wave.open_token}", data={"idempotency_key": _key(page.data)})
        url = started.location
        for section in sections:
            page = client.get(url)
            done = client.post(
                url, data=complete_answers([section]) | {"idempotency_key": _key(page.data)}
            )
            url = done.location
        assert url.endswith("/thanks")
    make.session.expire_all()
    flags = [r.quality_flags for r in make.session.scalars(select(Response).order_by(Response.id))]
    assert flags == [[], ["repeat_in_same_browser"]]
    frame = initiative_frame(make.session, wave.initiative)
    assert frame["collection_duplicate"].tolist() == [False, True]

    from analysis.cleaning import clean

    items = [i.id for s in sections for i in s.items]
    flagged = clean(
        frame, items, known_duplicates="collection_duplicate", duplicate_min_answered=999
    )
    assert flagged.flags["duplicate"].tolist() == [False, True]


@pytest.fixture
def redis_app(database_url: str, db_session) -> Flask:
    """The production setup for counters: Redis on 127.0.0.1:6379 (database 15 for tests)."""
    server = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    server.flushdb()
    application = create_app(
        {
            "ENV_NAME": "testing",
            "DATABASE_URL": database_url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15",
        }
    )
    yield application
    server.flushdb()
    db.engine_for(application).dispose()
    # The limiter is one object: point it back at memory counters for the other tests.
    create_app(
        {"ENV_NAME": "testing", "DATABASE_URL": database_url, "RATELIMIT_STORAGE_URI": "memory://"}
    )


def test_limits_are_shared_through_redis_without_addresses(redis_app: Flask, make: Factory) -> None:
    first, second = redis_app.test_client(), redis_app.test_client()
    for n in range(10):
        assert first.post("/", data={"code": f"QQQQ{n:04d}"}).status_code == 404
    for n in range(10):  # another worker would see the same counters
        assert second.post("/", data={"code": f"RRRR{n:04d}"}).status_code == 404
    assert first.post("/", data={"code": "SSSS0000"}).status_code == 429
    keys = [k.decode() for k in redis.Redis.from_url("redis://127.0.0.1:6379/15").keys("*")]
    assert keys and not any("127.0.0.1" in k for k in keys)


def test_production_counts_in_redis_by_default(monkeypatch) -> None:
    from surveyapp.config import load_config

    monkeypatch.setenv("SURVEYAPP_SECRET_KEY", "x" * 40)
    assert load_config({"ENV_NAME": "production"})["RATELIMIT_STORAGE_URI"].startswith("redis://")
    assert load_config({"ENV_NAME": "development"})["RATELIMIT_STORAGE_URI"] == "memory://"


def test_behind_a_proxy_each_resident_has_their_own_allowance(database_url: str) -> None:
    app = create_app(
        {
            "ENV_NAME": "testing",
            "DATABASE_URL": database_url,
            "RATELIMIT_STORAGE_URI": "memory://",
            "WTF_CSRF_ENABLED": False,
            "PROXY_HOPS": 1,
        }
    )
    client = app.test_client()
    for n in range(20):
        guess = client.post(
            "/", data={"code": f"PPPP{n:04d}"}, headers={"X-Forwarded-For": "198.51.100.1"}
        )
        assert guess.status_code == 404
    blocked = client.post(
        "/", data={"code": "PPPP9999"}, headers={"X-Forwarded-For": "198.51.100.1"}
    )
    assert blocked.status_code == 429
    other = client.post("/", data={"code": "PPPP9999"}, headers={"X-Forwarded-For": "198.51.100.2"})
    assert other.status_code == 404
    db.engine_for(app).dispose()
