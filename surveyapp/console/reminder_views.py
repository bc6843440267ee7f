"""Reminder letters on the wave page: upload the kept CSV, get letters for unused codes."""

from __future__ import annotations

from flask import redirect, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from surveyapp.auth.views import current_user, login_required
from surveyapp.console import access, reminder_jobs, reminders
from surveyapp.console.blueprint import bp, flash_errors
from surveyapp.console.errors import ConsoleError
from surveyapp.console.wave_views import wave_page
from surveyapp.extensions import db
from surveyapp.jobs import enqueue
from surveyapp.models import Membership, Wave

ENDPOINT = "console.wave_reminders"


@bp.url_value_preprocessor
def allow_large_upload(endpoint: str | None, _values: dict | None) -> None:
    """Let this route's upload be larger than the app's 64 KB, before any hook reads it.

    URL value preprocessors run before every ``before_request`` hook (CSRF, NUL checks),
    which would otherwise parse the body under the app-wide limit.
    """
    if endpoint == ENDPOINT:
        request.max_content_length = reminders.MAX_BYTES + 64 * 1024


@bp.post("/waves/<int:wave_id>/reminders")
@login_required
def wave_reminders(wave_id: int):
    """Start a job laying out reminder letters for the uploaded codes not used yet."""
    found, membership = access.wave(wave_id, access.WRITE)
    language = request.form.get("language", "")
    upload = request.files.get("file")
    second = request.form.get("second_language") or None
    if language not in (found.languages or []) or second not in (None, *found.languages):
        return refused(found, membership, [_("Choose a language of the wave.")])
    if upload is None or not upload.filename:
        return refused(found, membership, [_("Choose the CSV file of codes you kept.")])
    try:
        job, summary, key = reminder_jobs.start_reminders(
            db.session,
            found,
            upload.read(),
            language,
            actor=current_user(),
            ui_language=str(get_locale() or "en"),
            second_language=second,
        )
    except ConsoleError as error:
        return refused(found, membership, [error])
    finally:
        upload.close()
    db.session.commit()
    if job is None or key is None:
        return wave_page(found, membership, reminder_summary=summary)
    reminder_jobs.remember_key(session, job.id, key)
    enqueue(job.id)
    return redirect(url_for(".letters_job", job_id=job.id), code=303)


def refused(found: Wave, membership: Membership, messages: list[object]):
    """The wave page with what is wrong with the upload; nothing was changed."""
    db.session.rollback()
    flash_errors([_("No reminder letters were made: %(reason)s", reason=str(m)) for m in messages])
    return wave_page(found, membership, 422)
