"""Background jobs on a real queue: huey, with SQLite as the embedded default, Redis in production.

The queue carries only a job's id; the :class:`~surveyapp.models.Job` row holds what was
asked, how far it got and its result. ``SURVEYAPP_JOBS_URL`` chooses the queue:

- ``sqlite:///PATH`` (the default outside production: ``instance/jobs.sqlite``), one machine;
- ``redis://HOST:PORT/DB`` (the default in production: ``redis://127.0.0.1:6379/1``), any
  number of app servers and workers;
- ``memory://`` (the test suite's default): a job runs at once, in the request that asks.

Workers run ``surveyapp jobs worker`` (see docs/operations.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app, has_app_context
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.config import ConfigurationError
from surveyapp.db import utcnow
from surveyapp.models import Job, JobStatus

EXTENSION = "surveyapp.jobs"
log = logging.getLogger(__name__)


def make_queue(url: str) -> Huey:
    """The huey instance for ``url`` (see the module's docstring)."""
    if url == "memory://":
        return MemoryHuey("surveyapp", immediate=True, results=False)
    if url.startswith(("redis://", "rediss://")):
        return RedisHuey("surveyapp", url=url, results=False)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey("surveyapp", filename=str(path), results=False)
    raise ConfigurationError(
        f"SURVEYAPP_JOBS_URL={url!r} is not a queue: use sqlite:///PATH, "
        "redis://HOST:PORT/DB or memory://."
    )


def init_app(app: Flask) -> None:
    """Create the app's queue and its one task, which runs a job row in an app context."""
    queue = make_queue(app.config["JOBS_URL"])

    @queue.task(name="run_job")
    def run_job(job_id: int) -> None:
        from surveyapp.jobs.runner import run

        if has_app_context() and current_app._get_current_object() is app:  # type: ignore[attr-defined]
            run(job_id)  # immediate mode, inside the request that asked
            return
        with app.app_context():
            run(job_id)

    app.extensions[EXTENSION] = (queue, run_job)


def queue_of(app: Flask) -> Huey:
    return app.extensions[EXTENSION][0]


def enqueue(job_id: int) -> bool:
    """Put job ``job_id`` (committed, status queued) on the current app's queue.

    False when the queue does not answer (Redis restarting): the job stays queued in the
    database, and the next worker to start puts it on the queue (:func:`requeue`).
    """
    task: Callable[[int], object] = current_app.extensions[EXTENSION][1]
    try:
        task(job_id)
    except Exception:  # the queue's own errors (redis.ConnectionError, sqlite3.Error, ...)
        log.exception("job %s could not be queued; a worker will pick it up when it starts", job_id)
        return False
    return True


def requeue(session: Session, older_than: timedelta = timedelta(seconds=30)) -> int:
    """Queue again the jobs still waiting in the database (lost by a queue that restarted).

    Safe to repeat: a job runs once whatever the queue holds (:func:`runner.claim`).
    """
    cutoff = utcnow() - older_than
    waiting = session.scalars(
        select(Job.id).where(Job.status == JobStatus.QUEUED, Job.created_at < cutoff)
    ).all()
    for job_id in waiting:
        enqueue(job_id)
    return len(waiting)
