"""Objects as the signed-in staff member may see them: always through their memberships.

Another city's area, initiative or wave is a 404, never a page; a role that may not act
is a 403. Every console page looks its objects up here.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy import select

from surveyapp.auth.views import current_user
from surveyapp.extensions import db
from surveyapp.models import Area, City, Initiative, Membership, Role, Wave

#: Roles that may change things; analysts read.
WRITE = (Role.ADMIN, Role.COORDINATOR)
#: Roles that may read the audit log.
ADMIN = (Role.ADMIN,)

Roles = tuple[str, ...] | None


def membership(city_id: int, roles: Roles = None) -> Membership:
    """The user's membership of ``city_id``: 404 if none, 403 if the role may not act."""
    found = db.session.scalar(
        select(Membership).where(
            Membership.city_id == city_id, Membership.user_id == current_user().id
        )
    )
    if found is None:
        abort(404)
    if roles is not None and found.role not in roles:
        abort(403)
    return found


def city(city_id: int, roles: Roles = None) -> tuple[City, Membership]:
    """A city of the user's, with their membership of it."""
    found = membership(city_id, roles)
    return found.city, found


def area(area_id: int, roles: Roles = None) -> tuple[Area, Membership]:
    """An area of one of the user's cities, with their membership of that city."""
    found = db.session.get(Area, area_id)
    if found is None:
        abort(404)
    return found, membership(found.city_id, roles)


def initiative(initiative_id: int, roles: Roles = None) -> tuple[Initiative, Membership]:
    """An initiative of one of the user's cities, with their membership of that city."""
    found = db.session.get(Initiative, initiative_id)
    if found is None:
        abort(404)
    return found, membership(found.city_id, roles)


def wave(wave_id: int, roles: Roles = None) -> tuple[Wave, Membership]:
    """A wave of one of the user's cities, with their membership of that city."""
    found = db.session.get(Wave, wave_id)
    if found is None:
        abort(404)
    return found, membership(found.city_id, roles)
