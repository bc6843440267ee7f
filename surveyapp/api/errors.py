"""JSON error answers of the API: ``{"error": "..."}`` with the status, never an HTML page."""

from __future__ import annotations

from flask import Response, jsonify
from werkzeug.exceptions import HTTPException

#: What an error says when the code that raised it gave no message of its own.
MESSAGES = {
    400: "The request is not valid.",
    401: "A valid API token is required: send 'Authorization: Bearer <token>'.",
    403: "Your role in this city does not allow this.",
    404: "Not found.",
    405: "Method not allowed: the API only answers GET.",
    413: "The request is too large.",
    429: "Too many requests: slow down and try again in a minute.",
    500: "Internal server error.",
    503: "The service is briefly unavailable; try again in a few seconds.",
}

#: The challenge sent with every 401 (RFC 6750).
BEARER_CHALLENGE = 'Bearer realm="surveyapp"'


def json_error(
    status: int, message: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    """A JSON error response with ``status`` and a message for the caller."""
    response = jsonify({"error": message or MESSAGES.get(status, "Error.")})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401:
        response.headers.setdefault("WWW-Authenticate", BEARER_CHALLENGE)
    return response


def http_error(error: HTTPException) -> Response:
    """Answer a werkzeug HTTP error as JSON, keeping a message its raiser wrote.

    404 always gets the generic message: whether an object is missing or belongs to
    another city must not show.
    """
    status = error.code or 500
    custom = error.description != type(error).description
    if status == 429:
        message = f"Too many requests ({error.description}); try again later."
    elif custom and status != 404:
        message = str(error.description)
    else:
        message = None
    headers = {}
    allow = dict(error.get_headers()).get("Allow")
    if allow:
        headers["Allow"] = allow
    return json_error(status, message, headers)
