"""What a job's handler uses while it runs: progress, and the ways a job stops early."""

from __future__ import annotations

from sqlalchemy.orm import Session

from surveyapp.db import utcnow
from surveyapp.models import Job, JobStatus


class JobCancelled(Exception):
    """Staff cancelled the job while it ran."""


class JobFailed(Exception):
    """A job could not be done, for a reason staff can act on (the message says it)."""


def progress(session: Session, job: Job, done: int) -> None:
    """Record ``done`` steps of ``job`` (committed); raise JobCancelled if staff cancelled it."""
    session.refresh(job, ["status"])
    if job.status == JobStatus.CANCELLED:
        raise JobCancelled
    job.done = done
    job.heartbeat_at = utcnow()
    session.commit()
