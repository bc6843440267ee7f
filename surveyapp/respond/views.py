"""Resident pages: code entry, invitation and open links, consent, one page per section.

Every page works without JavaScript. A resident's answers are saved on the server each time
they leave a page; the draft is found again by the invitation code (``/i/<code>/...``) or,
for open links, by a random resume token (``/r/<token>/...``) kept in a cookie and shown as
a link. No response id ever travels in a URL or form: a forged one has nothing to point at.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterator

from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from surveyapp.extensions import db
from surveyapp.i18n import catalogs, translations_dir
from surveyapp.i18n.instrument import translated_sections, translated_title
from surveyapp.instruments import registry
from surveyapp.models import (
    COMPLETION_BURST,
    REPEAT_IN_SAME_BROWSER,
    PageSubmission,
    ResponseStatus,
)
from surveyapp.respond import (
    area_step,
    availability,
    drafts,
    fields,
    navigation,
    pg_save,
    review,
    saving,
    used_codes,
    visits,
)
from surveyapp.respond.codes import normalize_code
from surveyapp.respond.page_writes import SessionWriter

bp = Blueprint("respond", __name__)
bp.add_app_template_global(fields.numbered_scale, "numbered_scale")
bp.add_app_template_global(visits.arrival, "arrival")


@bp.errorhandler(visits.BadSubmission)
def _bad_submission(error: visits.BadSubmission):
    return render_template("respond/problem.html", problem="bad_request", detail=error.message), 400


# --- Entry points -------------------------------------------------------------------------


def _interface_languages() -> list[dict[str, str]]:
    return [
        {"code": code, "name": language.native}
        for code, language in catalogs.languages(translations_dir()).items()
    ]


@bp.get("/")
def code_entry():
    """Where a resident types the code printed on their invitation letter."""
    chosen = request.args.get("lang")
    if chosen in {language["code"] for language in _interface_languages()}:
        session["lang"] = chosen  # carried on to the questionnaire if the wave offers it
    return _code_page(None, "", 200)


@bp.post("/")
@visits.code_guesses
def code_submit():
    """Look up a typed code and continue to its questionnaire."""
    code = normalize_code(request.form.get("code", ""))
    if not code or availability.invitation_by_code(db.session, code) is None:
        return _code_page("unknown", code, 404)
    visits.remember_code(code)
    return redirect(url_for("respond.invitation", code=code), code=303)


def _code_page(error: str | None, code: str, status: int):
    return render_template(
        "respond/code_entry.html",
        error=error,
        code=code,
        languages=_interface_languages(),
        language=str(get_locale()),
    ), status


def _invitation_visit(code: str) -> visits.Visit | availability.Unavailable:
    code = normalize_code(code)
    invite = availability.invitation_by_code(db.session, code) if code else None
    if invite is None:
        return availability.Unavailable.UNKNOWN
    visits.remember_code(code)
    if used_codes.is_used(db.session, invite):
        return availability.Unavailable.CODE_USED
    reason = availability.availability(invite.wave)
    if reason is not None:
        return reason
    return visits.Visit(
        wave=invite.wave,
        key=code,
        endpoint="respond.invitation_page",
        invitation=invite,
        draft=(drafts.lock_draft if request.method == "POST" else drafts.find_draft)(
            db.session, code
        ),
    )


@bp.route("/i/<code>", methods=["GET", "POST"])
@visits.code_guesses
def invitation(code: str):
    """A personal invitation (letter, QR code): consent first, or back to where one stopped."""
    visit = _invitation_visit(code)
    if isinstance(visit, availability.Unavailable):
        return visits.unavailable(visit, visits.unavailable_status(visit))
    return _welcome(visit)


@bp.route("/w/<token>", methods=["GET", "POST"])
@visits.open_link_starts
def open_link(token: str):
    """A wave's open link (poster, website, QR code): consent first, or resume via cookie."""
    wave, area_id = availability.open_link_target(db.session, token)
    reason = availability.availability(wave)
    if reason is not None:
        return visits.unavailable(reason, visits.unavailable_status(reason))
    resume = (session.get("resume") or {}).get(token)
    draft = drafts.find_draft(db.session, resume) if resume else None
    if draft is not None and draft.wave_id == wave.id and request.method == "GET":
        # A shared phone or computer: the next person must not land in someone else's
        # answers, and the one who stopped must be able to go on. Ask.
        with force_locale(visits.page_language(wave, draft)):
            return render_template(
                "respond/resume_choice.html",
                token=token,
                # Stopped on the review page (one after the last): the last page of the count.
                page=min(draft.page, len(registry.wave_sections(wave))),
                pages=len(registry.wave_sections(wave)),
                continue_url=url_for("respond.resume_page", key=resume, page=draft.page),
            )
    return _welcome(
        visits.Visit(wave=wave, key="", endpoint="respond.resume_page", area_id=area_id),
        open_token=token,
    )


@bp.post("/w/<token>/new")
def open_link_fresh(token: str):
    """ "Start a new questionnaire" on a shared device: this browser forgets the unfinished
    one (it stays resumable by its own resume link) and shows the welcome page."""
    remembered = session.get("resume") or {}
    if token in remembered:
        session["resume"] = {kept: key for kept, key in remembered.items() if kept != token}
    return redirect(url_for("respond.open_link", token=token), code=303)


def _welcome(visit: visits.Visit, open_token: str | None = None):
    """The language choice, privacy notice and consent; POST starts the draft."""
    if visit.draft is not None and request.method == "GET":
        return redirect(visit.page_url(visit.draft.page), code=303)
    wave = visit.wave
    language = visits.page_language(wave)
    if request.method == "POST":
        key = _idempotency_key()
        if request.form.get(visits.HONEYPOT):
            # Filled in by software, not by a person: nothing is stored.
            return redirect(url_for("respond.thanks"), code=303)
        # Open links: a resume token only the server can derive from the form's key, so a
        # double tap (same key) finds the same draft under the same token.
        resume_key = visit.key or _open_resume_token(key)
        draft = drafts.start_draft(
            db.session,
            wave=wave,
            language=language,
            resume_key=resume_key,
            idempotency_key=key,
            invitation=visit.invitation,
            area_id=visit.area_id,
        )
        if draft.status != ResponseStatus.DRAFT:
            return redirect(url_for("respond.thanks"), code=303)
        if visit.invitation is None:
            remembered = dict(session.get("resume") or {})
            remembered.pop(open_token, None)
            # The cookie remembers the last few open-link questionnaires, no more.
            kept = list(remembered.items())[-(visits.MAX_REMEMBERED - 1) :]
            session["resume"] = dict([*kept, (open_token, resume_key)])
            session.permanent = True
            visit.key = resume_key
            if drafts.area_pending(draft.channel, draft.area_source):
                return redirect(url_for("respond.area_step", key=resume_key), code=303)
        return redirect(visit.page_url(draft.page), code=303)
    with force_locale(language):
        instrument = registry.wave_instrument(wave)
        city = wave.city
        return render_template(
            "respond/welcome.html",
            title=translated_title(instrument, language, translations_dir()),
            wave=wave,
            city=city,
            languages=visits.language_links(wave),
            language=language,
            key=secrets.token_urlsafe(24),
            is_invitation=visit.invitation is not None,
            is_area_link=visit.area_id is not None,
        )


# --- Questionnaire pages ------------------------------------------------------------------


@bp.route("/i/<key>/<int:page>", methods=["GET", "POST"])
@visits.code_guesses
def invitation_page(key: str, page: int):
    """One page of the questionnaire reached by an invitation code."""
    code = normalize_code(key)
    if code and _direct_saves():
        saved = _direct_save(code, page, "respond.invitation_page", invitation_code=code)
        if saved is not None:
            return saved
    visit = _invitation_visit(key)
    if isinstance(visit, availability.Unavailable):
        return _after_the_end(visit)
    if visit.draft is None:
        return redirect(url_for("respond.invitation", code=visit.key), code=303)
    return _page(visit, page)


@bp.route("/r/<key>/<int:page>", methods=["GET", "POST"])
def resume_page(key: str, page: int):
    """One page of an open-link questionnaire, found by its resume token."""
    if 16 <= len(key) <= 64 and _direct_saves():
        saved = _direct_save(key, page, "respond.resume_page")
        if saved is not None:
            return saved
    draft = None
    if 16 <= len(key) <= 64:
        # A save follows a POST: the draft is found, locked and read with its answers at once.
        find = drafts.lock_draft if request.method == "POST" else drafts.find_draft
        draft = find(db.session, key)
    if draft is None:
        return _after_the_end(availability.Unavailable.UNKNOWN)
    reason = availability.availability(draft.wave)
    if reason is not None:
        return visits.unavailable(reason, visits.unavailable_status(reason))
    return _page(
        visits.Visit(wave=draft.wave, key=key, endpoint="respond.resume_page", draft=draft), page
    )


def _direct_saves() -> bool:
    """Page saves on PostgreSQL take the direct path (``pg_save``)."""
    return request.method == "POST" and db.engine.dialect.name == "postgresql"


def _direct_save(key: str, page: int, endpoint: str, *, invitation_code: str | None = None):
    """A page save on PostgreSQL's DBAPI connection (``pg_save``), or None for the general
    path: no such draft here, its questionnaire not loaded in this process yet, an
    invitation not as expected, or a draft saved by another tab three times in a row."""
    for _attempt in range(3):
        with pg_save.connect(db.bind) as connection:
            found = pg_save.read_draft(connection, key, invitation_code=invitation_code)
            if found is None:
                return None
            draft, invitation = found
            if invitation_code is not None:
                if invitation is None or invitation.is_used or invitation.wave_id != draft.wave.id:
                    return None
                visits.remember_code(invitation_code)  # as _invitation_visit does
            reason = availability.availability(draft.wave)
            if reason is not None:
                return visits.unavailable(reason, visits.unavailable_status(reason))
            visit = visits.Visit(
                wave=draft.wave, key=key, endpoint=endpoint, invitation=invitation, draft=draft
            )
            try:
                answer = _page(visit, page, writer=pg_save.DirectWriter(connection))
            except saving.DraftChanged:
                continue  # another tab saved in between: read the draft again
            if connection.shared:
                # The session's transaction holds what was written (the test suite binds it
                # to one connection): end it as the general path would.
                db.session.commit()
            return answer
    return None


bp.add_url_rule("/r/<key>/area", view_func=area_step.area_step, methods=["GET", "POST"])


@bp.get("/r/<key>")
def resume(key: str):
    """The resume link shown to open-link residents: back to the page they stopped on."""
    draft = drafts.find_draft(db.session, key) if 16 <= len(key) <= 64 else None
    if draft is None:
        return _after_the_end(availability.Unavailable.UNKNOWN)
    return redirect(url_for("respond.resume_page", key=key, page=draft.page), code=303)


def _after_the_end(reason: availability.Unavailable):
    """A page URL whose draft is gone: a retried final POST lands on the thank-you page."""
    if request.method == "POST":
        key = request.form.get("idempotency_key", "")
        done = db.session.get(PageSubmission, key) if key else None
        if done is not None and done.outcome_page == navigation.COMPLETE:
            return redirect(url_for("respond.thanks"), code=303)
    return visits.unavailable(reason, visits.unavailable_status(reason))


def _open_resume_token(idempotency_key: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(secret, f"resume:{idempotency_key}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode()


def _idempotency_key() -> str:
    key = request.form.get("idempotency_key", "")
    if not (visits.KEY_LENGTH[0] <= len(key) <= visits.KEY_LENGTH[1]) or not key.isascii():
        raise visits.BadSubmission(
            _("The form is missing its submission key. Please reload the page.")
        )
    return key


def _page(visit: visits.Visit, page: int, writer: saving.PageWriter | None = None):
    draft = visit.draft
    assert draft is not None
    sections = registry.wave_sections(visit.wave)
    at_review = page == navigation.review_page(sections)
    if not 1 <= page <= navigation.review_page(sections):
        return redirect(visit.page_url(draft.page), code=303)
    if request.method == "GET" and visit.invitation is None and draft.area_pending:
        # A wave-wide open link asks the resident's area first (also after a resume).
        return redirect(url_for("respond.area_step", key=visit.key), code=303)
    language = visits.page_language(visit.wave, draft)
    if request.method == "POST":
        switch = request.form.get("lang")
        if switch is not None and switch not in visits.offered_languages(visit.wave):
            raise visits.BadSubmission(_("This language is not offered in this survey."))
        action = "stay" if switch else request.form.get("nav", "next")
        if action not in (PAGE_ACTIONS if not at_review else ("send", "back", "stay")):
            raise visits.BadSubmission(_("Unknown button."))
        key = _idempotency_key()
        unknown = fields.unknown_fields(sections[page - 1 : page], request.form)
        if unknown:
            raise visits.BadSubmission(
                _(
                    "The form contains questions that are not on this page: %(names)s",
                    names=", ".join(name.removeprefix("q-") for name in unknown[:5]),
                )
            )
        if switch:
            session["lang"] = language = switch
        answered_here = session.get("answered") or []
        repeat = visit.wave.id in answered_here
        try:
            result = saving.save_page(
                writer or SessionWriter(db.session),
                draft=draft,
                sections=sections,
                page=page,
                form=request.form,
                idempotency_key=key,
                action=action,
                language=language,
                invitation=visit.invitation,
                completion_flags=_completion_flags(visit, repeat),
            )
        except saving.ForeignSubmission:
            raise visits.BadSubmission(_("This form belongs to another questionnaire.")) from None
        except saving.CodeAlreadyUsed:
            return visits.unavailable(availability.Unavailable.CODE_USED, 410)
        if not result.errors:
            if result.outcome_page == navigation.COMPLETE:
                _forget_resume(visit)
                if not result.duplicate and visit.invitation is None:
                    visits.count_completion(visit.wave.id)
                if not result.duplicate and visit.wave.id not in answered_here:
                    session["answered"] = [*answered_here, visit.wave.id][-visits.MAX_ANSWERED :]
                return redirect(url_for("respond.thanks"), code=303)
            return redirect(_after_save(visit, sections, result.outcome_page, action), code=303)
        return _render_page(visit, sections, page, language, result.values, result.errors, 422)
    if draft.status != ResponseStatus.DRAFT:
        return redirect(url_for("respond.thanks"), code=303)
    values = drafts.saved_values(draft)
    if at_review:
        return review.render(visit, sections, language, values)
    if not navigation.shown_items(sections[page - 1], values):
        # Every question here depends on an earlier answer that rules it out.
        target = navigation.step(sections, page, values, 1)
        if target == navigation.COMPLETE:
            target = navigation.step(sections, page, values, -1)
        if target != page:
            return redirect(visit.page_url(target), code=303)
    return _render_page(visit, sections, page, language, values, {}, 200)


def _completion_flags(visit: visits.Visit, repeat: bool) -> Iterator[str]:
    """The quality flags of a questionnaire sent by this POST: read only when it is sent."""
    if repeat:
        yield REPEAT_IN_SAME_BROWSER
    if visit.invitation is None and visits.completion_burst(visit.wave.id):
        yield COMPLETION_BURST


#: The buttons of a question page: ``review`` on the last one, ``change`` when it was
#: reached from the review page; ``next`` after the last page still sends (see navigation).
PAGE_ACTIONS = ("next", "review", "change", "back", "stay")


def _after_save(visit: visits.Visit, sections, outcome: int, action: str) -> str:
    """Where a saved page leads; a change made from the review page keeps its way back."""
    if action == "change" and outcome != navigation.review_page(sections):
        return visit.page_url(outcome, **{"from": review.FROM_REVIEW})
    return visit.page_url(outcome)


def _forget_resume(visit: visits.Visit) -> None:
    """A sent questionnaire leaves nothing in the cookie to resume it or to know its code by."""
    if visit.invitation is not None:
        known = session.get("codes") or []
        mark = visits.code_mark(visit.key)
        if mark in known:
            session["codes"] = [m for m in known if m != mark]
    remembered = session.get("resume") or {}
    left = {token: key for token, key in remembered.items() if key != visit.key}
    if left != remembered:
        session["resume"] = left


def _render_page(visit, sections, page, language, values, errors, status):
    wave = visit.wave
    context = {**drafts.saved_values(visit.draft), **values}
    with force_locale(language):
        instrument = registry.wave_instrument(wave)
        shown = translated_sections(instrument, [sections[page - 1]], language, translations_dir())
        section = shown[0]
        # A condition on an earlier page is settled; one on this page cannot be without
        # JavaScript, so that question is shown with a hint and ignored if it does not apply.
        on_page = {item.id for item in section.items}
        items = [
            item
            for item in section.items
            if item.show_if is None
            or item.show_if.item in on_page
            or navigation.is_shown(item, context)
        ]
        total = len(sections)
        html = render_template(
            "respond/page.html",
            title=translated_title(instrument, language, translations_dir()),
            section=section,
            items=items,
            values=values,
            errors=errors,
            error_items=[item for item in items if item.id in errors],
            page=page,
            total=total,
            is_last=navigation.step(sections, page, context, 1) == navigation.COMPLETE,
            from_review=request.args.get("from") == review.FROM_REVIEW,
            languages=visits.language_links(wave),
            language=language,
            key=secrets.token_urlsafe(24),
            resume_url=(
                None
                if visit.invitation is not None
                else current_app.config["BASE_URL"].rstrip("/")
                + url_for("respond.resume", key=visit.key)
            ),
        )
    return html, status


@bp.get("/thanks")
def thanks():
    """Shown after a completed questionnaire; reveals nothing about the answers."""
    return render_template("respond/thanks.html")
