"""Dataset download at scale: time to first byte and server memory, 1,000,000 responses.

Builds a PostgreSQL database with the demo city (its areas, population margins, two waves and
frozen scoring model) plus N synthetic complete responses with random answers to the 29 core
and demographics questions (29 million answer rows for N = 1,000,000), then serves the app with
gunicorn (one sync worker, as in production but alone) and downloads, as a signed-in analyst:

- the initiative's CSV (wide), streamed: time to first byte, total time, rows, size;
- the same as Parquet (written to a temporary file, then sent);

while sampling the worker's resident memory (VmRSS, every 50 ms, plus the kernel's peak
VmHWM). Targets (issue #7): CSV first byte within 1 s, worker under 300 MB.

Usage::

    .venv/bin/python bench/bench_export.py [--responses 1000000] [--formats csv,parquet]
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.bench_load import ADMIN, _port, _serve, _stop  # noqa: E402
from surveyapp import create_app, migrate  # noqa: E402
from surveyapp.auth.services import create_user  # noqa: E402
from surveyapp.demo import build_demo  # noqa: E402
from surveyapp.extensions import db  # noqa: E402
from surveyapp.instruments import load_instrument  # noqa: E402
from surveyapp.instruments.registry import publish  # noqa: E402
from surveyapp.models import Initiative, Role, User  # noqa: E402
from surveyapp.reports import build_initiative_report  # noqa: E402
from tests.conftest import CORE_INSTRUMENT  # noqa: E402

PASSWORD = "correct horse battery staple"


def _status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in kB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS", "VmHWM")):
            key, value = line.split(":")
            out[key] = int(value.split()[0])
    return out


def _worker(master: int) -> int:
    for _ in range(50):
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("no gunicorn worker")


def _populate(url: str, n: int) -> int:
    """Demo city plus ``n`` random complete responses; returns the initiative id."""
    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": url})
    with app.app_context():
        instrument = load_instrument(CORE_INSTRUMENT)
        row, _created = publish(db.session, instrument)
        info = build_demo(db.session, row, instrument)
        create_user(
            db.session,
            email="analyst@demo.example",
            password=PASSWORD,
            display_name="Bench analyst",
            city=info.city,
            role=Role.ANALYST,
        )
        db.session.commit()
        initiative = db.session.scalar(select(Initiative))
        # Freeze the scoring model on the demo's baseline, as the first report does.
        build_initiative_report(db.session, initiative, actor=db.session.scalar(select(User)))
        db.session.commit()
        waves = [w.id for w in initiative.waves]
        areas = [link.area_id for link in initiative.area_links]
        items = []
        for section in instrument.sections_for(["demographics"]):
            for item in section.items:
                if item.type == "number":
                    items.append((item.id, "number", item.min or 0, min(item.max or 9, 9)))
                elif item.options:
                    codes = [o.code for o in item.options]
                    items.append((item.id, "code", min(codes), max(codes)))
        initiative_id = initiative.id
        db.session.remove()
    db.engine_for(app).dispose()
    engine = create_engine(url)
    values = ", ".join(f"('{i}', '{k}', {lo}, {hi})" for i, k, lo, hi in items)
    started = time.perf_counter()
    with engine.begin() as connection:
        first = connection.scalar(text("SELECT coalesce(max(id), 0) FROM responses"))
        connection.execute(
            text(
                """
                INSERT INTO responses (wave_id, area_id, language, channel, status, started_on,
                    submitted_on, duration_seconds, quality_flags, idempotency_key, page)
                SELECT (:waves)[1 + g % 2], (:areas)[1 + (g / 2) % 4], 'en', 'open_link',
                    'complete', CAST(now() - interval '30 days' + g * interval '1 second' AS DATE),
                    CAST(now() - interval '30 days' + g * interval '1 second' AS DATE),
                    240 + floor(random() * 600),
                    '[]', 'bench-' || g, 1
                FROM generate_series(1, :n) AS g
                """
            ),
            {"waves": waves, "areas": areas, "n": n},
        )
        connection.execute(
            text(
                f"""
                INSERT INTO answers (response_id, item_id, value_code, value_number)
                SELECT r.id, i.item,
                    CASE WHEN i.kind = 'code'
                        THEN i.lo + floor(random() * (i.hi - i.lo + 1))::int END,
                    CASE WHEN i.kind = 'number'
                        THEN i.lo + floor(random() * (i.hi - i.lo + 1)) END
                FROM responses r CROSS JOIN (VALUES {values}) AS i(item, kind, lo, hi)
                WHERE r.id > :first
                """
            ),
            {"first": first},
        )
    with engine.connect() as connection:
        connection.execute(text("COMMIT"))
        connection.execute(text("ANALYZE"))
        answers = connection.scalar(text("SELECT count(*) FROM answers"))
    engine.dispose()
    print(
        f"populated {n:,} responses, {answers:,} answers in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    return initiative_id


class Staff:
    """A signed-in browser: one session cookie, sent by hand (production cookies are Secure,
    which urllib's cookie jar keeps off plain-HTTP loopback)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookie = ""

    def request(self, path: str, body: dict[str, str] | None = None):
        data = urllib.parse.urlencode(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data)
        if self.cookie:
            request.add_header("Cookie", self.cookie)
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            response = opener.open(request, timeout=3600)
        except urllib.error.HTTPError as redirect:
            response = redirect
        cookie = response.headers.get("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        return response

    def sign_in(self) -> None:
        page = self.request("/staff/login").read().decode()
        token = re.search(r'name="csrf_token"[^>]* value="([^"]+)"', page).group(1)
        response = self.request(
            "/staff/login",
            {"email": "analyst@demo.example", "password": PASSWORD, "csrf_token": token},
        )
        if response.status not in (302, 303):
            raise RuntimeError(f"sign-in failed: {response.status}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _download(staff: Staff, path: str, worker: int) -> dict[str, float]:
    samples: list[int] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append(_status(worker)["VmRSS"])
            time.sleep(0.05)

    before = _status(worker)["VmRSS"]
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    first_byte = None
    size = 0
    lines = 0
    with staff.request(path) as response:
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status}")
        while piece := response.read1(1 << 16):
            if first_byte is None:
                first_byte = time.perf_counter() - started
            size += len(piece)
            lines += piece.count(b"\n")
    total = time.perf_counter() - started
    done.set()
    sampler.join()
    return {
        "first_byte_s": first_byte or total,
        "total_s": total,
        "mb": size / 1e6,
        "lines": lines,
        "rss_before_mb": before / 1024,
        "rss_peak_mb": max(samples) / 1024,
        "rss_median_mb": statistics.median(samples) / 1024,
        "hwm_mb": _status(worker)["VmHWM"] / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--formats", default="csv,parquet")
    args = parser.parse_args()
    name = f"surveyapp_bench_{secrets.token_hex(4)}"
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(ADMIN).set(database=name).render_as_string(hide_password=False)
    server = None
    try:
        migrate.upgrade(url)
        initiative = _populate(url, args.responses)
        port = _port()
        server = _serve(
            "surveyapp:create_app()",
            {
                "SURVEYAPP_ENV": "production",
                "SURVEYAPP_SECRET_KEY": secrets.token_urlsafe(48),
                "SURVEYAPP_DATABASE_URL": url,
                "SURVEYAPP_RATELIMIT_ENABLED": "0",
            },
            port,
            workers=["--workers", "1", "--worker-class", "sync", "--timeout", "3600"],
        )
        staff = Staff(f"http://127.0.0.1:{port}")
        staff.sign_in()
        worker = _worker(server.pid)
        staff.request("/staff/").read()  # warm: imports and the first queries done
        print(f"machine: {os.cpu_count()} cores; worker pid {worker}", flush=True)
        for fmt in args.formats.split(","):
            result = _download(
                staff, f"/staff/initiatives/{initiative}/dataset?format={fmt}", worker
            )
            print(
                f"{fmt:8s} first byte {result['first_byte_s']:.3f} s, total "
                f"{result['total_s']:.1f} s, {result['mb']:.0f} MB, {result['lines']:,} lines; "
                f"worker RSS before {result['rss_before_mb']:.0f} MB, median "
                f"{result['rss_median_mb']:.0f} MB, peak {result['rss_peak_mb']:.0f} MB "
                f"(kernel high-water mark {result['hwm_mb']:.0f} MB)",
                flush=True,
            )
    finally:
        if server is not None:
            _stop(server)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
