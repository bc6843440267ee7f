"""Brute force on codes, ballot stuffing on open links, bots: limited, flagged, never stored."""

from __future__ import annotations

import re
import socket
import subprocess
import time
from collections.abc import Iterator

import limits.storage.memory
import pytest
import redis
from flask import Flask
from sqlalchemy import func, select

from surveyapp import create_app
from surveyapp.extensions import db, limiter
from surveyapp.instruments.registry import wave_sections
from surveyapp.models import Initiative, PageSubmission, Response
from surveyapp.reports import initiative_frame

from ..conftest import Factory, complete_answers
from ..resident import past_area_step


def _key(html: bytes) -> str:
    return re.search(rb'name="idempotency_key" value="([^"]+)"', html).group(1).decode()


def test_guessing_codes_is_stopped_per_browser(app: Flask, make: Factory) -> None:
    code, _invitation = make.invitation()
    guesser = app.test_client()
    statuses = [guesser.post("/", data={"code": f"ZZZZ{n:04d}"}).status_code for n in range(10)]
    assert statuses == [404] * 10
    blocked = guesser.get("/i/ZZZZYYYY")  # the limit covers every page that takes a code
    assert blocked.status_code == 429
    # It says how long to wait, to people and to software.
    assert "Please wait 1 minute before trying again." in blocked.get_data(as_text=True)
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60
    # Someone else on the same wifi (same address, own browser) is not affected, and a
    # right code counts as nothing: only unknown codes use up the allowance.
    neighbour = app.test_client()
    assert neighbour.post("/", data={"code": "ZZZZ9999"}).status_code == 404
    assert neighbour.get(f"/i/{code}").status_code == 200


def test_guessing_codes_without_a_cookie_is_stopped_per_address(app: Flask, make: Factory) -> None:
    code, _invitation = make.invitation()
    # Software that throws its cookie away after every try.
    statuses = [
        app.test_client().post("/", data={"code": f"ZZZZ{n:04d}"}).status_code for n in range(61)
    ]
    assert statuses == [404] * 60 + [429]
    elsewhere = app.test_client().get(f"/i/{code}", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert elsewhere.status_code == 200


class _Clock:
    """The limiter's clock, moved on by the test: residents arrive at a realistic pace."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now


def test_a_city_behind_one_address_is_not_blocked_by_its_typos(
    app: Flask, make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A city behind a proxy without SURVEYAPP_PROXY_HOPS: every resident has one address.

    200 residents open their letters within the hour (one every 18 seconds); each mistypes
    the code once first, and a quarter twice. None of them is refused.
    """
    clock = _Clock()
    monkeypatch.setattr(limits.storage.memory, "time", clock)
    wave = make.wave()
    codes = [make.invitation(wave)[0] for _ in range(200)]
    refused = 0
    for n, code in enumerate(codes):
        clock.now += 18
        resident = app.test_client()
        typos = [code[:-1] + ("A" if code[-1] != "A" else "B")] * (2 if n % 4 == 0 else 1)
        for typo in typos:
            refused += resident.post("/", data={"code": typo}).status_code == 429
        typed = resident.post("/", data={"code": code})
        refused += typed.status_code != 303
    assert refused == 0


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
        url = past_area_step(client, started.location)
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
    frame = initiative_frame(make.session, make.session.get(Initiative, wave.initiative_id))
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
    for n in range(10):  # another browser at the same address: its own allowance
        assert second.post("/", data={"code": f"RRRR{n:04d}"}).status_code == 404
    assert first.post("/", data={"code": "SSSS0000"}).status_code == 429
    keys = [k.decode() for k in redis.Redis.from_url("redis://127.0.0.1:6379/15").keys("*")]
    assert keys and not any("127.0.0.1" in k for k in keys)


def test_production_counts_in_redis_by_default(monkeypatch) -> None:
    from surveyapp.config import load_config

    monkeypatch.setenv("SURVEYAPP_SECRET_KEY", "x" * 40)
    production = load_config({"ENV_NAME": "production"})
    assert production["RATELIMIT_STORAGE_URI"].startswith("redis://")
    # A Redis that hangs holds a page for half a second at most, then memory counts.
    assert production["RATELIMIT_STORAGE_OPTIONS"]["socket_timeout"] <= 0.5
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
    for n in range(60):  # software without a cookie, from one address behind the proxy
        guess = app.test_client().post(
            "/", data={"code": f"PPPP{n:04d}"}, headers={"X-Forwarded-For": "198.51.100.1"}
        )
        assert guess.status_code == 404
    blocked = app.test_client().post(
        "/", data={"code": "PPPP9999"}, headers={"X-Forwarded-For": "198.51.100.1"}
    )
    assert blocked.status_code == 429
    other = app.test_client().post(
        "/", data={"code": "PPPP9999"}, headers={"X-Forwarded-For": "198.51.100.2"}
    )
    assert other.status_code == 404
    db.engine_for(app).dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_server(port: int) -> subprocess.Popen:
    """A private Redis on ``port`` (the Debian package's redis-server), ready to answer."""
    server = subprocess.Popen(
        [
            *("redis-server", "--port", str(port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no"),
        ],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    for _ in range(50):
        try:
            client.ping()
            return server
        except redis.ConnectionError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("redis-server did not start")


@pytest.fixture
def own_redis(database_url: str, db_session) -> Iterator[tuple[Flask, int]]:
    """The production counter setup on a Redis of the test's own, which the test may stop."""
    port = _free_port()
    servers = [_redis_server(port)]
    application = create_app(
        {
            "ENV_NAME": "testing",
            "DATABASE_URL": database_url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{port}/0",
        }
    )
    yield application, servers
    for server in servers:
        server.kill()
        server.wait()
    db.engine_for(application).dispose()
    # The limiter is one object: back to memory counters, shared storage "alive", and empty
    # fallback counters for the other tests.
    create_app(
        {"ENV_NAME": "testing", "DATABASE_URL": database_url, "RATELIMIT_STORAGE_URI": "memory://"}
    )
    limiter._storage_dead = False
    limiter._fallback_storage.reset()


def test_residents_keep_answering_while_redis_is_down(own_redis, make: Factory) -> None:
    application, servers = own_redis
    port = servers[0].args[servers[0].args.index("--port") + 1]
    shared = redis.Redis(port=int(port))
    wave = make.wave()
    open_wave = make.wave(initiative=wave.initiative, mode="open_link")
    code, _invitation = make.invitation(wave)
    sections = wave_sections(wave)
    resident = application.test_client()
    welcome = resident.get(f"/i/{code}")
    url = resident.post(f"/i/{code}", data={"idempotency_key": _key(welcome.data)}).location
    page = resident.get(url)
    saved = resident.post(
        url, data=complete_answers([sections[0]]) | {"idempotency_key": _key(page.data)}
    )
    assert saved.status_code == 303
    guesser = application.test_client()
    for n in range(5):
        assert guesser.post("/", data={"code": f"QQQQ{n:04d}"}).status_code == 404
    assert shared.keys("*"), "the guesses are counted in Redis"

    servers[0].kill()
    servers[0].wait()
    # Redis is gone: the resident carries on, a new visitor starts, nobody sees an error.
    url = saved.location
    page = resident.get(url)
    assert page.status_code == 200
    saved = resident.post(
        url, data=complete_answers([sections[1]]) | {"idempotency_key": _key(page.data)}
    )
    assert saved.status_code == 303 and saved.location.endswith("/3")
    stored = make.session.scalar(
        select(func.count(PageSubmission.idempotency_key)).where(PageSubmission.page == 2)
    )
    assert stored == 1
    assert application.test_client().post("/", data={"code": code}).status_code == 303
    visitor = application.test_client()
    start = visitor.get(f"/w/{open_wave.open_token}")
    assert start.status_code == 200
    started = visitor.post(f"/w/{open_wave.open_token}", data={"idempotency_key": _key(start.data)})
    assert started.status_code == 303
    # Guessing is still limited, counted in this process's memory meanwhile.
    statuses = [guesser.post("/", data={"code": f"RRRR{n:04d}"}).status_code for n in range(11)]
    assert statuses == [404] * 10 + [429]

    # Redis is back: after a short while the counters are shared again.
    servers.append(_redis_server(int(port)))
    deadline = time.monotonic() + 15
    while not shared.keys("*") and time.monotonic() < deadline:
        time.sleep(0.5)
        application.test_client().post("/", data={"code": "SSSS0000"})
    assert shared.keys("*"), "counting went back to Redis"


def test_a_started_questionnaire_is_not_stopped_by_guesses_from_the_same_address(
    app: Flask, make: Factory
) -> None:
    wave = make.wave()
    code, _invitation = make.invitation(wave)
    sections = wave_sections(wave)
    resident, guesser = app.test_client(), app.test_client()  # one wifi, one address
    typed = resident.post("/", data={"code": code})
    welcome = resident.get(typed.location)
    url = resident.post(typed.location, data={"idempotency_key": _key(welcome.data)}).location
    for n in range(60):  # software without a cookie: the address's allowance is used up
        assert app.test_client().post("/", data={"code": f"ZZZZ{n:04d}"}).status_code == 404
    assert guesser.get(f"/i/{code}").status_code == 429  # the address is blocked for guesses
    for section in sections[:2]:
        page = resident.get(url)
        assert page.status_code == 200
        saved = resident.post(
            url, data=complete_answers([section]) | {"idempotency_key": _key(page.data)}
        )
        assert saved.status_code == 303
        url = saved.location
    # The resident's own code goes on working; any other code is still a blocked guess.
    assert resident.get(f"/i/{code}").status_code == 303
    assert resident.get("/i/ZZZZYYYY").status_code == 429
    assert resident.post("/", data={"code": "ZZZZYYYY"}).status_code == 429
    with resident.session_transaction() as cookie:
        assert len(cookie["codes"]) == 1 and code not in cookie["codes"][0]
    for section in sections[2:]:
        page = resident.get(url)
        url = resident.post(
            url, data=complete_answers([section]) | {"idempotency_key": _key(page.data)}
        ).location
    assert url.endswith("/thanks")
    with resident.session_transaction() as cookie:
        assert cookie["codes"] == []  # sent: the cookie no longer knows the code


def test_page_saves_of_a_started_questionnaire_do_not_ask_redis(own_redis, make: Factory) -> None:
    application, servers = own_redis
    port = int(servers[0].args[servers[0].args.index("--port") + 1])
    wave = make.wave()
    code, _invitation = make.invitation(wave)
    resident = application.test_client()
    welcome = resident.get(f"/i/{code}")
    url = resident.post(f"/i/{code}", data={"idempotency_key": _key(welcome.data)}).location

    def commands() -> int:
        stats = redis.Redis(port=port).info("commandstats")
        return sum(v["calls"] for k, v in stats.items() if k != "cmdstat_info")

    before = commands()
    for section in wave_sections(wave)[:3]:
        page = resident.get(url)
        saved = resident.post(
            url, data=complete_answers([section]) | {"idempotency_key": _key(page.data)}
        )
        assert saved.status_code == 303
        url = saved.location
    assert commands() == before
    # A guess from the same browser still asks Redis.
    assert resident.get("/i/ZZZZYYYY").status_code == 404
    assert commands() > before
