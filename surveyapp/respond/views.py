"""Resident pages: code entry, invitation and open links, the questionnaire, thanks."""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale

from surveyapp.db import utcnow
from surveyapp.extensions import db
from surveyapp.i18n import catalogs
from surveyapp.i18n.instrument import translated_sections, translated_title
from surveyapp.models import Wave
from surveyapp.respond import services
from surveyapp.respond.codes import normalize_code

bp = Blueprint("respond", __name__)


def _language(wave: Wave) -> str:
    """The wave language to use: an explicit choice, else the browser's best match."""
    offered = list(wave.languages or ["en"])
    chosen = request.args.get("lang")
    if chosen in offered:
        session["lang"] = chosen
        return chosen
    if session.get("lang") in offered:
        return session["lang"]
    return request.accept_languages.best_match(offered) or offered[0]


def _language_links(wave: Wave) -> list[dict[str, str]]:
    known = catalogs.languages(_translations_dir())
    return [
        {"code": code, "name": known[code].native if code in known else code}
        for code in wave.languages or []
    ]


def _translations_dir() -> Path:
    return Path(current_app.config["BABEL_TRANSLATION_DIRECTORIES"])


def _unavailable(reason: services.Unavailable, status: int = 200):
    return render_template("respond/unavailable.html", reason=reason.value), status


@bp.get("/")
def code_entry():
    """Where a resident types the code printed on their invitation letter."""
    return render_template("respond/code_entry.html", error=None, code="")


@bp.post("/")
def code_submit():
    """Look up a typed code and continue to its questionnaire."""
    code = normalize_code(request.form.get("code", ""))
    if not code or services.invitation_by_code(db.session, code) is None:
        return render_template("respond/code_entry.html", error="unknown", code=code), 404
    return redirect(url_for("respond.invitation", code=code), code=303)


@bp.route("/i/<code>", methods=["GET", "POST"])
def invitation(code: str):
    """The questionnaire reached by a personal invitation code (letter, QR code)."""
    invite = services.invitation_by_code(db.session, code)
    if invite is None:
        return _unavailable(services.Unavailable.UNKNOWN, 404)
    if invite.is_used:
        return _unavailable(services.Unavailable.CODE_USED, 410)
    reason = services.availability(invite.wave)
    if reason is not None:
        return _unavailable(reason)
    return _questionnaire(invite.wave, invite=invite)


@bp.route("/w/<token>", methods=["GET", "POST"])
def open_link(token: str):
    """The questionnaire reached by a wave's open link (poster, website, QR code)."""
    wave = services.wave_by_open_token(db.session, token)
    reason = services.availability(wave)
    if reason is not None:
        return _unavailable(reason, 404 if reason == services.Unavailable.UNKNOWN else 200)
    return _questionnaire(wave)


def _questionnaire(wave: Wave, invite=None):
    language = _language(wave)
    with force_locale(language):
        return _questionnaire_in(wave, invite, language)


def _questionnaire_in(wave: Wave, invite, language: str):
    instrument = services.wave_instrument(wave)
    sections = services.wave_sections(wave)
    shown = translated_sections(instrument, sections, language, _translations_dir())
    page = {
        "wave": wave,
        "title": translated_title(instrument, language, _translations_dir()),
        "sections": shown,
        "languages": _language_links(wave),
        "language": language,
    }
    if request.method == "GET":
        key = secrets.token_urlsafe(24)
        session["started"] = {"key": key, "at": utcnow().isoformat()}
        return render_template("respond/questionnaire.html", key=key, values={}, errors={}, **page)
    key = request.form.get("idempotency_key", "")
    if not (16 <= len(key) <= 64):
        abort(400)
    parsed = services.parse_form(sections, request.form)
    if parsed.errors:
        return render_template(
            "respond/questionnaire.html",
            key=key,
            values=parsed.values,
            errors=parsed.errors,
            **page,
        ), 422
    started = session.get("started") or {}
    started_at = None
    if started.get("key") == key:
        started_at = datetime.fromisoformat(started["at"])
    try:
        services.submit_response(
            db.session,
            wave=wave,
            language=language,
            idempotency_key=key,
            values=parsed.values,
            invitation=invite,
            started_at=started_at,
        )
    except services.CodeAlreadyUsed:
        return _unavailable(services.Unavailable.CODE_USED, 410)
    session.pop("started", None)
    return redirect(url_for("respond.thanks"), code=303)


@bp.get("/thanks")
def thanks():
    """Shown after a completed questionnaire; reveals nothing about the answers."""
    return render_template("respond/thanks.html")
