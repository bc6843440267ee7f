"""The analysts' read-only JSON API under ``/api/v1``, and its OpenAPI document.

Every ``/api/v1`` route needs a bearer token (see :mod:`surveyapp.api.auth`) and reads
only the cities where the token's user is a member. Answers are JSON, never cached,
never set a cookie; errors are ``{"error": "..."}``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

from surveyapp.api import auth, services
from surveyapp.api.errors import http_error, json_error
from surveyapp.extensions import csrf, db, limiter

bp = Blueprint("api", __name__, url_prefix="/api")

# GET-only and authenticated by a header, never by a cookie: there is no cross-site
# request to forge, and API clients have no CSRF token to send.
csrf.exempt(bp)

#: Requests per token; ``API_RATE_LIMIT`` in the app config overrides it.
RATE_LIMIT = "300 per minute"

limiter.shared_limit(
    lambda: current_app.config.get("API_RATE_LIMIT", RATE_LIMIT),
    scope="api",
    key_func=auth.rate_limit_key,
)(bp)

BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


@bp.before_request
def _authenticate() -> Response | None:
    if request.endpoint == "api.openapi":
        return None
    return auth.authenticate()


@bp.after_request
def _no_store(response: Response) -> Response:
    # Overrides whatever a download set: answers hold city data and must not be cached.
    response.headers["Cache-Control"] = "no-store"
    return response


def _http_error(error: HTTPException) -> Response:
    return http_error(error)


# Registered per status code: Flask prefers the app's handler for a code (the HTML pages)
# over a blueprint's handler for the HTTPException class.
bp.register_error_handler(HTTPException, _http_error)
for _code in (400, 401, 403, 404, 405, 413, 429):
    bp.register_error_handler(_code, _http_error)


@bp.errorhandler(InternalServerError)
def _server_error(_error: InternalServerError) -> Response:
    db.session.rollback()
    return json_error(500)


@bp.errorhandler(OperationalError)
@bp.errorhandler(PoolTimeout)
def _database_away(_error: Exception) -> Response:
    db.session.rollback()
    return json_error(503, headers={"Retry-After": "5"})


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3 document of this API (no token needed)."""
    from surveyapp.api.openapi import document

    return jsonify(document())


@bp.get("/v1/me")
def me() -> Response:
    """The token's user, the token and the user's cities with roles."""
    return jsonify(services.me(auth.api_user(), auth.api_token(), auth.memberships()))


@bp.get("/v1/cities")
def cities() -> Response:
    """The token user's cities, by name."""
    return jsonify({"cities": [services.city_summary(m) for m in auth.memberships()]})


@bp.get("/v1/cities/<int:city_id>")
def city(city_id: int) -> Response:
    """One city with its areas."""
    found, membership = auth.city_or_404(city_id)
    return jsonify(services.city_detail(found, membership))


@bp.get("/v1/cities/<int:city_id>/initiatives")
def city_initiatives(city_id: int) -> Response:
    """A city's initiatives, oldest first."""
    found, _membership = auth.city_or_404(city_id)
    return jsonify(services.city_initiatives(db.session, found))


@bp.get("/v1/initiatives/<int:initiative_id>")
def initiative(initiative_id: int) -> Response:
    """An initiative with its treated and comparison areas and its waves."""
    found, _membership = auth.initiative_or_404(initiative_id)
    return jsonify(services.initiative_detail(db.session, found))


@bp.get("/v1/initiatives/<int:initiative_id>/waves")
def initiative_waves(initiative_id: int) -> Response:
    """An initiative's waves, oldest first."""
    found, _membership = auth.initiative_or_404(initiative_id)
    return jsonify(services.initiative_waves(db.session, found))


@bp.get("/v1/waves/<int:wave_id>")
def wave(wave_id: int) -> Response:
    """A wave: status, dates, languages, complete responses ("<10" unless admin)."""
    found, membership = auth.wave_or_404(wave_id)
    return jsonify(services.wave_detail(db.session, found, membership))


def _report_content(initiative_id: int) -> tuple[Any, dict[str, Any]]:
    """The initiative and its validation report's content; reading it is audited."""
    from surveyapp.reports import cached_initiative_report

    found, _membership = auth.initiative_or_404(initiative_id)
    report = cached_initiative_report(db.session, found, actor=auth.api_user())
    db.session.commit()
    return found, report.to_json()


@bp.get("/v1/initiatives/<int:initiative_id>/indices")
def initiative_indices(initiative_id: int) -> Response:
    """Index means per construct x arm x wave with 95% CIs, and validation verdicts."""
    found, content = _report_content(initiative_id)
    return jsonify(services.indices(db.session, found, content))


@bp.get("/v1/initiatives/<int:initiative_id>/changes")
def initiative_changes(initiative_id: int) -> Response:
    """Wave-to-wave changes per arm and difference-in-differences, with 95% CIs."""
    found, content = _report_content(initiative_id)
    return jsonify(services.changes(db.session, found, content))


# --- Datasets -------------------------------------------------------------------------------


def _dataset_options() -> tuple[str, str, bool, bool] | Response:
    """``format``, ``shape``, ``free_text`` and ``bundle`` from the query, or a 400."""
    fmt = request.args.get("format", "csv")
    if fmt not in services.DATASET_FORMATS:
        allowed = ", ".join(services.DATASET_FORMATS)
        return json_error(400, f"Query parameter 'format' must be one of: {allowed}.")
    shape = request.args.get("shape", "wide")
    if shape not in services.DATASET_SHAPES:
        allowed = ", ".join(services.DATASET_SHAPES)
        return json_error(400, f"Query parameter 'shape' must be one of: {allowed}.")
    free_text = BOOLEANS.get(request.args.get("free_text", "false").lower())
    if free_text is None:
        return json_error(400, "Query parameter 'free_text' must be true or false.")
    bundle = BOOLEANS.get(request.args.get("bundle", "false").lower())
    if bundle is None:
        return json_error(400, "Query parameter 'bundle' must be true or false.")
    return fmt, shape, free_text, bundle


def _dataset(scope: str, obj: Any, role: str) -> Response:
    """Delegate the download to the exports module (it checks the role and audits)."""
    options = _dataset_options()
    if isinstance(options, Response):
        return options
    fmt, shape, free_text, bundle = options
    from surveyapp.exports.web import dataset_response

    return dataset_response(
        scope,
        obj,
        user=auth.api_user(),
        role=role,
        fmt=fmt,
        shape=shape,
        free_text=free_text,
        via="api",
        bundle=bundle,
    )


@bp.get("/v1/waves/<int:wave_id>/dataset")
def wave_dataset(wave_id: int) -> Response:
    """The complete responses of one wave as a file."""
    found, membership = auth.wave_or_404(wave_id)
    return _dataset("wave", found, membership.role)


@bp.get("/v1/initiatives/<int:initiative_id>/dataset")
def initiative_dataset(initiative_id: int) -> Response:
    """The complete responses of every wave of an initiative as a file."""
    found, membership = auth.initiative_or_404(initiative_id)
    return _dataset("initiative", found, membership.role)


@bp.get("/v1/cities/<int:city_id>/dataset")
def city_dataset(city_id: int) -> Response:
    """The complete responses of every initiative of a city as a file."""
    found, membership = auth.city_or_404(city_id)
    return _dataset("city", found, membership.role)
