"""Run one job row: claim it once, call its kind's handler, record failure in words.

A job is claimed by moving it from queued to running in one UPDATE: a job the queue hands
out twice (a worker restarted after taking it) runs once. A handler reports progress with
:func:`progress`, which also notices a job cancelled meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import update
from sqlalchemy.orm import Session

from surveyapp.console.errors import ConsoleError
from surveyapp.db import utcnow
from surveyapp.extensions import db
from surveyapp.jobs.letters import run_letters
from surveyapp.jobs.progress import JobCancelled, JobFailed
from surveyapp.jobs.reminders import run_reminders, without_codes
from surveyapp.models import Job, JobStatus

log = logging.getLogger(__name__)


def handlers() -> dict[str, Callable[[Session, Job], None]]:
    return {"letters": run_letters, "reminders": run_reminders}


def claim(session: Session, job_id: int) -> bool:
    """Move job ``job_id`` from queued to running; False if another run has it (or it ended)."""
    now = utcnow()
    claimed = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
        .values(status=JobStatus.RUNNING, started_at=now, heartbeat_at=now)
    ).rowcount
    session.commit()
    return bool(claimed)


def run(job_id: int) -> None:
    """Run job ``job_id`` if it is still queued (in the current app context)."""
    session = db.session
    if not claim(session, job_id):
        log.info("job %s is not queued any more; not run again", job_id)
        return
    job = session.get(Job, job_id)
    assert job is not None
    try:
        handlers()[job.kind](session, job)
    except JobCancelled:
        session.rollback()
        log.info("job %s was cancelled", job_id)
    except Exception as error:  # a job that fails must say so, not stay "running"
        session.rollback()
        log.exception("job %s failed", job_id)
        fail(session, job_id, error)


def fail(session: Session, job_id: int, error: BaseException) -> None:
    """Mark the job failed with a message in its creator's language."""
    job = session.get(Job, job_id)
    if job is None:
        return
    with force_locale(job.params.get("ui_language", "en")):
        if isinstance(error, (JobFailed, ConsoleError)):
            message = str(error)
        else:
            message = _("An unexpected error stopped the job; the server's log says more.")
    job.status = JobStatus.FAILED
    job.message = message
    job.params = without_codes(job.params)  # a reminders job's codes
    job.sealed = None
    job.finished_at = utcnow()
    session.commit()
