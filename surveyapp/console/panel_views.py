"""Panel follow-up letters on the wave page: made from an earlier panel wave's batch."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, current_app, request, url_for
from flask_babel import gettext as _

from surveyapp.auth.views import current_user, login_required
from surveyapp.console import access, panel_letters
from surveyapp.console.blueprint import bp, refuse
from surveyapp.console.errors import ConsoleError
from surveyapp.extensions import db
from surveyapp.i18n import translations_dir


@bp.post("/waves/<int:wave_id>/follow-up-letters")
@login_required
def wave_follow_up_letters(wave_id: int):
    """Follow-up letters for the households of an earlier batch, as the usual ZIP."""
    found, _m = access.wave(wave_id, access.WRITE)
    here = url_for(".wave", wave_id=wave_id)
    language = request.form.get("language", "")
    batch = request.form.get("batch", "").strip()
    if language not in (found.languages or []):
        return refuse([_("Choose a language of the wave.")], here)
    if not batch.isdigit():
        return refuse([_("Choose the batch of letters to follow up.")], here)
    try:
        archive = panel_letters.follow_up_download(
            db.session,
            found,
            int(batch),
            language,
            base_url=current_app.config["BASE_URL"],
            translations=translations_dir(),
            actor=current_user(),
        )
    except ConsoleError as error:
        return refuse([error], here)
    db.session.commit()
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    name = f"wave-{found.id}-follow-up-of-batch-{int(batch)}-{stamp}.zip"
    return Response(
        archive,
        mimetype="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
