"""The letters job: make a batch's codes, lay its letters out in parts, keep the ZIP.

The codes exist in plain text only in the worker's memory and in the ZIP the job keeps
(:attr:`Job.result`) until staff confirm the batch was printed or cancel it; then the ZIP
is deleted (:mod:`surveyapp.console.letter_jobs`). Letters are laid out in PDFs of
:data:`PART` letters each: progress moves on per part, memory stays bounded, and a print
shop gets files it can open.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import update
from sqlalchemy.orm import Session

from surveyapp.audit import record as audit
from surveyapp.console import invitations, panel_letters
from surveyapp.db import utcnow
from surveyapp.i18n import translations_dir
from surveyapp.instruments.paper import layout
from surveyapp.jobs.progress import JobCancelled, JobFailed, progress
from surveyapp.models import BatchStatus, Job, JobStatus, LetterBatch, User, Wave

#: Letters per PDF in the ZIP.
PART = 250


def actor_of(session: Session, job: Job) -> User | str:
    """Who asked for the job, for the audit log."""
    user = session.get(User, job.created_by_id) if job.created_by_id else None
    return user or "a deleted account"


def make_codes(session: Session, job: Job, wave: Wave) -> list[invitations.NewInvitation]:
    """The batch's codes (committed, batch still preparing), from the job's parameters."""
    params = job.params
    actor = actor_of(session, job)
    batch = LetterBatch(status=BatchStatus.PREPARING)
    base_url = current_app.config["BASE_URL"]
    if params.get("follows"):
        made = panel_letters.follow_up(
            session,
            wave,
            int(params["follows"]),
            base_url=base_url,
            actor=actor,
            limit=None,
            into=batch,
        )
    else:
        counts = {int(area): int(n) for area, n in params["counts"].items()}
        made = invitations.generate(
            session, wave, counts, base_url=base_url, actor=actor, limit=None, batch=batch
        )
    job.batch_id = batch.id
    job.total = len(made)
    session.commit()
    return made


def write_parts(
    session: Session,
    job: Job,
    wave: Wave,
    made: list[invitations.NewInvitation],
    archive: zipfile.ZipFile,
    *,
    name: str = "letters",
    reminder: bool = False,
) -> None:
    """Lay the letters out in PDFs of :data:`PART` letters into ``archive``, with progress."""
    language, second = job.params["language"], job.params.get("second_language")
    for start in range(0, len(made), PART):
        part = made[start : start + PART]
        html = invitations.letters_html(
            wave, part, language, translations_dir(), second_language=second, reminder=reminder
        )
        file_name = f"{name}-{start // PART + 1:03d}.pdf" if len(made) > PART else f"{name}.pdf"
        archive.writestr(file_name, layout(html).write_pdf())
        progress(session, job, start + len(part))


def complete(session: Session, job: Job, archive: bytes, name: str, **values: object) -> None:
    """Keep the result and mark the job done, unless it was cancelled meanwhile.

    The job moves to done only from running, in one UPDATE: a cancellation that came
    after the last progress step wins (JobCancelled), and the result is not kept.
    """
    done = session.execute(
        update(Job)
        .where(Job.id == job.id, Job.status == JobStatus.RUNNING)
        .values(
            status=JobStatus.DONE,
            result=archive,
            result_name=name,
            done=job.total,
            finished_at=utcnow(),
            **values,
        )
    ).rowcount
    if not done:
        session.rollback()
        raise JobCancelled


def run_letters(session: Session, job: Job) -> None:
    """Make the codes, lay out the letters part by part, keep the ZIP; the batch is ready."""
    wave = session.get(Wave, job.wave_id) if job.wave_id else None
    if wave is None:
        raise JobFailed("The wave was deleted before its letters were made.")
    made = make_codes(session, job, wave)
    buffer = io.BytesIO()
    try:
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            write_parts(session, job, wave, made, archive)
            archive.writestr("codes.csv", invitations.mail_merge_csv(made, job.params["language"]))
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        complete(session, job, buffer.getvalue(), f"wave-{wave.id}-letters-{stamp}.zip")
    except Exception:
        session.rollback()
        forget_codes(session, job)
        raise
    batch = session.get(LetterBatch, job.batch_id)
    assert batch is not None
    batch.status = BatchStatus.READY
    audit(
        session,
        actor_of(session, job),
        wave.city_id,
        "letters_prepared",
        "wave",
        wave.id,
        batch=batch.id,
        letters=len(made),
        language=job.params["language"],
    )
    session.commit()


def forget_codes(session: Session, job: Job) -> None:
    """A job that stopped after making codes: nobody has them; the batch is cancelled."""
    from surveyapp.console.letter_jobs import cancel_batch

    batch = session.get(LetterBatch, job.batch_id) if job.batch_id else None
    if batch is not None and batch.status != BatchStatus.CANCELLED:
        cancel_batch(session, batch, actor="the letters job")
        session.commit()
