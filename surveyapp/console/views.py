"""Console pages. Every view reads only the signed-in user's cities."""

from __future__ import annotations

from flask import Blueprint, render_template

from surveyapp.auth.views import current_user, login_required
from surveyapp.console import services
from surveyapp.extensions import db
from surveyapp.models import PyramidLevel

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
