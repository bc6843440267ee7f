"""Dataset, codebook and aggregate-table downloads of a wave, an initiative or a city.

Thin handlers: the object is looked up through the user's memberships (another city's
object is a 404), then :mod:`surveyapp.exports.web` checks the role, audits and sends.
"""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange

from surveyapp.audit import record as audit
from surveyapp.auth.views import current_user, login_required
from surveyapp.console import access
from surveyapp.console.blueprint import bp, flash_ok, refuse
from surveyapp.console.forms import error_messages
from surveyapp.exports import protection, web
from surveyapp.exports.dataset import build_plan
from surveyapp.extensions import db
from surveyapp.models import City, Role

SCOPE = {"waves": "wave", "initiatives": "initiative", "cities": "city"}
KINDS = "any(waves, initiatives, cities)"
FORMAT_LABELS = {
    "zip": "ZIP (CSV)",
    "csv": "CSV",
    "parquet": "Parquet",
    "sav": "SPSS",
    "dta": "Stata",
}


class UnprotectedForm(FlaskForm):
    """An admin's request for the file without disclosure control."""

    format = StringField(validators=[AnyOf(list(FORMAT_LABELS))])
    purpose = TextAreaField(
        validators=[
            DataRequired(message=_l("Say what you need the file without disclosure control for.")),
            Length(min=10, max=500, message=_l("The purpose needs 10 to 500 characters.")),
        ]
    )


class MicrodataKForm(FlaskForm):
    """The city's k of k-anonymity."""

    k = IntegerField(
        validators=[
            InputRequired(message=_l("k must be a whole number from 3 to 20.")),
            NumberRange(*protection.K_RANGE, message=_l("k must be a whole number from 3 to 20.")),
        ]
    )


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


@bp.get(f"/<{KINDS}:kind>/<int:object_id>/disclosure")
@login_required
def disclosure(kind: str, object_id: int):
    """Disclosure risk of the response-level file before and after control; admins' options."""
    scope, obj, role = _scoped(kind, object_id)
    if role not in web.RECORD_ROLES:
        abort(403, description=_("Response-level datasets are for admins and analysts."))
    city = db.session.get(City, web.city_id_of(scope, obj))
    plan = build_plan(db.session, scope, obj)
    _plan, protected = protection.protect_plan(db.session, plan, protection.city_k(city))
    return render_template(
        "console/disclosure.html",
        kind=kind,
        object_id=object_id,
        title=plan.title,
        city=city,
        role=role,
        protected=protected,
        k_form=MicrodataKForm(k=protected.k),
        k_range=protection.K_RANGE,
        formats=FORMAT_LABELS,
    )


@bp.post(f"/<{KINDS}:kind>/<int:object_id>/dataset/unprotected")
@login_required
def dataset_unprotected(kind: str, object_id: int):
    """The file without disclosure control: admins only, with a stated purpose (audited)."""
    scope, obj, role = _scoped(kind, object_id)
    if role != Role.ADMIN:
        abort(403, description=_("Only admins can download the file without disclosure control."))
    form = UnprotectedForm()
    if not form.validate():
        return refuse(error_messages(form), url_for(".disclosure", kind=kind, object_id=object_id))
    return web.dataset_response(
        scope,
        obj,
        user=current_user(),
        role=role,
        fmt=form.format.data,
        purpose=form.purpose.data.strip(),
    )


@bp.post("/cities/<int:city_id>/microdata-k")
@login_required
def microdata_k(city_id: int):
    """Set the city's k of k-anonymity for analysts' files (admins)."""
    city, _membership = access.city(city_id, roles=(Role.ADMIN,))
    here = url_for(".disclosure", kind="cities", object_id=city_id)
    form = MicrodataKForm()
    if not form.validate():
        return refuse(error_messages(form), here)
    before = city.microdata_k
    city.microdata_k = int(form.k.data)
    audit(
        db.session,
        current_user(),
        city.id,
        "microdata_k_changed",
        "city",
        city.id,
        before=before,
        after=city.microdata_k,
    )
    db.session.commit()
    flash_ok(_("Analysts' files are now %(k)s-anonymous.", k=city.microdata_k))
    return redirect(here, code=303)
