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
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

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

from surveyapp.extensions import db, limiter
from surveyapp.i18n import catalogs
from surveyapp.i18n.instrument import translated_sections, translated_title
from surveyapp.models import Invitation, Response, ResponseStatus, Wave
from surveyapp.respond import pg_save, services, used_codes
from surveyapp.respond.codes import normalize_code

bp = Blueprint("respond", __name__)

#: Length bounds of the idempotency keys the pages carry (token_urlsafe(24) is 32 chars).
KEY_LENGTH = (16, 64)
#: Open-link questionnaires a browser's cookie can resume.
MAX_REMEMBERED = 3


class BadSubmission(Exception):
    """A page POST that no honest form produces; answered with 400 and a plain message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@bp.errorhandler(BadSubmission)
def _bad_submission(error: BadSubmission):
    return render_template("respond/problem.html", problem="bad_request", detail=error.message), 400


@dataclass
class Visit:
    """What a resident's link resolves to."""

    wave: Wave | services.WaveState
    key: str  # invitation code or resume token: what finds the draft
    endpoint: str  # page endpoint for this kind of link
    invitation: Invitation | None = None
    draft: Response | services.LockedDraft | None = None

    def page_url(self, page: int, **args: str) -> str:
        prefix = _PAGE_PATHS.get(self.endpoint)
        if prefix is None or args:
            return url_for(self.endpoint, key=self.key, page=page, **args)
        # What url_for gives, for the redirect after every page save (url_for's rule
        # matching took a tenth of a save's CPU); test_respond checks that they agree.
        return f"{request.script_root}{prefix}{quote(self.key, safe=_URL_SAFE)}/{int(page)}"


#: Questionnaire page URLs (see the routes below): endpoint -> path before ``<key>/<page>``.
_PAGE_PATHS = {"respond.invitation_page": "/i/", "respond.resume_page": "/r/"}
#: What werkzeug's converters leave unquoted in a path part.
_URL_SAFE = "!$&'()*+,/:;=@"


# --- Language -------------------------------------------------------------------------------


def _offered(wave: Wave) -> list[str]:
    return list(wave.languages or ["en"])


def _language(wave: Wave, draft: Response | None = None) -> str:
    """An explicit choice, else the one saved with the draft, else the browser's best match."""
    offered = _offered(wave)
    chosen = request.args.get("lang")
    if chosen in offered:
        session["lang"] = chosen
        return chosen
    if session.get("lang") in offered:
        return session["lang"]
    if draft is not None and draft.language in offered:
        return draft.language
    return request.accept_languages.best_match(offered) or offered[0]


def _language_links(wave: Wave) -> list[dict[str, str]]:
    known = catalogs.languages(_translations_dir())
    return [
        {"code": code, "name": known[code].native if code in known else code}
        for code in _offered(wave)
    ]


def _translations_dir() -> Path:
    return Path(current_app.config["BABEL_TRANSLATION_DIRECTORIES"])


# --- Pages that say no -------------------------------------------------------------------


def _unavailable(reason: services.Unavailable, status: int = 200):
    return render_template("respond/unavailable.html", reason=reason.value), status


def _unavailable_status(reason: services.Unavailable) -> int:
    return {
        services.Unavailable.UNKNOWN: 404,
        services.Unavailable.CODE_USED: 410,
    }.get(reason, 200)


# --- Abuse resistance ---------------------------------------------------------------------


def _client_key() -> str:
    """A rate-limit key for the client: a keyed hash of its address, never the address.

    It lives only in the limiter's counters (memory or Redis) and is not stored with
    anything a resident sends.
    """
    secret = current_app.config["SECRET_KEY"].encode()
    address = (request.remote_addr or "").encode()
    return hmac.new(secret, b"client:" + address, hashlib.sha256).hexdigest()[:24]


#: Codes this browser has opened, remembered in its session cookie (as keyed hashes).
MAX_KNOWN_CODES = 5


def _code_mark(code: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"code:" + code.encode(), hashlib.sha256).hexdigest()[:16]


def _remember_code(code: str) -> None:
    mark = _code_mark(code)
    known = session.get("codes") or []
    if mark not in known:
        session["codes"] = [*known, mark][-MAX_KNOWN_CODES:]


def _known_code() -> bool:
    """Whether the code in this URL was opened before in this browser: then it is no guess.

    A resident who has started is never stopped by guesses made by others at the same
    address (a community centre's wifi, a mobile network's shared address), and their
    page saves do not consult the limiter's counters at all.
    """
    args = request.view_args or {}
    code = normalize_code(str(args.get("code") or args.get("key") or ""))
    return bool(code) and _code_mark(code) in (session.get("codes") or [])


#: Guessing codes: unknown codes count, per client, across every page that takes a code.
code_guesses = limiter.shared_limit(
    "20 per minute;200 per day",
    scope="code-guesses",
    key_func=_client_key,
    deduct_when=lambda response: response.status_code == 404,
    exempt_when=_known_code,
)


def _open_link_key() -> str:
    return f"{_client_key()}:{request.view_args.get('token', '')}"


#: Ballot stuffing: questionnaires started from one client on one open link.
open_link_starts = limiter.limit(
    "30 per hour;100 per day",
    key_func=_open_link_key,
    methods=["POST"],
    deduct_when=lambda response: response.status_code == 303,
)

#: A field people never see or fill in; software that fills in every field does.
HONEYPOT = "website"
#: Quality flag of a questionnaire completed where the same wave was completed before.
REPEAT_FLAG = "repeat_in_same_browser"
MAX_ANSWERED = 10


# --- Entry points -------------------------------------------------------------------------


def _interface_languages() -> list[dict[str, str]]:
    return [
        {"code": code, "name": language.native}
        for code, language in catalogs.languages(_translations_dir()).items()
    ]


@bp.get("/")
def code_entry():
    """Where a resident types the code printed on their invitation letter."""
    chosen = request.args.get("lang")
    if chosen in {language["code"] for language in _interface_languages()}:
        session["lang"] = chosen  # carried on to the questionnaire if the wave offers it
    return _code_page(None, "", 200)


@bp.post("/")
@code_guesses
def code_submit():
    """Look up a typed code and continue to its questionnaire."""
    code = normalize_code(request.form.get("code", ""))
    if not code or services.invitation_by_code(db.session, code) is None:
        return _code_page("unknown", code, 404)
    _remember_code(code)
    return redirect(url_for("respond.invitation", code=code), code=303)


def _code_page(error: str | None, code: str, status: int):
    return render_template(
        "respond/code_entry.html",
        error=error,
        code=code,
        languages=_interface_languages(),
        language=str(get_locale()),
    ), status


def _invitation_visit(code: str) -> Visit | services.Unavailable:
    code = normalize_code(code)
    invite = services.invitation_by_code(db.session, code) if code else None
    if invite is None:
        return services.Unavailable.UNKNOWN
    _remember_code(code)
    if used_codes.is_used(db.session, invite):
        return services.Unavailable.CODE_USED
    reason = services.availability(invite.wave)
    if reason is not None:
        return reason
    return Visit(
        wave=invite.wave,
        key=code,
        endpoint="respond.invitation_page",
        invitation=invite,
        draft=(services.lock_draft if request.method == "POST" else services.find_draft)(
            db.session, code
        ),
    )


@bp.route("/i/<code>", methods=["GET", "POST"])
@code_guesses
def invitation(code: str):
    """A personal invitation (letter, QR code): consent first, or back to where one stopped."""
    visit = _invitation_visit(code)
    if isinstance(visit, services.Unavailable):
        return _unavailable(visit, _unavailable_status(visit))
    return _welcome(visit)


@bp.route("/w/<token>", methods=["GET", "POST"])
@open_link_starts
def open_link(token: str):
    """A wave's open link (poster, website, QR code): consent first, or resume via cookie."""
    wave = services.wave_by_open_token(db.session, token)
    reason = services.availability(wave)
    if reason is not None:
        return _unavailable(reason, _unavailable_status(reason))
    resume = (session.get("resume") or {}).get(token)
    draft = services.find_draft(db.session, resume) if resume else None
    if draft is not None and draft.wave_id == wave.id and request.method == "GET":
        return redirect(url_for("respond.resume_page", key=resume, page=draft.page), code=303)
    return _welcome(Visit(wave=wave, key="", endpoint="respond.resume_page"), open_token=token)


def _welcome(visit: Visit, open_token: str | None = None):
    """The language choice, privacy notice and consent; POST starts the draft."""
    if visit.draft is not None and request.method == "GET":
        return redirect(visit.page_url(visit.draft.page), code=303)
    wave = visit.wave
    language = _language(wave)
    if request.method == "POST":
        key = _idempotency_key()
        if request.form.get(HONEYPOT):
            # Filled in by software, not by a person: nothing is stored.
            return redirect(url_for("respond.thanks"), code=303)
        # Open links: a resume token only the server can derive from the form's key, so a
        # double tap (same key) finds the same draft under the same token.
        resume_key = visit.key or _open_resume_token(key)
        draft = services.start_draft(
            db.session,
            wave=wave,
            language=language,
            resume_key=resume_key,
            idempotency_key=key,
            invitation=visit.invitation,
        )
        if draft.status != ResponseStatus.DRAFT:
            return redirect(url_for("respond.thanks"), code=303)
        if visit.invitation is None:
            remembered = dict(session.get("resume") or {})
            remembered.pop(open_token, None)
            # The cookie remembers the last few open-link questionnaires, no more.
            kept = list(remembered.items())[-(MAX_REMEMBERED - 1) :]
            session["resume"] = dict([*kept, (open_token, resume_key)])
            session.permanent = True
            visit.key = resume_key
        return redirect(visit.page_url(draft.page), code=303)
    with force_locale(language):
        instrument = services.wave_instrument(wave)
        city = wave.initiative.city
        return render_template(
            "respond/welcome.html",
            title=translated_title(instrument, language, _translations_dir()),
            wave=wave,
            city=city,
            languages=_language_links(wave),
            language=language,
            key=secrets.token_urlsafe(24),
            is_invitation=visit.invitation is not None,
        )


# --- Questionnaire pages ------------------------------------------------------------------


@bp.route("/i/<key>/<int:page>", methods=["GET", "POST"])
@code_guesses
def invitation_page(key: str, page: int):
    """One page of the questionnaire reached by an invitation code."""
    code = normalize_code(key)
    if code and _direct_saves():
        saved = _direct_save(code, page, "respond.invitation_page", invitation_code=code)
        if saved is not None:
            return saved
    visit = _invitation_visit(key)
    if isinstance(visit, services.Unavailable):
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
        find = services.lock_draft if request.method == "POST" else services.find_draft
        draft = find(db.session, key)
    if draft is None:
        return _after_the_end(services.Unavailable.UNKNOWN)
    reason = services.availability(draft.wave)
    if reason is not None:
        return _unavailable(reason, _unavailable_status(reason))
    return _page(Visit(wave=draft.wave, key=key, endpoint="respond.resume_page", draft=draft), page)


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
                _remember_code(invitation_code)  # as _invitation_visit does
            reason = services.availability(draft.wave)
            if reason is not None:
                return _unavailable(reason, _unavailable_status(reason))
            visit = Visit(
                wave=draft.wave, key=key, endpoint=endpoint, invitation=invitation, draft=draft
            )
            try:
                answer = _page(visit, page, direct=connection)
            except services.DraftChanged:
                continue  # another tab saved in between: read the draft again
            if connection.shared:
                # The session's transaction holds what was written (the test suite binds it
                # to one connection): end it as the general path would.
                db.session.commit()
            return answer
    return None


@bp.get("/r/<key>")
def resume(key: str):
    """The resume link shown to open-link residents: back to the page they stopped on."""
    draft = services.find_draft(db.session, key) if 16 <= len(key) <= 64 else None
    if draft is None:
        return _after_the_end(services.Unavailable.UNKNOWN)
    return redirect(url_for("respond.resume_page", key=key, page=draft.page), code=303)


def _after_the_end(reason: services.Unavailable):
    """A page URL whose draft is gone: a retried final POST lands on the thank-you page."""
    if request.method == "POST":
        key = request.form.get("idempotency_key", "")
        done = db.session.get(services.PageSubmission, key) if key else None
        if done is not None and done.outcome_page == services.COMPLETE:
            return redirect(url_for("respond.thanks"), code=303)
    return _unavailable(reason, _unavailable_status(reason))


def _open_resume_token(idempotency_key: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(secret, f"resume:{idempotency_key}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode()


def _idempotency_key() -> str:
    key = request.form.get("idempotency_key", "")
    if not (KEY_LENGTH[0] <= len(key) <= KEY_LENGTH[1]) or not key.isascii():
        raise BadSubmission(_("The form is missing its submission key. Please reload the page."))
    return key


def _page(visit: Visit, page: int, direct: pg_save.DirectConnection | None = None):
    draft = visit.draft
    assert draft is not None
    sections = services.wave_sections(visit.wave)
    if not 1 <= page <= len(sections):
        return redirect(visit.page_url(draft.page), code=303)
    language = _language(visit.wave, draft)
    if request.method == "POST":
        switch = request.form.get("lang")
        if switch is not None and switch not in _offered(visit.wave):
            raise BadSubmission(_("This language is not offered in this survey."))
        action = "stay" if switch else request.form.get("nav", "next")
        if action not in ("next", "back", "stay"):
            raise BadSubmission(_("Unknown button."))
        key = _idempotency_key()
        unknown = services.unknown_fields([sections[page - 1]], request.form)
        if unknown:
            raise BadSubmission(
                _(
                    "The form contains questions that are not on this page: %(names)s",
                    names=", ".join(name.removeprefix("q-") for name in unknown[:5]),
                )
            )
        if switch:
            session["lang"] = language = switch
        answered_here = session.get("answered") or []
        repeat = [REPEAT_FLAG] if visit.wave.id in answered_here else []
        try:
            result = services.save_page(
                db.session,
                response=draft,
                sections=sections,
                page=page,
                form=request.form,
                idempotency_key=key,
                action=action,
                language=language,
                invitation=visit.invitation,
                completion_flags=repeat,
                locked=True,
                direct=direct,
            )
        except services.ForeignSubmission:
            raise BadSubmission(_("This form belongs to another questionnaire.")) from None
        except services.CodeAlreadyUsed:
            return _unavailable(services.Unavailable.CODE_USED, 410)
        if not result.errors:
            if result.outcome_page == services.COMPLETE:
                _forget_resume(visit)
                if not result.duplicate and visit.wave.id not in answered_here:
                    session["answered"] = [*answered_here, visit.wave.id][-MAX_ANSWERED:]
                return redirect(url_for("respond.thanks"), code=303)
            return redirect(visit.page_url(result.outcome_page), code=303)
        return _render_page(visit, sections, page, language, result.values, result.errors, 422)
    if draft.status != ResponseStatus.DRAFT:
        return redirect(url_for("respond.thanks"), code=303)
    values = services.saved_values(draft)
    if not services.shown_items(sections[page - 1], values):
        # Every question here depends on an earlier answer that rules it out.
        target = services.step(sections, page, values, 1)
        if target == services.COMPLETE:
            target = services.step(sections, page, values, -1)
        if target != page:
            return redirect(visit.page_url(target), code=303)
    return _render_page(visit, sections, page, language, values, {}, 200)


def _forget_resume(visit: Visit) -> None:
    """A sent questionnaire leaves nothing in the cookie to resume it or to know its code by."""
    if visit.invitation is not None:
        known = session.get("codes") or []
        mark = _code_mark(visit.key)
        if mark in known:
            session["codes"] = [m for m in known if m != mark]
    remembered = session.get("resume") or {}
    left = {token: key for token, key in remembered.items() if key != visit.key}
    if left != remembered:
        session["resume"] = left


def _render_page(visit, sections, page, language, values, errors, status):
    wave = visit.wave
    context = {**services.saved_values(visit.draft), **values}
    with force_locale(language):
        instrument = services.wave_instrument(wave)
        shown = translated_sections(instrument, [sections[page - 1]], language, _translations_dir())
        section = shown[0]
        # A condition on an earlier page is settled; one on this page cannot be without
        # JavaScript, so that question is shown with a hint and ignored if it does not apply.
        on_page = {item.id for item in section.items}
        items = [
            item
            for item in section.items
            if item.show_if is None
            or item.show_if.item in on_page
            or services.is_shown(item, context)
        ]
        total = len(sections)
        html = render_template(
            "respond/page.html",
            title=translated_title(instrument, language, _translations_dir()),
            section=section,
            items=items,
            values=values,
            errors=errors,
            error_items=[item for item in items if item.id in errors],
            page=page,
            total=total,
            is_last=services.step(sections, page, context, 1) == services.COMPLETE,
            languages=_language_links(wave),
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
