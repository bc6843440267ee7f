"""The page "Which neighbourhood do you live in?" of a wave-wide open link (``/r/<key>/area``).

It comes after consent and before the questionnaire's first page, and like every page it
works without JavaScript, is found again by the resume link, and can be changed until the
questionnaire is sent. The choices come from :func:`area_choice.areas_offered`.
"""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import force_locale

from surveyapp.extensions import db
from surveyapp.i18n import translations_dir
from surveyapp.i18n.instrument import translated_title
from surveyapp.instruments import registry
from surveyapp.models import ResponseStatus, Wave
from surveyapp.respond import area_choice, availability, drafts, visits


def area_step(key: str):
    """Ask (GET) and store (POST) the area an open-link resident says they live in."""
    draft = None
    if 16 <= len(key) <= 64:
        find = drafts.lock_draft if request.method == "POST" else drafts.find_draft
        draft = find(db.session, key)
    if draft is None:
        return visits.unavailable(availability.Unavailable.UNKNOWN, 404)
    reason = availability.availability(draft.wave)
    if reason is not None:
        return visits.unavailable(reason, visits.unavailable_status(reason))
    if draft.status != ResponseStatus.DRAFT:
        return redirect(url_for("respond.thanks"), code=303)
    visit = visits.Visit(wave=draft.wave, key=key, endpoint="respond.resume_page", draft=draft)
    chosen = area_choice.current_choice(db.session, draft.id)
    if chosen is None and not draft.area_pending:
        # A letter's or an area link's questionnaire: its area is known already.
        return redirect(visit.page_url(draft.page), code=303)
    wave = db.session.get(Wave, draft.wave_id)
    offered = area_choice.areas_offered(db.session, wave)
    if request.method == "POST":
        value = request.form.get("area", "")
        choice = area_choice.parse_choice(value, offered)
        if choice is None:
            return _render(wave, draft, key, offered, value, error=True), 422
        area_choice.record_choice(db.session, draft.id, *choice)
        db.session.commit()
        return redirect(visit.page_url(draft.page), code=303)
    return _render(wave, draft, key, offered, chosen, error=False), 200


def _render(wave: Wave, draft: drafts.Draft, key: str, offered, chosen: str | None, error: bool):
    language = visits.page_language(wave, draft)
    with force_locale(language):
        instrument = registry.wave_instrument(wave)
        return render_template(
            "respond/area.html",
            title=translated_title(instrument, language, translations_dir()),
            areas=offered,
            others=[reply.value for reply in area_choice.OTHER_REPLIES],
            chosen=chosen,
            error=error,
            languages=visits.language_links(wave),
            language=language,
            resume_url=current_app.config["BASE_URL"].rstrip("/")
            + url_for("respond.resume", key=key),
        )
