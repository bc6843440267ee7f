"""Response headers that make pages hard to abuse, and a clear page when the database is away.

Every page gets a strict Content-Security-Policy (scripts, styles and images only from the
app's own files, never inline, forms only to the app, never framed), ``nosniff``,
``no-referrer`` and a Permissions-Policy that switches off camera, microphone and location.
In production, HSTS tells browsers to use HTTPS only. Resident pages and console pages are
not cached, so a shared phone or computer does not keep answers in its cache.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, current_app, render_template, request
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.routing import IntegerConverter

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
#: The validation report is one self-contained HTML file with an inline stylesheet (and no
#: script at all).
REPORT_CSP = CSP.replace("script-src 'self'; ", "").replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)


STANDARD_HEADERS = [
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
]


def keyed(purpose: str, value: str, length: int = 24) -> str:
    """A keyed hash of ``value`` (never the value) for rate-limit keys and the like.

    Rate-limit counters live in Redis in production: their keys hold no address, e-mail
    address or token, only what the app's secret key can reproduce.
    """
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()[:length]


class DatabaseInt(IntegerConverter):
    """``<int:...>`` in every URL: at most 2**31 - 1, the largest id the database stores.

    A larger number (``/staff/cities/99999999999/audit``) matches no route and is a 404; it
    used to reach PostgreSQL and fail there as integer out of range, a 500.
    """

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def private_file(path: Path) -> None:
    """Make ``path`` readable and writable by its owner only (0600): it holds residents'
    data or codes (backups, letter ZIPs)."""
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)


def client_key() -> str:
    """A rate-limit key for the client: a keyed hash of its address, never the address."""
    return keyed("client", request.remote_addr or "")


class SigningCache(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signing serializer built once per key.

    Flask builds a new serializer (and derives its key) for every request that opens or
    saves a session; on a page save that was a tenth of the CPU spent outside the save.
    """

    def __init__(self) -> None:
        self._serializer: tuple[Any, Any] = (None, None)

    def get_signing_serializer(self, app: Flask) -> Any:
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        if self._serializer[0] != keys:
            self._serializer = (keys, super().get_signing_serializer(app))
        return self._serializer[1]


def init_app(app: Flask) -> None:
    """Register the headers, the session signing and the database-outage page."""
    app.session_interface = SigningCache()

    @app.after_request
    def _headers(response: Response) -> Response:
        # Added in one go, each unless the view set its own (a report's own CSP): this runs
        # for every response, and Headers.setdefault scans the list once per header.
        headers = response.headers
        present = {name.lower() for name, _value in headers.items()}
        headers.extend([(name, value) for name, value in standard if name.lower() not in present])
        if request.endpoint != "static" and "cache-control" not in present:
            headers.add("Cache-Control", "no-store")
        return response

    standard = [*STANDARD_HEADERS]
    if app.config["ENV_NAME"] == "production":
        standard.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))

    @app.before_request
    def _no_nul_characters():
        # No link, code or answer holds a NUL character, and PostgreSQL cannot store one in
        # text: a request with one is refused as not understood before it reaches a query.
        fields = [request.path, *request.args.keys(), *request.args.values()]
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            fields += [*request.form.keys(), *request.form.values()]
        if any("\x00" in field for field in fields):
            abort(400)

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeout)
    def _database_away(error: Exception):
        return _try_again()

    @app.errorhandler(DBAPIError)
    def _database_error(error: DBAPIError):
        if error.connection_invalidated or isinstance(error, OperationalError):
            return _try_again()
        if isinstance(error, IntegrityError):
            # Two requests saved the same thing at the same moment (a double click, two
            # colleagues): the first is kept and this one changed nothing. Sent again, it
            # meets the checks that say what already exists.
            return _try_again(status=409)
        raise error


def _try_again(status: int = 503):
    from surveyapp.extensions import db

    db.session.rollback()
    page = render_template("respond/problem.html", problem="try_again", detail=None)
    return page, status, {"Retry-After": "5"} if status == 503 else {}
