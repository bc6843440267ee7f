"""Fair limits for residents who share an address; ballot stuffing flagged, not refused."""

from __future__ import annotations

import re
import time

import limits.storage.memory
import pytest
from flask import Flask
from flask.testing import FlaskClient
from limits import RateLimitItemPerMinute
from sqlalchemy import func, select

from surveyapp.extensions import limiter
from surveyapp.instruments.registry import wave_sections
from surveyapp.models import Initiative, Response
from surveyapp.reports import initiative_frame
from surveyapp.respond import visits

from ..conftest import Factory, complete_answers


def _key(html: bytes) -> str:
    return re.search(rb'name="idempotency_key" value="([^"]+)"', html).group(1).decode()


class _Clock:
    """The limiter's clock, moved on by the test: residents arrive at a realistic pace."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now


def _start(client: FlaskClient, token: str, **environ: str) -> int:
    page = client.get(f"/w/{token}", environ_base=environ)
    if page.status_code != 200:
        return page.status_code
    data = {"idempotency_key": _key(page.data)}
    return client.post(f"/w/{token}", data=data, environ_base=environ).status_code


def test_one_browser_starting_over_and_over_is_limited(app: Flask, make: Factory) -> None:
    wave = make.wave()
    browser = app.test_client()
    statuses = []
    for _ in range(31):
        browser.post(f"/w/{wave.open_token}/new")  # "Start a new questionnaire"
        statuses.append(_start(browser, wave.open_token))
    assert statuses == [303] * 30 + [429]
    # The others at the same address are not affected.
    assert _start(app.test_client(), wave.open_token) == 303
    assert make.session.scalar(select(func.count(Response.id))) == 31


def test_residents_sharing_an_address_all_start_on_open_links(
    app: Flask, make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """200 residents behind one address (community-centre wifi, a carrier's shared address)
    start an open-link questionnaire within the hour: none is refused (it was the 31st)."""
    clock = _Clock()
    monkeypatch.setattr(limits.storage.memory, "time", clock)
    wave = make.wave()
    statuses = []
    for _ in range(200):
        clock.now += 18
        statuses.append(_start(app.test_client(), wave.open_token))
    assert statuses == [303] * 200


def test_a_flood_of_starts_from_one_address_meets_a_ceiling(
    app: Flask, make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _Clock()
    monkeypatch.setattr(limits.storage.memory, "time", clock)
    wave = make.wave()
    # Software without a cookie, two starts a second: the 121st within a minute is refused.
    statuses = []
    for _ in range(121):
        clock.now += 0.4
        statuses.append(_start(app.test_client(), wave.open_token))
    assert statuses == [303] * 120 + [429]
    page = app.test_client().get(f"/w/{wave.open_token}")
    refused = app.test_client().post(
        f"/w/{wave.open_token}", data={"idempotency_key": _key(page.data)}
    )
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    # Another address is not affected.
    assert _start(app.test_client(), wave.open_token, REMOTE_ADDR="192.0.2.9") == 303


def _send(client: FlaskClient, token: str, sections, **environ: str) -> None:
    page = client.get(f"/w/{token}", environ_base=environ)
    url = client.post(
        f"/w/{token}", data={"idempotency_key": _key(page.data)}, environ_base=environ
    ).location
    if url.endswith("/area"):  # the wave-wide link asks the neighbourhood first
        url = client.post(url, data={"area": "dont_know"}, environ_base=environ).location
    for section in sections:
        page = client.get(url, environ_base=environ)
        data = complete_answers([section]) | {"idempotency_key": _key(page.data)}
        url = client.post(url, data=data, environ_base=environ).location
    assert url.endswith("/thanks")


def test_a_burst_of_completions_from_one_address_is_flagged(
    app: Flask, make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _Clock()
    monkeypatch.setattr(limits.storage.memory, "time", clock)
    monkeypatch.setattr(visits, "BURST_WINDOW", RateLimitItemPerMinute(2))  # 3 in a minute
    wave = make.wave()
    sections = wave_sections(wave)
    for address in ["198.51.100.1"] * 4 + ["198.51.100.2"]:
        clock.now += 5
        _send(app.test_client(), wave.open_token, sections, REMOTE_ADDR=address)
    clock.now += 61  # a minute later the address starts afresh
    _send(app.test_client(), wave.open_token, sections, REMOTE_ADDR="198.51.100.1")
    make.session.expire_all()
    flags = [r.quality_flags for r in make.session.scalars(select(Response).order_by(Response.id))]
    burst = ["completion_burst"]
    assert flags == [[], [], burst, burst, [], []]
    # The analyst sees it as a cleaning flag; the responses hold no address.
    frame = initiative_frame(make.session, make.session.get(Initiative, wave.initiative_id))
    assert frame["collection_burst"].tolist() == [False, False, True, True, False, False]
    from analysis.cleaning import clean

    items = [i.id for s in sections for i in s.items]
    cleaned = clean(frame, items, known_bursts="collection_burst", duplicate_min_answered=999)
    assert cleaned.flags["burst"].tolist() == [False, False, True, True, False, False]
    rows = make.session.scalars(select(Response))
    stored = " ".join(str(value) for row in rows for value in vars(row).values())
    assert "198.51.100" not in stored


def test_a_hundred_completions_in_a_minute_are_flagged_without_an_address(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The counter alone (the end-to-end path is above and in tests/load): 100 sent from
    one address within a minute are flagged from the 20th on; residents finishing at a
    community centre's pace (200 in an hour) never are."""
    clock = _Clock()
    monkeypatch.setattr(limits.storage.memory, "time", clock)

    def send(address: str) -> bool:
        with app.test_request_context(environ_base={"REMOTE_ADDR": address}):
            flagged = visits.completion_burst(7)
            visits.count_completion(7)
            return flagged

    stuffed = []
    for _ in range(100):
        clock.now += 0.6
        stuffed.append(send("203.0.113.5"))
    assert stuffed == [False] * 19 + [True] * 81
    clock.now += 120
    paced = []
    for n in range(200):
        clock.now += 18 if n % 2 else 4  # finishing in pairs, 22 s apart
        paced.append(send("203.0.113.5"))
    assert not any(paced)
    keys = " ".join(str(k) for k in limiter.limiter.storage.storage)
    assert "203.0.113" not in keys
