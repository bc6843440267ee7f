"""The job queue for real: ``surveyapp jobs worker`` processes on a SQLite file and on a
Redis of the test's own, as in development and production, take a letters job from the
queue and run it once, even when two workers see it twice."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from surveyapp import create_app, migrate
from surveyapp.console import letter_jobs
from surveyapp.extensions import db
from surveyapp.instruments import load_instrument
from surveyapp.jobs import enqueue
from surveyapp.models import BatchStatus, Invitation, Job, JobStatus, LetterBatch, User

from .conftest import CORE_INSTRUMENT, Factory, throwaway_database
from .respond.test_abuse import _free_port, _redis_server


@pytest.fixture(params=["sqlite", "redis"])
def queue_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'jobs.sqlite'}"
        return
    port = _free_port()
    server = _redis_server(port)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.kill()
        server.wait()


def _worker(database_url: str, queue_url: str, log: Path) -> subprocess.Popen:
    env = os.environ | {
        "SURVEYAPP_ENV": "testing",
        "SURVEYAPP_DATABASE_URL": database_url,
        "SURVEYAPP_JOBS_URL": queue_url,
    }
    with log.open("a") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "surveyapp.cli", "jobs", "worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def test_worker_processes_run_a_queued_letters_job_once(queue_url: str, tmp_path: Path) -> None:
    with throwaway_database(tmp_path) as url:
        migrate.upgrade(url)
        app = create_app({"ENV_NAME": "testing", "DATABASE_URL": url, "JOBS_URL": queue_url})
        with app.test_request_context():
            make = Factory(db.session, load_instrument(CORE_INSTRUMENT))
            wave = make.wave(mode="invitation")
            area = wave.initiative.areas_with_role("treated")[0]
            user = make.user(wave.initiative.city)
            job = letter_jobs.start_letters(
                db.session,
                wave,
                language="en",
                actor=db.session.get(User, user.id),
                ui_language="en",
                counts={area.id: 30},
            )
            db.session.commit()
            job_id = job.id
            assert enqueue(job_id) and enqueue(job_id)  # handed out twice
        log = tmp_path / "workers.log"
        workers = [_worker(url, queue_url, log) for _ in range(2)]
        try:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                with app.app_context():
                    status = db.session.get(Job, job_id).status
                    db.session.remove()
                if status not in (JobStatus.QUEUED, JobStatus.RUNNING):
                    break
                time.sleep(0.5)
        finally:
            for worker in workers:
                worker.terminate()
                worker.wait(timeout=30)
        with app.app_context():
            job = db.session.get(Job, job_id)
            assert job.status == JobStatus.DONE, (job.status, job.message, log.read_text())
            archive = zipfile.ZipFile(io.BytesIO(job.result))
            assert archive.read("letters.pdf").startswith(b"%PDF")
            assert len(archive.read("codes.csv").decode("utf-8-sig").splitlines()) == 31
            assert db.session.scalar(select(func.count(LetterBatch.id))) == 1
            assert db.session.scalar(select(LetterBatch.status)) == BatchStatus.READY
            assert db.session.scalar(select(func.count(Invitation.id))) == 30
            db.session.remove()
        db.engine_for(app).dispose()
        assert log.read_text().count("executed in") == 2  # both ran it; one did the work
