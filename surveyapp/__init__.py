"""The survey platform's Flask application factory."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, make_response, request
from flask_babel import get_locale

from surveyapp.config import load_config
from surveyapp.extensions import babel, compress, csrf, db, limiter, retry_after
from surveyapp.i18n import RTL, select_locale
from surveyapp.uploads import InMemoryUploads


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create the app; ``config`` overrides settings read from ``SURVEYAPP_*`` variables."""
    app = Flask(__name__, instance_relative_config=False)
    app.request_class = InMemoryUploads
    app.config.update(load_config(config, instance_path=Path(app.instance_path)))
    if app.config["DATABASE_URL"].startswith("sqlite:///"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from surveyapp import proxy

    proxy.init_app(app)

    db.init_app(app)
    from surveyapp import jobs

    jobs.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    compress.init_app(app)
    limiter.init_app(app)

    from surveyapp import assets
    from surveyapp.security import DatabaseInt

    app.url_map.converters["int"] = DatabaseInt  # before any route is added
    from surveyapp.api.views import bp as api_bp
    from surveyapp.auth.second_factor.views import bp as second_factor_bp
    from surveyapp.auth.views import bp as auth_bp
    from surveyapp.console.views import bp as console_bp
    from surveyapp.respond.views import bp as respond_bp

    assets.init_app(app)
    for blueprint in (respond_bp, auth_bp, second_factor_bp, console_bp, api_bp):
        app.register_blueprint(blueprint)

    @app.context_processor
    def _page_language() -> dict[str, str]:
        language = str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"])
        base = language.split("_")[0]
        return {
            "page_lang": language.replace("_", "-"),
            "page_dir": "rtl" if base in RTL else "ltr",
        }

    _register_error_pages(app)

    from surveyapp import logs, security

    security.init_app(app)
    logs.init_app(app)

    @app.after_request
    def _buffer_static(response):
        # Our static files are a few kilobytes: buffered, they can be compressed.
        if request.endpoint == "static" and response.is_streamed:
            body = response.response
            data = b"".join(body)
            if hasattr(body, "close"):
                body.close()
            response.direct_passthrough = False
            response.set_data(data)
        return response

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """Liveness probe for load balancers."""
        return {"status": "ok"}

    return app


def _register_error_pages(app: Flask) -> None:
    """Plain pages, in the visitor's language, for requests a user or a file can get wrong."""
    from flask import render_template
    from flask_wtf.csrf import CSRFError

    def page(problem: str, status: int, error: Exception | None = None, **context: Any):
        if request.path.startswith("/api/"):
            # API clients get JSON, also for URLs and methods no API route matches.
            from surveyapp.api.errors import json_error

            return json_error(status)
        # A message written for this case (abort(400, description=...)) says what is wrong.
        detail = getattr(error, "description", None)
        if detail == getattr(type(error), "description", None):
            detail = None
        html = render_template("respond/problem.html", problem=problem, detail=detail, **context)
        return html, status

    @app.errorhandler(CSRFError)
    def _csrf(_error: CSRFError):
        return page("csrf", 400)

    @app.errorhandler(400)
    def _bad_request(error: Exception):
        return page("bad_request", 400, error)

    @app.errorhandler(404)
    def _not_found(_error: Exception):
        return page("not_found", 404)

    @app.errorhandler(405)
    def _method(error: Exception):
        # RFC 9110 15.5.6: a 405 says which methods the resource answers.
        response = make_response(page("bad_request", 405))
        allow = dict(error.get_headers()).get("Allow") if hasattr(error, "get_headers") else None
        if allow:
            response.headers["Allow"] = allow
        return response

    @app.errorhandler(429)
    def _too_many(_error: Exception):
        # Say how long: "a few minutes" could be an hour. Browsers and API clients read
        # Retry-After; people read the minutes.
        wait = retry_after()
        minutes = max(1, math.ceil(wait / 60))
        response = make_response(page("too_many", 429, wait_minutes=minutes))
        response.headers["Retry-After"] = str(wait)
        return response

    @app.errorhandler(403)
    def _forbidden(error: Exception):
        return page("forbidden", 403, error)

    @app.errorhandler(413)
    def _too_large(_error: Exception):
        return page("too_large", 413)
