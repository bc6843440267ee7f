"""What a resident's link resolves to, and the rules around every resident page: the
language shown, the pages that say no, and the limits on code guessing and ballot stuffing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from flask import current_app, render_template, request, session, url_for
from limits import RateLimitItemPerMinute
from limits.strategies import MovingWindowRateLimiter
from werkzeug.wrappers import Response as WebResponse

from surveyapp.extensions import limiter
from surveyapp.i18n import catalogs, translations_dir
from surveyapp.i18n.negotiation import negotiate
from surveyapp.models import BURST_COMPLETIONS, Invitation, Response, Wave
from surveyapp.respond import availability, drafts
from surveyapp.respond.codes import normalize_code
from surveyapp.security import client_key, keyed

#: Length bounds of the idempotency keys the pages carry (token_urlsafe(24) is 32 chars).
KEY_LENGTH = (16, 64)
#: Open-link questionnaires a browser's cookie can resume.
MAX_REMEMBERED = 3


class BadSubmission(Exception):
    """A page POST that no honest form produces; answered with 400 and a plain message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Visit:
    """What a resident's link resolves to."""

    wave: Wave | drafts.WaveState
    key: str  # invitation code or resume token: what finds the draft
    endpoint: str  # page endpoint for this kind of link
    invitation: Invitation | None = None
    draft: Response | drafts.Draft | None = None
    area_id: int | None = None  # the area of the area link it came through, if one

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


def offered_languages(wave: Wave) -> list[str]:
    return list(wave.languages or ["en"])


def page_language(wave: Wave, draft: Response | None = None) -> str:
    """An explicit choice, else the one saved with the draft, else the browser's best match."""
    offered = offered_languages(wave)
    chosen = request.args.get("lang")
    if chosen in offered:
        session["lang"] = chosen
        return chosen
    if session.get("lang") in offered:
        return session["lang"]
    if draft is not None and draft.language in offered:
        return draft.language
    return negotiate(request.headers.get("Accept-Language"), offered) or offered[0]


def language_links(wave: Wave) -> list[dict[str, str]]:
    known = catalogs.languages(translations_dir())
    return [
        {"code": code, "name": known[code].native if code in known else code}
        for code in offered_languages(wave)
    ]


# --- Pages that say no -------------------------------------------------------------------


def arrival() -> str:
    """How the visitor came, for what a problem page offers: ``code`` (a letter's code),
    ``link`` (an open link or a resume link: no code to type) or ``staff``."""
    path = request.path
    if path.startswith(("/staff", "/api/")):
        return "staff"
    if path.startswith(("/w/", "/r/")):
        return "link"
    if path == "/" or path.startswith("/i/"):
        return "code"
    # Elsewhere (a mistyped address): what this browser opened before, a letter by default.
    if not session.get("codes") and session.get("resume"):
        return "link"
    return "code"


def unavailable(reason: availability.Unavailable, status: int = 200):
    return render_template("respond/unavailable.html", reason=reason.value), status


def unavailable_status(reason: availability.Unavailable) -> int:
    return {
        availability.Unavailable.UNKNOWN: 404,
        availability.Unavailable.CODE_USED: 410,
    }.get(reason, 200)


# --- Abuse resistance ---------------------------------------------------------------------


#: Codes this browser has opened, remembered in its session cookie (as keyed hashes).
MAX_KNOWN_CODES = 5


def code_mark(code: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"code:" + code.encode(), hashlib.sha256).hexdigest()[:16]


def remember_code(code: str) -> None:
    mark = code_mark(code)
    known = session.get("codes") or []
    if mark not in known:
        session["codes"] = [*known, mark][-MAX_KNOWN_CODES:]


def known_code() -> bool:
    """Whether the code in this URL was opened before in this browser: then it is no guess.

    A resident who has started is never stopped by guesses made by others at the same
    address (a community centre's wifi, a mobile network's shared address), and their
    page saves do not consult the limiter's counters at all.
    """
    args = request.view_args or {}
    code = normalize_code(str(args.get("code") or args.get("key") or ""))
    return bool(code) and code_mark(code) in (session.get("codes") or [])


def browser_key() -> str:
    """A rate-limit key for this browser: a random id kept in its session cookie, keyed.

    Residents who share an address (a community centre's wifi, a carrier's shared address)
    each have their own; the id says nothing about the person and is stored nowhere else.
    """
    browser = session.get("browser")
    if not isinstance(browser, str):
        browser = session["browser"] = secrets.token_urlsafe(12)
    return keyed("browser", browser)


def _wrong_code(response: WebResponse) -> bool:
    return response.status_code == 404


#: Guessing codes, counted over every page that takes a code; only unknown codes count, and a
#: browser that has opened a code before is never stopped on it (:func:`known_code`).
#: Per browser: a person mistyping is told to wait long before anyone else is affected.
_per_browser = limiter.shared_limit(
    "10 per minute;100 per day",
    scope="code-guesses-browser",
    key_func=browser_key,
    deduct_when=_wrong_code,
    exempt_when=known_code,
)
#: Per address: software that throws its cookie away. Set well above what residents typing
#: in good faith reach behind one shared address (a whole city behind a misconfigured proxy
#: included), and far below what guessing needs: at 1,000 wrong codes an hour, finding one
#: of 50,000 live codes among 25**10 takes about 200 years on average.
_per_address = limiter.shared_limit(
    "60 per minute;1000 per hour",
    scope="code-guesses",
    key_func=client_key,
    deduct_when=_wrong_code,
    exempt_when=known_code,
)


def code_guesses(view: Callable[..., Any]) -> Callable[..., Any]:
    """The limits on guessing codes, for a view that takes a code."""
    return _per_address(_per_browser(view))


def _open_link_browser_key() -> str:
    return f"{browser_key()}:{(request.view_args or {}).get('token', '')}"


def _open_link_address_key() -> str:
    return f"{client_key()}:{(request.view_args or {}).get('token', '')}"


def _started(response: WebResponse) -> bool:
    return response.status_code == 303


#: Questionnaires started on one open link by one browser: someone starting over and over.
#: A library's or community centre's shared computer is one browser: 30 an hour is more
#: than one screen can serve (repeats from one browser are flagged, not refused).
_starts_per_browser = limiter.limit(
    "30 per hour",
    key_func=_open_link_browser_key,
    methods=["POST"],
    deduct_when=_started,
)
#: Per address only a ceiling against floods by software that throws its cookie away: a
#: city's residents behind one shared address (a carrier's, or a proxy without
#: SURVEYAPP_PROXY_HOPS) start far fewer than 120 a minute. Bursts below it are flagged
#: for the analyst (:func:`completion_burst`), not refused.
_starts_per_address = limiter.limit(
    "120 per minute;3000 per hour",
    key_func=_open_link_address_key,
    methods=["POST"],
    deduct_when=_started,
)


def open_link_starts(view: Callable[..., Any]) -> Callable[..., Any]:
    """The limits on starting questionnaires on an open link (POST of its welcome page)."""
    return _starts_per_address(_starts_per_browser(view))


#: From the BURST_COMPLETIONS-th open-link questionnaire of a wave sent from one address
#: within a minute on, each is flagged ``completion_burst``: ballot stuffing, or at least
#: something the analyst should look at. People in a community centre finish minutes apart.
BURST_WINDOW = RateLimitItemPerMinute(BURST_COMPLETIONS - 1)


def _burst_key(wave_id: int) -> str:
    # Only a keyed hash of the address and the wave, in the limiter's counters (memory or
    # Redis), gone a minute after the last completion: nothing of it reaches the database.
    return keyed("burst", f"{request.remote_addr or ''}:{wave_id}")


def completion_burst(wave_id: int) -> bool:
    """Whether :data:`BURST_COMPLETIONS` - 1 or more open-link questionnaires of this wave
    were sent from this address in the last minute (a counter's error is no burst)."""
    try:
        return not MovingWindowRateLimiter(limiter.limiter.storage).test(
            BURST_WINDOW, _burst_key(wave_id)
        )
    except Exception:  # the counters' storage went away: answering goes on unflagged
        current_app.logger.warning("completion burst check failed", exc_info=True)
        return False


def count_completion(wave_id: int) -> None:
    """Count a sent open-link questionnaire for :func:`completion_burst`."""
    try:
        MovingWindowRateLimiter(limiter.limiter.storage).hit(BURST_WINDOW, _burst_key(wave_id))
    except Exception:
        current_app.logger.warning("completion burst count failed", exc_info=True)


#: A field people never see or fill in; software that fills in every field does.
HONEYPOT = "website"
MAX_ANSWERED = 10
