"""Bearer-token authentication of API requests and the city scope of the token's user.

Each request names its token in ``Authorization: Bearer <token>``; no cookie or session is
read or set. The token's user sees exactly the cities where it has a membership (any
role); any other city's object is a 404, exactly like an object that does not exist.
"""

from __future__ import annotations

from flask import Response, abort, g, request
from sqlalchemy import select

from surveyapp.api import tokens
from surveyapp.api.errors import BEARER_CHALLENGE, json_error
from surveyapp.db import utcnow
from surveyapp.extensions import db
from surveyapp.models import ApiToken, City, Initiative, Membership, User, Wave
from surveyapp.security import client_key, keyed

#: Ids above this are not in any table (PostgreSQL ``integer``): answered 404 without a query.
MAX_ID = 2**31 - 1


def authenticate() -> Response | None:
    """Before every API request: find the token's user or answer 401.

    The token's last use is committed at once, so that it is recorded even when the
    request itself fails later.
    """
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        return json_error(401)
    if scheme.lower() != "bearer" or not token.strip():
        return json_error(401, "Send the token as 'Authorization: Bearer <token>'.")
    now = utcnow()
    row = tokens.usable_token(db.session, token.strip(), now)
    if row is None:
        return json_error(
            401,
            "The token is unknown, revoked or expired.",
            {"WWW-Authenticate": f'{BEARER_CHALLENGE}, error="invalid_token"'},
        )
    if tokens.record_use(row, now):
        db.session.commit()
    g.api_token = row
    g.api_user = row.user
    g.api_memberships = {
        m.city_id: m
        for m in db.session.scalars(select(Membership).where(Membership.user_id == row.user_id))
    }
    return None


def rate_limit_key() -> str:
    """Rate limits count per token (a digest of the header), or per client without one."""
    header = request.headers.get("Authorization", "")
    if header:
        return "api:" + keyed("api-token", header, 32)
    return f"api-anonymous:{client_key()}"


def api_user() -> User:
    """The user whose token authenticated this request."""
    return g.api_user


def api_token() -> ApiToken:
    """The token that authenticated this request."""
    return g.api_token


def memberships() -> list[Membership]:
    """The token user's memberships, by city name."""
    return sorted(g.api_memberships.values(), key=lambda m: (m.city.name, m.city_id))


def membership(city_id: int) -> Membership:
    """The token user's membership of ``city_id``; 404 if it has none."""
    found = g.api_memberships.get(city_id)
    if found is None:
        abort(404)
    return found


def _get(model: type, object_id: int):
    if not 1 <= object_id <= MAX_ID:
        abort(404)
    found = db.session.get(model, object_id)
    if found is None:
        abort(404)
    return found


def city_or_404(city_id: int) -> tuple[City, Membership]:
    """A city of the token's user, with the user's membership."""
    if not 1 <= city_id <= MAX_ID:
        abort(404)
    found = membership(city_id)
    return found.city, found


def initiative_or_404(initiative_id: int) -> tuple[Initiative, Membership]:
    """An initiative in one of the token user's cities."""
    initiative = _get(Initiative, initiative_id)
    return initiative, membership(initiative.city_id)


def wave_or_404(wave_id: int) -> tuple[Wave, Membership]:
    """A wave of an initiative in one of the token user's cities."""
    wave = _get(Wave, wave_id)
    return wave, membership(wave.city_id)
