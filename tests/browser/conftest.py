"""A live server on its own database and Debian's Chromium, driven by Playwright.

Chromium comes from the Debian package ``chromium`` (/usr/bin/chromium), never from
Playwright's downloads. When it is missing and the tests run as root (CI), it is installed
with apt-get; otherwise the tests fail and say how to install it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from werkzeug.serving import make_server

from surveyapp import create_app, migrate
from surveyapp.extensions import db
from surveyapp.instruments import load_instrument

from ..conftest import CORE_INSTRUMENT, Factory, throwaway_database

CHROMIUM = os.environ.get("SURVEYAPP_CHROMIUM", "/usr/bin/chromium")
# A small Android phone.
PHONE = {"width": 360, "height": 740}
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-first-run",
    "--metrics-recording-only",
]

# axe-core rules for every page: WCAG 2.0-2.2 A and AA, plus axe's best practices (landmarks,
# heading order, ...). Shared by the accessibility and console browser tests.
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}


def chromium_executable() -> str:
    """The Chromium binary, installing Debian's package first if needed and possible."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if shutil.which("apt-get") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-q", "chromium"]
        if subprocess.run(install, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
            subprocess.run(install, env=env, capture_output=True)
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is not at {CHROMIUM}. Install it with `sudo apt-get install chromium` "
            "(or `make browser`), or set SURVEYAPP_CHROMIUM to its path."
        )
    return CHROMIUM


class LiveServer:
    """The app served over HTTP on 127.0.0.1 from a thread, with its own database."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        app.config["BASE_URL"] = self.url
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def factory(self) -> Factory:
        """Factories whose objects are committed for real (call inside ``app_context``)."""
        return Factory(db.session, load_instrument(CORE_INSTRUMENT))


def job_worker(app: Flask, jobs_url: str, log: Path) -> subprocess.Popen:
    """``surveyapp jobs worker`` on the live server's database and queue, logging to ``log``."""
    env = os.environ | {
        "SURVEYAPP_ENV": "testing",
        "SURVEYAPP_DATABASE_URL": app.config["DATABASE_URL"],
        "SURVEYAPP_BASE_URL": app.config["BASE_URL"],
        "SURVEYAPP_JOBS_URL": jobs_url,
        "SURVEYAPP_ADMIN_SECOND_FACTOR": "0",
    }
    command = [sys.executable, "-m", "surveyapp.cli", "jobs", "worker"]
    with log.open("w") as out:  # the child keeps its own copy of the file
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    directory = tmp_path_factory.mktemp("live")
    with throwaway_database(directory) as url:
        migrate.upgrade(url)
        # CSRF stays on: the browser goes through exactly what residents go through.
        # Admins sign in with their password alone here, as in the main suite's app.
        # Letters are made by a real job worker (another process) on a SQLite queue.
        jobs = f"sqlite:///{directory / 'jobs.sqlite'}"
        settings = {"ENV_NAME": "testing", "DATABASE_URL": url, "ADMIN_SECOND_FACTOR": False}
        app = create_app(settings | {"JOBS_URL": jobs})
        live = LiveServer(app)
        live.thread.start()
        worker = job_worker(app, jobs, directory / "worker.log")
        try:
            yield live
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            live.server.shutdown()
            with app.app_context():
                db.session.remove()
            db.engine_for(app).dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = chromium_executable()
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh phone-sized browser profile (no cookies): closing it is closing the browser."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB")
    yield context
    context.close()


def new_phone(browser: Browser, locale: str = "en-GB") -> BrowserContext:
    return browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale=locale)


def watch_requests(page: Page, live: LiveServer) -> list[str]:
    """Every URL the page asks for that is not the app itself (should stay empty)."""
    foreign: list[str] = []
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(live.url + "/") else foreign.append(request.url)
        ),
    )
    return foreign
