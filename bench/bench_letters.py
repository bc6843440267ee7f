"""Invitation letters as a background job: letters per second, and a whole job end to end.

1. Layout speed, in process: the median time to lay out one part (250 letters, the job's
   PDF size) over three runs, as letters per second.
2. End to end, as staff get it: a wave on a SQLite database, the console's service queues a
   job for N letters on a SQLite queue, a real ``surveyapp jobs worker`` process runs it;
   the script polls the job's row as the progress page does and reports the wall time from
   the request to a downloadable ZIP, the worker's peak memory and the ZIP's size.

Usage::

    .venv/bin/python bench/bench_letters.py [--letters 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from surveyapp import create_app, migrate  # noqa: E402
from surveyapp.console import invitations, letter_jobs  # noqa: E402
from surveyapp.extensions import db  # noqa: E402
from surveyapp.i18n import translations_dir  # noqa: E402
from surveyapp.instruments import load_instrument  # noqa: E402
from surveyapp.instruments.paper import layout  # noqa: E402
from surveyapp.jobs import enqueue  # noqa: E402
from surveyapp.jobs.letters import PART  # noqa: E402
from surveyapp.models import Job, JobStatus  # noqa: E402
from tests.conftest import CORE_INSTRUMENT, Factory  # noqa: E402


def layout_speed(wave, runs: int) -> float:
    """Median seconds to lay out one part of letters (codes made, not committed)."""
    made = invitations.generate(
        db.session,
        wave,
        {area.id: PART for area in wave.initiative.areas_with_role("treated")[:1]},
        base_url="https://survey.example.org",
        actor="bench",
        limit=None,
    )
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        layout(invitations.letters_html(wave, made, "en", translations_dir())).write_pdf()
        times.append(time.perf_counter() - start)
    db.session.rollback()
    return statistics.median(times)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def end_to_end(app, url: str, jobs: str, wave_id: int, user_id: int, letters: int) -> dict:
    """Queue one job for ``letters`` letters, run it in a worker process, time it."""
    env = os.environ | {
        "SURVEYAPP_ENV": "testing",
        "SURVEYAPP_DATABASE_URL": url,
        "SURVEYAPP_JOBS_URL": jobs,
        "OPENBLAS_NUM_THREADS": "1",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "surveyapp.cli", "jobs", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(2)  # the worker starts (imports, app) before staff ask
        with app.test_request_context():
            from surveyapp.models import User, Wave

            wave = db.session.get(Wave, wave_id)
            area = wave.initiative.areas_with_role("treated")[0]
            start = time.perf_counter()
            job = letter_jobs.start_letters(
                db.session,
                wave,
                language="en",
                actor=db.session.get(User, user_id),
                ui_language="en",
                counts={area.id: letters},
            )
            db.session.commit()
            enqueue(job.id)
            job_id = job.id
        first_progress = None
        while True:
            time.sleep(0.5)
            with app.app_context():
                row = db.session.get(Job, job_id)
                status, done, size = row.status, row.done, len(row.result or b"")
                db.session.remove()
            if first_progress is None and done:
                first_progress = time.perf_counter() - start
            if status not in (JobStatus.QUEUED, JobStatus.RUNNING):
                break
        elapsed = time.perf_counter() - start
        rss = peak_rss_mb(worker.pid)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    return {
        "status": status,
        "seconds": elapsed,
        "first_part": first_progress,
        "rss_mb": rss,
        "zip_mb": size / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--letters", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/bench.sqlite"
        jobs = f"sqlite:///{directory}/jobs.sqlite"
        migrate.upgrade(url)
        app = create_app({"ENV_NAME": "testing", "DATABASE_URL": url, "JOBS_URL": jobs})
        with app.test_request_context():
            make = Factory(db.session, load_instrument(CORE_INSTRUMENT))
            wave = make.wave(mode="invitation")
            user = make.user(wave.initiative.city)
            wave_id, user_id = wave.id, user.id
            part = layout_speed(wave, args.runs)
        print(
            f"layout: {PART} letters in {part:.2f} s (median of {args.runs}): "
            f"{PART / part:.0f} letters/s"
        )
        result = end_to_end(app, url, jobs, wave_id, user_id, args.letters)
        print(
            f"job of {args.letters} letters: {result['status']} in {result['seconds']:.1f} s "
            f"({args.letters / result['seconds']:.0f} letters/s); first part after "
            f"{result['first_part']:.1f} s; worker peak RSS {result['rss_mb']:.0f} MB; "
            f"ZIP {result['zip_mb']:.1f} MB"
        )


if __name__ == "__main__":
    main()
