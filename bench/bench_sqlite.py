"""Residents and a coordinator on the zero-setup default: gunicorn on a SQLite file.

50 simulated residents (`tests/load/driver.py`) answer the standard questionnaire through
an open link against gunicorn on a fresh SQLite file (WAL), for a while, and a signed-in
coordinator meanwhile opens the initiative's dashboard and its page in turn every 0.2 s.
The script prints the responses each got (a 503 is the "please try again" page), page-save
latencies and the database check (every acknowledged save stored exactly once, nothing
half-written).

Usage::

    .venv/bin/python bench/bench_sqlite.py [--seconds 20] [--think 2.0] [--residents 50]
        [--gunicorn "--workers 3 --timeout 30"]

``--think`` is the mean time in seconds a resident spends on a page (0: as fast as possible).
"""

from __future__ import annotations

import argparse
import http.client
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_load import _port, _serve, _stop  # noqa: E402
from surveyapp import create_app, migrate  # noqa: E402
from surveyapp.extensions import db  # noqa: E402
from surveyapp.instruments import load_instrument  # noqa: E402
from surveyapp.instruments.registry import wave_sections  # noqa: E402
from surveyapp.models import Role  # noqa: E402
from tests.conftest import CORE_INSTRUMENT, Factory, complete_answers  # noqa: E402
from tests.load.driver import run_residents, verify  # noqa: E402

PASSWORD = "correct horse battery"


def coordinator(port: int, email: str, paths: list[str], until: float) -> dict[str, int]:
    """Sign in, then open ``paths`` in turn every 0.2 s until ``until``; count statuses."""
    seen: dict[str, int] = {}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/staff/login")
    response = connection.getresponse()
    html = response.read()
    cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    csrf = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', html).group(1).decode()
    connection.request(
        "POST",
        "/staff/login",
        body=urlencode({"csrf_token": csrf, "email": email, "password": PASSWORD}),
        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    response = connection.getresponse()
    response.read()
    cookie = (response.getheader("Set-Cookie") or cookie).split(";", 1)[0]
    number = 0
    while time.monotonic() < until:
        path = paths[number % len(paths)]
        number += 1
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", path, headers={"Cookie": cookie})
        response = connection.getresponse()
        response.read()
        label = f"{path} {response.status}"
        seen[label] = seen.get(label, 0) + 1
        time.sleep(0.2)
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--think", type=float, default=2.0)
    parser.add_argument("--residents", type=int, default=50)
    parser.add_argument("--gunicorn", default="--workers 3 --timeout 30")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'city.sqlite'}"
        migrate.upgrade(url)
        setup = create_app({"ENV_NAME": "testing", "DATABASE_URL": url})
        with setup.app_context():
            make = Factory(db.session, load_instrument(CORE_INSTRUMENT))
            wave = make.wave(mode="open_link", languages=["en"])
            email = "coordinator@city.example"
            make.user(wave.initiative.city, role=Role.COORDINATOR, email=email, password=PASSWORD)
            db.session.commit()
            initiative = wave.initiative.id
            open_path, sections = f"/w/{wave.open_token}", wave_sections(wave)
            db.session.remove()
        db.engine_for(setup).dispose()
        port = _port()
        env = {
            "SURVEYAPP_ENV": "production",
            "SURVEYAPP_SECRET_KEY": secrets.token_urlsafe(48),
            "SURVEYAPP_DATABASE_URL": url,
            "SURVEYAPP_RATELIMIT_ENABLED": "0",  # every simulated resident is 127.0.0.1
            "SURVEYAPP_RATELIMIT_STORAGE_URI": "memory://",
        }
        server = _serve("surveyapp:create_app()", env, port, args.gunicorn.split())
        staff: dict[str, int] = {}
        paths = [f"/staff/initiatives/{initiative}/dashboard", f"/staff/initiatives/{initiative}"]
        watcher = threading.Thread(
            target=lambda: staff.update(
                coordinator(port, email, paths, time.monotonic() + args.seconds)
            )
        )
        try:
            watcher.start()
            tally = run_residents(
                f"http://127.0.0.1:{port}",
                open_path,
                [complete_answers([s]) for s in sections],
                args.residents,
                seconds=args.seconds,
                think=args.think,
            )
            watcher.join()
        finally:
            _stop(server)
        check = create_app({"ENV_NAME": "testing", "DATABASE_URL": url})
        with check.app_context():
            counts = verify(db.session, tally, [[i.id for i in s.items] for s in sections])
            db.session.remove()
        db.engine_for(check).dispose()
    latencies = sorted(tally.latencies_ms)
    q = statistics.quantiles(latencies, n=100)
    requests = sum(tally.statuses.values())
    try_again = tally.statuses.get(503, 0)
    print(
        f"# {args.residents} residents on SQLite, gunicorn {args.gunicorn}, "
        f"think {args.think} s, {args.seconds:.0f} s"
    )
    print(f"responses by status: {dict(sorted(tally.statuses.items()))}")
    print(
        f'"try again" pages: {try_again} of {requests} requests '
        f"({100 * try_again / requests:.1f} %); reconnections {tally.connection_errors}"
    )
    print(
        f"page saves acknowledged: {len(latencies):,}; p50 {statistics.median(latencies):.1f} ms, "
        f"p90 {q[89]:.1f} ms, p99 {q[98]:.1f} ms"
    )
    print(f"database check: {counts}")
    print(f"coordinator's pages: {staff}")


if __name__ == "__main__":
    main()
