"""docs/operations.md installs a working platform when its commands are run as written."""

from __future__ import annotations

import http.client
import re
import secrets
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ..conftest import BACKEND, PG_ADMIN_URL
from .servers import free_port, require_tools
from .walkthrough import DOC, Walkthrough, blocks

#: The blocks the smoke test leaves out, by heading; each says why in the document.
SKIPPED = [
    "1. Packages",
    "2. A system user",
    "8. nginx and TLS",
    "9. Daily jobs and encrypted backups",
]
PROXY = {"Host": "survey.city.example", "X-Forwarded-Proto": "https"}
ADDRESS, CODE = "198.51.100.77", "SMOKE7CODE"


def test_every_shell_block_is_a_marked_step_and_only_the_known_ones_are_skipped() -> None:
    found = blocks(DOC.read_text())
    assert [b.heading for b in found if b.skip] == SKIPPED
    assert found[0].heading == "0. Settings for this walk-through" and not found[0].skip
    # The order bug of old: the city must exist before a user gets a role in it.
    steps = "\n".join(b.code for b in found)
    assert steps.index("cities create") < steps.index("users create --email")


class Browser:
    """Requests through the proxy's headers to gunicorn, keeping the session cookie."""

    def __init__(self, port: int) -> None:
        self.port, self.cookies = port, {}

    def request(self, method: str, path: str, body: str | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {**PROXY, "X-Forwarded-For": ADDRESS}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"https://{PROXY['Host']}{path}"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        page = response.read().decode()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, value = cookie.split(";")[0].partition("=")
            self.cookies[name] = value
        connection.close()
        return response.status, response.getheader("Location"), page


def _sign_in(browser: Browser, email: str, password: str) -> tuple[int, int]:
    """Sign in on the staff login page; the POST's status, and that of the page it leads to."""
    from urllib.parse import urlencode, urlsplit

    status, _, page = browser.request("GET", "/staff/login")
    assert status == 200
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token, "no CSRF token on the sign-in page"
    form = urlencode({"csrf_token": token.group(1), "email": email, "password": password})
    posted, location, _ = browser.request("POST", "/staff/login", form)
    landing = 0
    for _ in range(5):  # follow the redirects within the console
        if not location:
            break
        landing, location, _ = browser.request("GET", urlsplit(location).path)
    return posted, landing


def _drop(name: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'DROP ROLE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.mark.slow
def test_the_walkthrough_installs_a_platform_that_serves_residents_and_staff(
    tmp_path: Path,
) -> None:
    if BACKEND != "postgresql":
        pytest.skip("runs in the PostgreSQL pass: the walk-through sets up PostgreSQL")
    require_tools("age", "age-keygen", "git", "psql", "pg_dump", "redis-cli", "curl")
    name = f"surveyapp_smoke_{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(18)
    port = free_port()
    walk = Walkthrough(tmp_path, PG_ADMIN_URL, password)
    walk.prepare(name, port)
    try:
        walk.run()
        browser = Browser(port)
        assert browser.request("GET", "/healthz")[0] == 200
        status, _, page = browser.request("GET", "/")
        assert status == 200 and "<form" in page
        assert browser.request("GET", f"/i/{CODE}")[0] == 404
        assert _sign_in(browser, "coordinator@city.example", password) == (303, 200)
    finally:
        walk.systemd.stop_all()
        _drop(name)
    print(f"walk-through steps, seconds: {walk.seconds}")
    assert walk.skipped == SKIPPED and len(walk.ran) >= 8

    state, server = Path(walk.env["SMOKE_STATE"]), walk.prefix
    env_file = server / "etc/surveyapp/env"
    assert env_file.stat().st_mode & 0o777 == 0o640
    settings = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
    db_password = make_url(settings["SURVEYAPP_DATABASE_URL"]).password
    # Backups from step 9 and the upgrade (one file if in the same second): encrypted, 0600.
    backups = sorted((server / "var/backups/surveyapp").glob("surveyapp-*.dump.age"))
    assert 1 <= len(backups) <= 2
    for backup in backups:
        assert backup.stat().st_mode & 0o777 == 0o600
        assert backup.read_bytes().startswith(b"age-encryption.org/v1")
    assert {p.name for p in state.glob("*.timer.enabled")} == {
        "surveyapp-daily.timer.enabled",
        "surveyapp-backup.timer.enabled",
    }
    output = walk.log.read_text()
    assert "Restored the database" in output
    logs = "".join(p.read_text() for p in state.glob("*.log"))
    assert '"GET /i/… HTTP/1.1" 404' in logs  # gunicorn's access log is on, and masked
    secret_values = [settings["SURVEYAPP_SECRET_KEY"], settings["SURVEYAPP_CODE_KEY"]]
    for secret in [*secret_values, db_password, password, CODE, ADDRESS]:
        assert secret and secret not in output + logs
