"""Letters jobs in the console: start one, watch it, download, confirm sent, cancel, restart."""

from __future__ import annotations

from flask import Response, abort, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from surveyapp.auth.views import current_user, login_required
from surveyapp.console import access, letter_jobs, reminder_jobs
from surveyapp.console.blueprint import bp, flash_ok, refuse
from surveyapp.console.errors import ConsoleError
from surveyapp.console.forms import InvitationsForm, error_messages
from surveyapp.extensions import db
from surveyapp.jobs import enqueue
from surveyapp.models import Job, JobStatus, Wave

#: Seconds between reloads of a job's page while it runs.
REFRESH = 2


def job_of(job_id: int, write: bool = False) -> tuple[Job, Wave]:
    """A letters job of one of the user's cities (404 otherwise), with its wave."""
    job = db.session.get(Job, job_id)
    if job is None or job.wave_id is None:
        abort(404)
    access.membership(job.city_id, access.WRITE if write else None)
    wave = db.session.get(Wave, job.wave_id)
    if wave is None:
        abort(404)
    return job, wave


def start(found: Wave, **what) -> Response:
    """Queue a letters job for ``found`` and go to its page (or back, saying why not)."""
    here = url_for(".wave", wave_id=found.id)
    try:
        job = letter_jobs.start_letters(
            db.session, found, actor=current_user(), ui_language=str(get_locale() or "en"), **what
        )
    except ConsoleError as error:
        return refuse([error], here)
    db.session.commit()
    enqueue(job.id)
    return redirect(url_for(".letters_job", job_id=job.id), code=303)


@bp.post("/waves/<int:wave_id>/invitations")
@login_required
def wave_invitations(wave_id: int):
    """Start a job making codes per area and their letters (PDFs) and mail-merge CSV."""
    found, _m = access.wave(wave_id, access.WRITE)
    form = InvitationsForm(found, limit=letter_jobs.MAX_JOB_LETTERS)
    if not form.validate():
        return refuse(error_messages(form), url_for(".wave", wave_id=wave_id))
    return start(
        found,
        counts=form.counts,
        language=form.language.data,
        second_language=form.second_language.data or None,
    )


@bp.post("/waves/<int:wave_id>/follow-up-letters")
@login_required
def wave_follow_up_letters(wave_id: int):
    """Start a job making follow-up letters for the households of an earlier batch."""
    found, _m = access.wave(wave_id, access.WRITE)
    here = url_for(".wave", wave_id=wave_id)
    language = request.form.get("language", "")
    batch = request.form.get("batch", "").strip()
    if language not in (found.languages or []):
        return refuse([_("Choose a language of the wave.")], here)
    if not batch.isdigit():
        return refuse([_("Choose the batch of letters to follow up.")], here)
    second = request.form.get("second_language") or None
    if second is not None and second not in (found.languages or []):
        return refuse([_("Choose a language of the wave.")], here)
    return start(found, follows=int(batch), language=language, second_language=second)


@bp.get("/jobs/<int:job_id>")
@login_required
def letters_job(job_id: int):
    """A letters job's progress (reloading itself while it runs), then its actions."""
    job, wave = job_of(job_id)
    membership = access.membership(job.city_id)
    running = job.status in (JobStatus.QUEUED, JobStatus.RUNNING)
    stale = letter_jobs.is_stale(job)
    return render_template(
        "console/job.html",
        user=current_user(),
        job=job,
        wave=wave,
        batch=letter_jobs.batch_of(db.session, job),
        refresh=REFRESH if running and not stale else None,
        stale=stale,
        can_write=membership.role in access.WRITE,
        summary=job.params.get("summary", []),
        deleted=job.result_name is None,
    )


@bp.get("/jobs/<int:job_id>/letters.zip")
@login_required
def letters_job_download(job_id: int):
    """The job's ZIP: the letters' PDFs and the mail-merge CSV with the codes."""
    job, _wave = job_of(job_id, write=True)
    try:
        if job.kind == "reminders":
            archive = reminder_jobs.reminders_archive(job, reminder_jobs.key_of(session, job.id))
        else:
            archive = letter_jobs.mark_downloaded(db.session, job, current_user())
    except ConsoleError as error:
        return refuse([error], url_for(".letters_job", job_id=job_id))
    db.session.commit()
    return Response(
        archive,
        mimetype="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{job.result_name}"',
            "Cache-Control": "no-store",
        },
    )


@bp.post("/jobs/<int:job_id>/<any(confirm, cancel, restart):step>")
@login_required
def letters_job_action(job_id: int, step: str):
    """Confirm the batch was sent, cancel it (its codes stop working), or start it again."""
    job, _wave = job_of(job_id, write=True)
    here = url_for(".letters_job", job_id=job_id)
    actor = current_user()
    try:
        if step == "confirm":
            letter_jobs.confirm_sent(db.session, job, actor)
        elif step == "cancel" and job.kind == "reminders":
            reminder_jobs.delete_reminders(job)
        elif step == "cancel":
            letter_jobs.cancel(db.session, job, actor)
        else:
            again = letter_jobs.restart(db.session, job, actor)
    except ConsoleError as error:
        return refuse([error], here)
    db.session.commit()
    if step == "restart":
        enqueue(again.id)
        return redirect(url_for(".letters_job", job_id=again.id), code=303)
    if step == "confirm":
        flash_ok(_("Batch confirmed as sent: its letters now count in the response rate."))
    elif job.kind == "reminders":
        flash_ok(_("The reminder letters were deleted from the server."))
    else:
        flash_ok(_("Batch cancelled: its codes no longer work."))
    return redirect(here, code=303)
