"""Console pages. Every view reads only the signed-in user's cities."""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, render_template
from sqlalchemy import select

from surveyapp.auth.views import current_user, login_required
from surveyapp.console import services
from surveyapp.extensions import db
from surveyapp.models import Initiative, Membership, PyramidLevel

bp = Blueprint("console", __name__, url_prefix="/staff")


@bp.get("/")
@login_required
def home():
    """The user's cities, each with its initiatives grouped by prevention pyramid level."""
    user = current_user()
    cities = [
        (membership, services.city_initiatives(db.session, membership.city_id))
        for membership in services.memberships(db.session, user)
    ]
    return render_template("console/home.html", user=user, cities=cities, levels=PyramidLevel)


def _initiative_for_user(initiative_id: int) -> Initiative:
    """The initiative if the signed-in user is a member of its city; 404 otherwise."""
    user = current_user()
    initiative = db.session.scalar(
        select(Initiative)
        .join(Membership, Membership.city_id == Initiative.city_id)
        .where(Initiative.id == initiative_id, Membership.user_id == user.id)
    )
    if initiative is None:
        abort(404)
    return initiative


@bp.get("/initiatives/<int:initiative_id>/report")
@login_required
def initiative_report(initiative_id: int):
    """The validation report of an initiative (structure, fit, reliability, change)."""
    from surveyapp.reports import build_initiative_report

    initiative = _initiative_for_user(initiative_id)
    report = build_initiative_report(db.session, initiative, actor=current_user())
    db.session.commit()
    return Response(report.to_html(), mimetype="text/html")


@bp.get("/initiatives/<int:initiative_id>/report.json")
@login_required
def initiative_report_json(initiative_id: int):
    """The same report as JSON."""
    from surveyapp.reports import build_initiative_report

    initiative = _initiative_for_user(initiative_id)
    report = build_initiative_report(db.session, initiative, actor=current_user())
    db.session.commit()
    return jsonify(report.to_json())
