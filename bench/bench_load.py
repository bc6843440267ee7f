"""Page-save throughput and latency under load: the app vs. a bare single-INSERT endpoint.

Both run under gunicorn with the same settings (by default docs/operations.md's setup behind a
buffering proxy on this machine's scale: 3 sync workers, cores + 1 because PostgreSQL shares
the machine; ``--gunicorn`` takes others, such as the gthread setup) and the
same engine settings against the same local PostgreSQL server. wrk (Debian package `wrk`)
drives 50 concurrent connections on loopback, in rounds that alternate app and bare (the
order flips each round) so that a slow stretch of this shared machine does not fall on one
side only; the report gives every round, the medians and the ratio of the medians. The
app's requests are real page saves: 100 residents' drafts (made beforehand through the
resident pages, with their session cookies and CSRF tokens) each POST page 1 with its
answers and a fresh idempotency key, "Next", again and again: parse, check the CSRF token,
read the draft, validate, record the key, replace the page's answers and update the draft
if it is unchanged since the read (the direct PostgreSQL save, ``surveyapp/respond/pg_save.py``),
redirect. The bare endpoint INSERTs the request body into a table and
redirects. Last, 50 residents who take about 2 s per page answer for one round's length.

Usage::

    .venv/bin/python bench/bench_load.py [--seconds 20] [--rounds 3] [--connections 50]
        [--gunicorn "--workers 3 --worker-class gthread --threads 8 --timeout 30"]
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from surveyapp import create_app, migrate  # noqa: E402
from surveyapp.extensions import db  # noqa: E402
from surveyapp.instruments import load_instrument  # noqa: E402
from surveyapp.instruments.registry import wave_sections  # noqa: E402
from surveyapp.models import PageSubmission  # noqa: E402
from tests.conftest import CORE_INSTRUMENT, Factory, complete_answers  # noqa: E402
from tests.load.driver import CSRF, KEY, run_residents  # noqa: E402

ADMIN = os.environ.get(
    "SURVEYAPP_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
GUNICORN = ["--workers", "3", "--timeout", "30"]

LUA = r"""
local sessions = {
%s
}
local threads = 0
setup = function(thread)
  thread:set("id", threads)
  threads = threads + 1
end
local n = #sessions
local counter = 0
local chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
local function key()
  local t = {}
  for i = 1, 32 do local r = math.random(1, #chars); t[i] = chars:sub(r, r) end
  return table.concat(t)
end
init = function(args)
  math.randomseed(os.time() * 7 + id)
end
-- Each wrk thread owns every other draft, and cycles through twice as many drafts as it
-- has connections: a resident never has two saves in flight at once, as on a real phone.
request = function()
  local s = sessions[((counter * 2 + id) %% n) + 1]
  counter = counter + 1
  local body = s[3] .. "&idempotency_key=" .. key()
  return wrk.format("POST", s[1], {["Cookie"] = s[2],
    ["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end
"""
BARE_LUA = r"""
request = function()
  return wrk.format("POST", "/save", {["Content-Type"] = "application/x-www-form-urlencoded"},
    "%s")
end
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(
    app_spec: str, env: dict[str, str], port: int, workers: list[str] = GUNICORN
) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *workers, "--bind", f"127.0.0.1:{port}", app_spec],
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except urllib.error.HTTPError:
            return process  # the bare app has no /healthz: it answered, so it is up
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{app_spec} did not start")


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


def _wrk(url: str, script: Path, seconds: int, connections: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def ms(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    non_ok = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "p50": ms("50"),
        "p90": ms("90"),
        "p99": ms("99"),
        "non_3xx": int(non_ok.group(1)) if non_ok else 0,
        "socket_errors": errors.group(1) if errors else "none",
    }


def _residents(base: str, open_path: str, body: dict[str, str], n: int) -> list[tuple]:
    """Start n drafts through the resident pages; their page-1 URL, cookie, form body."""
    import http.client

    sessions = []
    for _ in range(n):
        connection = http.client.HTTPConnection("127.0.0.1", int(base.rsplit(":", 1)[1]))
        connection.request("GET", open_path)
        response = connection.getresponse()
        html = response.read()
        cookie = response.getheader("Set-Cookie").split(";", 1)[0]
        csrf = CSRF.search(html).group(1).decode()
        form = urlencode({"csrf_token": csrf, "idempotency_key": KEY.search(html).group(1)})
        connection.request(
            "POST",
            open_path,
            body=form,
            headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        )
        response = connection.getresponse()
        response.read()
        cookie = (response.getheader("Set-Cookie") or cookie).split(";", 1)[0]
        page = response.getheader("Location").split("://", 1)[-1]
        page = page[page.index("/") :]
        if page.endswith("/area"):  # the wave-wide link asks the neighbourhood first
            connection.request(
                "POST",
                page,
                body=urlencode({"csrf_token": csrf, "area": "dont_know"}),
                headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
            )
            response = connection.getresponse()
            response.read()
            page = response.getheader("Location").split("://", 1)[-1]
            page = page[page.index("/") :]
        data = urlencode({**body, "csrf_token": csrf, "nav": "next"})
        sessions.append((page, cookie, data))
        connection.close()
    return sessions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20, help="length of one wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="app and bare runs, alternated")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument(
        "--gunicorn",
        default=" ".join(GUNICORN),
        help=f"gunicorn worker options for both servers (default: {' '.join(GUNICORN)})",
    )
    args = parser.parse_args()
    workers = args.gunicorn.split()
    name = f"surveyapp_bench_{secrets.token_hex(4)}"
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(ADMIN).set(database=name).render_as_string(hide_password=False)
    servers: list[subprocess.Popen] = []
    runs: dict[str, list[dict[str, float]]] = {"app page save": [], "bare INSERT": []}
    try:
        migrate.upgrade(url)
        setup = create_app({"ENV_NAME": "testing", "DATABASE_URL": url})
        with setup.app_context():
            wave = Factory(db.session, load_instrument(CORE_INSTRUMENT)).wave(
                mode="open_link", languages=["en"]
            )
            open_path, page_one = f"/w/{wave.open_token}", wave_sections(wave)[0]
            pages = [complete_answers([section]) for section in wave_sections(wave)]
            db.session.remove()
        db.engine_for(setup).dispose()
        body = complete_answers([page_one])

        from bench.bare_app import metadata

        bare_engine = create_engine(url)
        metadata.create_all(bare_engine)
        bare_engine.dispose()

        app_port, bare_port = _port(), _port()
        app_env = {
            "SURVEYAPP_ENV": "production",
            "SURVEYAPP_SECRET_KEY": secrets.token_urlsafe(48),
            "SURVEYAPP_DATABASE_URL": url,
            "SURVEYAPP_RATELIMIT_ENABLED": "0",
        }
        servers.append(_serve("surveyapp:create_app()", app_env, app_port, workers))
        servers.append(
            _serve("bench.bare_app:create_app()", {"BARE_DATABASE_URL": url}, bare_port, workers)
        )
        with tempfile.TemporaryDirectory() as directory:
            app_base = f"http://127.0.0.1:{app_port}"
            sessions = _residents(app_base, open_path, body, 2 * args.connections)
            lua = Path(directory) / "saves.lua"
            lua.write_text(LUA % ",\n".join(f'  {{"{p}", "{c}", "{d}"}}' for p, c, d in sessions))
            bare_lua = Path(directory) / "bare.lua"
            bare_lua.write_text(BARE_LUA % sessions[0][2])
            targets = {
                "app page save": (app_base, lua),
                "bare INSERT": (f"http://127.0.0.1:{bare_port}", bare_lua),
            }
            engine = create_engine(url)
            with engine.connect() as connection:
                before = connection.scalar(select(func.count()).select_from(PageSubmission))
            # Alternate the order round by round, so that a slow stretch of this shared
            # machine does not land on one side only.
            for round_number in range(args.rounds):
                order = list(targets) if round_number % 2 == 0 else list(targets)[::-1]
                for label in order:
                    base, script = targets[label]
                    runs[label].append(_wrk(base, script, args.seconds, args.connections))
            with engine.connect() as connection:
                stored = connection.scalar(select(func.count()).select_from(PageSubmission))
            engine.dispose()
            # Residents as they are: 50 at once, each taking about 2 s per page.
            paced = run_residents(
                app_base, open_path, pages, args.connections, seconds=args.seconds, think=2.0
            )
    finally:
        for server in servers:
            _stop(server)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    print(f"# Page saves under load ({time.strftime('%Y-%m-%d')}): gunicorn {args.gunicorn}")
    print(
        f"wrk -t2 -c{args.connections} -d{args.seconds}s, {args.rounds} rounds alternating app "
        "and bare, PostgreSQL on the same machine"
    )
    print()
    print("| endpoint | round | requests/s | p50 (ms) | p90 (ms) | p99 (ms) | non-3xx | errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for label, results in runs.items():
        for number, r in enumerate(results, start=1):
            print(
                f"| {label} | {number} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p90']:.1f} "
                f"| {r['p99']:.1f} | {r['non_3xx']} | {r['socket_errors']} |"
            )
    print()
    median = {
        label: {key: statistics.median(r[key] for r in results) for key in ("rps", "p50", "p99")}
        for label, results in runs.items()
    }
    app, bare = median["app page save"], median["bare INSERT"]
    per_round = [
        a["rps"] / b["rps"] for a, b in zip(runs["app page save"], runs["bare INSERT"], strict=True)
    ]
    print(
        f"Medians: app {app['rps']:.0f} requests/s (p50 {app['p50']:.1f} ms, p99 "
        f"{app['p99']:.1f} ms), bare {bare['rps']:.0f} requests/s (p50 {bare['p50']:.1f} ms, "
        f"p99 {bare['p99']:.1f} ms)."
    )
    print(
        f"Throughput ratio app / bare (medians): {app['rps'] / bare['rps']:.2f} (target >= 0.6); "
        f"per round: {', '.join(f'{ratio:.2f}' for ratio in per_round)}. "
        f"App p99 (median of rounds): {app['p99']:.1f} ms (target < 100 ms)."
    )
    lat = sorted(paced.latencies_ms)
    q = statistics.quantiles(lat, n=100)
    print(
        f"{args.connections} residents answering at about 2 s per page for {args.seconds} s: "
        f"{len(lat):,} page saves, p50 {statistics.median(lat):.1f} ms, p90 {q[89]:.1f} ms, "
        f"p99 {q[98]:.1f} ms, errors {sum(n for s, n in paced.statuses.items() if s >= 400)}."
    )
    app_requests = sum(r["requests"] for r in runs["app page save"])
    app_refused = sum(r["non_3xx"] for r in runs["app page save"])
    print(
        f"Page saves recorded in the database during the app runs: {stored - before:,} "
        f"(wrk counted {app_requests:,} requests, {app_refused} not answered with a redirect)."
    )


if __name__ == "__main__":
    main()
