"""Letters as background jobs: start one, download its ZIP, confirm it was sent, or cancel.

A batch made in the console is *sent* only when staff confirm it was printed and posted;
until then monitoring does not count its letters. Cancelling forgets its codes (they stop
working) and deletes the ZIP; confirming deletes the ZIP too, so the platform holds the
codes in plain text only between the job's end and the confirmation.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from surveyapp.audit import record as audit
from surveyapp.console import invitations, panel_letters
from surveyapp.console.errors import ConsoleError
from surveyapp.db import utcnow
from surveyapp.models import BatchStatus, Invitation, Job, JobStatus, LetterBatch, User, Wave

#: Most letters one console action may ask for (the job makes them in the background).
MAX_JOB_LETTERS = 20_000
#: A running job whose heartbeat is older than this lost its worker.
STALE_AFTER = timedelta(minutes=10)


def start_letters(
    session: Session,
    wave: Wave,
    *,
    language: str,
    actor: User,
    ui_language: str,
    counts: Mapping[int, int] | None = None,
    follows: int | None = None,
    second_language: str | None = None,
) -> Job:
    """Check the request and queue a letters job (committed by the caller, then enqueued)."""
    if follows is not None:
        total = len(panel_letters.check_follow_up(session, wave, follows, limit=MAX_JOB_LETTERS))
    else:
        total = sum(invitations.check_counts(session, wave, counts or {}, MAX_JOB_LETTERS).values())
    params: dict = {"language": language, "ui_language": ui_language}
    if second_language and second_language != language:
        params["second_language"] = second_language
    if follows is not None:
        params["follows"] = follows
    else:
        params["counts"] = {str(area): n for area, n in (counts or {}).items() if n}
    job = Job(
        city_id=wave.city_id,
        wave_id=wave.id,
        kind="letters",
        status=JobStatus.QUEUED,
        params=params,
        total=total,
        created_by_id=actor.id,
    )
    session.add(job)
    session.flush()
    audit(
        session,
        actor,
        wave.city_id,
        "letters_job_started",
        "wave",
        wave.id,
        job=job.id,
        letters=total,
        language=language,
    )
    return job


def is_stale(job: Job) -> bool:
    """A running job whose worker stopped moving it on."""
    beat = job.heartbeat_at or job.started_at or job.created_at
    return job.status == JobStatus.RUNNING and utcnow() - beat > STALE_AFTER


def batch_of(session: Session, job: Job) -> LetterBatch | None:
    return session.get(LetterBatch, job.batch_id) if job.batch_id else None


def mark_downloaded(session: Session, job: Job, actor: User) -> bytes:
    """The job's ZIP, noting its first download (audited every time). Not committed."""
    if job.status != JobStatus.DONE or job.result is None:
        raise ConsoleError(
            _l("These letters are no longer kept: the batch was confirmed or cancelled.")
        )
    if job.downloaded_at is None:
        job.downloaded_at = utcnow()
    audit(
        session,
        actor,
        job.city_id,
        "letters_downloaded",
        "wave",
        job.wave_id,
        batch=job.batch_id,
        letters=job.total,
        language=job.params.get("language"),
    )
    return job.result


def confirm_sent(session: Session, job: Job, actor: User) -> LetterBatch:
    """The batch was printed and posted: it counts as sent; the ZIP is deleted. Not committed."""
    batch = batch_of(session, job)
    if job.status != JobStatus.DONE or batch is None or batch.status != BatchStatus.READY:
        raise ConsoleError(_l("Only a batch whose letters are ready can be confirmed as sent."))
    if job.downloaded_at is None:
        raise ConsoleError(_l("Download the letters before confirming they were sent."))
    batch.status = BatchStatus.SENT
    batch.sent_at = utcnow()
    job.result = None
    audit(
        session,
        actor,
        job.city_id,
        "letters_sent",
        "wave",
        job.wave_id,
        batch=batch.id,
        letters=batch.letters,
    )
    return batch


def cancel(session: Session, job: Job, actor: User) -> None:
    """Stop the job if it has not ended, forget its batch's codes and delete the ZIP."""
    if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        job.status = JobStatus.CANCELLED
        job.finished_at = utcnow()
    batch = batch_of(session, job)
    if batch is None and job.status == JobStatus.CANCELLED:
        audit(session, actor, job.city_id, "letters_cancelled", "wave", job.wave_id, job=job.id)
        return
    if batch is None or batch.status == BatchStatus.CANCELLED:
        raise ConsoleError(_l("This batch was already cancelled."))
    job.result = None
    cancel_batch(session, batch, actor=actor)


def cancel_batch(session: Session, batch: LetterBatch, *, actor: User | str) -> None:
    """Forget the batch's codes (they stop working) and mark it cancelled. Not committed.

    Answers already sent with its codes are kept: they are not linked to the codes.
    """
    session.execute(delete(Invitation).where(Invitation.batch_id == batch.id))
    batch.status = BatchStatus.CANCELLED
    batch.cancelled_at = utcnow()
    audit(
        session,
        actor,
        batch.wave.city_id,
        "letters_cancelled",
        "wave",
        batch.wave_id,
        batch=batch.id,
        letters=batch.letters,
    )


def restart(session: Session, job: Job, actor: User) -> Job:
    """A stalled job's codes are lost with its worker: cancel it and queue the same again."""
    if job.kind == "reminders":
        raise ConsoleError(_l("Upload the file again to make these reminder letters."))
    if not is_stale(job) and job.status != JobStatus.FAILED:
        raise ConsoleError(_l("Only a failed or stalled job can be started again."))
    if job.status == JobStatus.RUNNING:
        job.status = JobStatus.CANCELLED
        job.finished_at = utcnow()
    batch = batch_of(session, job)
    if batch is not None and batch.status != BatchStatus.CANCELLED:
        cancel_batch(session, batch, actor=actor)
    again = Job(
        city_id=job.city_id,
        wave_id=job.wave_id,
        kind=job.kind,
        params=dict(job.params),
        total=job.total,
        created_by_id=actor.id,
        status=JobStatus.QUEUED,
    )
    session.add(again)
    session.flush()
    audit(
        session,
        actor,
        job.city_id,
        "letters_job_started",
        "wave",
        job.wave_id,
        job=again.id,
        letters=job.total,
        language=job.params.get("language"),
        restarts=job.id,
    )
    return again


def jobs_of(session: Session, wave: Wave) -> list[Job]:
    """The wave's jobs (letters and reminders), newest first."""
    query = select(Job).where(Job.wave_id == wave.id)
    return list(session.scalars(query.order_by(Job.id.desc())))
