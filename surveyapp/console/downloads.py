"""Dataset, codebook and aggregate-table downloads of a wave, an initiative or a city.

Thin handlers: the object is looked up through the user's memberships (another city's
object is a 404), then :mod:`surveyapp.exports.web` checks the role, audits and sends.
"""

from __future__ import annotations

from typing import Any

from flask import abort, request
from flask_babel import gettext as _

from surveyapp.auth.views import current_user, login_required
from surveyapp.console import access
from surveyapp.console.blueprint import bp
from surveyapp.exports import web

SCOPE = {"waves": "wave", "initiatives": "initiative", "cities": "city"}
KINDS = "any(waves, initiatives, cities)"


def _scoped(kind: str, object_id: int) -> tuple[str, Any, str]:
    """(scope, object, the user's role in its city); 404 for another city's object."""
    if kind == "waves":
        wave, membership = access.wave(object_id)
        return "wave", wave, membership.role
    if kind == "initiatives":
        initiative, membership = access.initiative(object_id)
        return "initiative", initiative, membership.role
    city, membership = access.city(object_id)
    return "city", city, membership.role


def _flag(name: str) -> bool:
    value = request.args.get(name, "false").lower()
    if value not in ("1", "true", "yes", "0", "false", "no", ""):
        abort(
            400,
            description=_(
                "%(name)s must be true or false (the link asked for %(given)s).",
                name=name,
                given=repr(value),
            ),
        )
    return value in ("1", "true", "yes")


@bp.get(f"/<{KINDS}:kind>/<int:object_id>/dataset")
@login_required
def dataset(kind: str, object_id: int):
    """The cleaned dataset: ?format=csv|parquet|sav|dta|zip&shape=wide|long&free_text&bundle."""
    scope, obj, role = _scoped(kind, object_id)
    return web.dataset_response(
        scope,
        obj,
        user=current_user(),
        role=role,
        fmt=request.args.get("format", "csv"),
        shape=request.args.get("shape", "wide"),
        free_text=_flag("free_text"),
        bundle=_flag("bundle"),
    )


@bp.get(f"/<{KINDS}:kind>/<int:object_id>/codebook")
@login_required
def codebook(kind: str, object_id: int):
    """The HTML codebook of the dataset."""
    scope, obj, _role = _scoped(kind, object_id)
    return web.codebook_response(scope, obj, user=current_user())


@bp.get(f"/<{KINDS}:kind>/<int:object_id>/aggregates.csv")
@login_required
def aggregates(kind: str, object_id: int):
    """Index by wave x area x group with small cells suppressed."""
    scope, obj, _role = _scoped(kind, object_id)
    return web.aggregates_response(scope, obj, user=current_user())
