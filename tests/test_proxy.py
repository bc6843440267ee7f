"""The app trusts the proxy it is told about, and says so when it sees one it was not told of."""

from __future__ import annotations

import logging

import pytest

from surveyapp import create_app
from surveyapp.extensions import db
from surveyapp.proxy import UNTRUSTED_FORWARDING

FORWARDED = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"}


def _app(database_url: str, hops: int):
    return create_app(
        {
            "ENV_NAME": "testing",
            "DATABASE_URL": database_url,
            "RATELIMIT_STORAGE_URI": "memory://",
            "PROXY_HOPS": hops,
        }
    )


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_forwarded_headers_without_proxy_hops_are_warned_about_once(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = _app(database_url, hops=0)
    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        assert client.get("/healthz").status_code == 200
        assert _warnings(caplog) == []
        for _ in range(3):
            assert client.get("/healthz", headers=FORWARDED).status_code == 200
    assert _warnings(caplog) == [UNTRUSTED_FORWARDING]
    # The warning names the setting, never the forwarded address.
    assert "198.51.100.7" not in caplog.text
    db.engine_for(app).dispose()


def test_with_proxy_hops_the_forwarded_client_is_used_and_nothing_is_warned(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = _app(database_url, hops=1)

    @app.get("/_seen")
    def seen() -> dict[str, str]:
        from flask import request

        return {"address": request.remote_addr or "", "scheme": request.scheme}

    with caplog.at_level(logging.WARNING):
        seen_by_app = app.test_client().get("/_seen", headers=FORWARDED).get_json()
    assert seen_by_app == {"address": "198.51.100.7", "scheme": "https"}
    assert _warnings(caplog) == []
    db.engine_for(app).dispose()
