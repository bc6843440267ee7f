"""Console pages: home, areas and their margins, initiatives, the audit log, reports.

Thin handlers: look the object up through the user's memberships (:mod:`access`), let a
form (:mod:`forms`) check the input, call one service, commit once, render or redirect.
Changes need the admin or coordinator role (analysts read), the audit log needs admin.
Wave pages are in :mod:`wave_views`, dashboards and downloads in their own modules, the
change of an initiative's design in :mod:`design_views`; all register on the same blueprint.
"""

from __future__ import annotations

from flask import Response, abort, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from surveyapp import designs
from surveyapp.auth import services as auth_services
from surveyapp.auth.views import current_user, login_required
from surveyapp.console import (
    access,
    account,
    areas,
    audit_text,
    dashboards,
    design_views,
    downloads,
    initiatives,
    job_views,
    letter_template_views,
    paper_views,
    planner,
    pretest_views,
    previews,
    queries,
    reminder_views,
    rounds,
    team,
    wave_copies,
    wave_views,
)
from surveyapp.console.blueprint import bp, flash_errors, flash_ok, language_name, refuse
from surveyapp.console.errors import ConsoleError
from surveyapp.console.forms import AreaForm, InitiativeForm, MarginsForm, error_messages
from surveyapp.console.margin_codes import margin_codes, margin_labels
from surveyapp.console.team_forms import role_name
from surveyapp.extensions import db
from surveyapp.models import City, Initiative, Membership, PyramidLevel
from surveyapp.reports import build_initiative_report, report_page
from surveyapp.security import REPORT_CSP

__all__ = ["bp"]

#: The other modules with console pages: importing them registers their routes on ``bp``.
PAGE_MODULES = (
    wave_views,
    wave_copies,
    previews,
    job_views,
    pretest_views,
    reminder_views,
    dashboards,
    downloads,
    team,
    account,
    paper_views,
    design_views,
    letter_template_views,
)

#: How many audit events the audit page shows.
AUDIT_PAGE = 500


# --- Home -----------------------------------------------------------------------------------


@bp.get("/")
@login_required
def home():
    """The user's cities, each with its initiatives grouped by prevention pyramid level."""
    user = current_user()
    cities = [
        (membership, queries.city_initiatives(db.session, membership.city_id))
        for membership in queries.memberships(db.session, user)
    ]
    return render_template("console/home.html", user=user, cities=cities, levels=PyramidLevel)


# --- Areas ----------------------------------------------------------------------------------


@bp.route("/cities/<int:city_id>/areas", methods=["GET", "POST"], endpoint="areas")
@login_required
def areas_page(city_id: int):
    """A city's areas, with a form to add one."""
    if request.method == "POST":
        city, _m = access.city(city_id, access.WRITE)
        here = url_for(".areas", city_id=city_id)
        form = AreaForm(db.session, city)
        if not form.validate():
            return refuse(error_messages(form), here)
        areas.save_area(
            db.session, city, code=form.code.data, name=form.name.data, actor=current_user()
        )
        db.session.commit()
        flash_ok(_("Area added."))
        return redirect(here, code=303)
    city, membership = access.city(city_id)
    return render_template(
        "console/areas.html", user=current_user(), city=city, membership=membership
    )


@bp.route("/areas/<int:area_id>", methods=["GET", "POST"])
@login_required
def area(area_id: int):
    """One area: rename it, upload its population margins."""
    if request.method == "POST":
        found, _m = access.area(area_id, access.WRITE)
        here = url_for(".area", area_id=area_id)
        form = AreaForm(db.session, found.city, found)
        if not form.validate():
            return refuse(error_messages(form), here)
        areas.save_area(
            db.session,
            found.city,
            code=form.code.data,
            name=form.name.data,
            actor=current_user(),
            area=found,
        )
        db.session.commit()
        flash_ok(_("Area saved."))
        return redirect(here, code=303)
    found, membership = access.area(area_id)
    return render_template(
        "console/area.html",
        user=current_user(),
        area=found,
        membership=membership,
        problems=[],
        margin_names=margin_labels(db.session, str(get_locale())),
    )


@bp.post("/areas/<int:area_id>/margins")
@login_required
def area_margins(area_id: int):
    """Replace the area's age band x gender population counts from a CSV file."""
    found, membership = access.area(area_id, access.WRITE)
    form = MarginsForm(margin_codes(db.session, found))
    if not form.validate():
        return render_template(
            "console/area.html",
            user=current_user(),
            area=found,
            membership=membership,
            problems=form.problems,
            margin_names=margin_labels(db.session, str(get_locale())),
        ), 422
    areas.replace_margins(db.session, found, form.rows, actor=current_user())
    db.session.commit()
    flash_ok(_("Population margins saved: %(rows)s rows.", rows=len(form.rows)))
    return redirect(url_for(".area", area_id=area_id), code=303)


# --- Initiatives ----------------------------------------------------------------------------


@bp.route("/cities/<int:city_id>/initiatives/new", methods=["GET", "POST"])
@login_required
def initiative_new(city_id: int):
    """Register an initiative: pyramid level, theory of change, treated and comparison areas."""
    city, membership = access.city(city_id, access.WRITE)
    if request.method == "POST":
        form = InitiativeForm(db.session, city)
        if not form.validate():
            flash_errors(error_messages(form))
            return _initiative_page(city, membership, None, 422)
        initiative = initiatives.save_initiative(
            db.session, city, actor=current_user(), **form.values()
        )
        db.session.commit()
        return redirect(url_for(".initiative", initiative_id=initiative.id), code=303)
    return _initiative_page(city, membership, None, 200)


@bp.route("/initiatives/<int:initiative_id>/edit", methods=["GET", "POST"])
@login_required
def initiative_edit(initiative_id: int):
    """Change an initiative; once it has answers, not its design (see :mod:`design_views`)."""
    initiative, membership = access.initiative(initiative_id, access.WRITE)
    if request.method == "POST":
        form = InitiativeForm(db.session, initiative.city)
        if not form.validate():
            flash_errors(error_messages(form))
            return _initiative_page(initiative.city, membership, initiative, 422)
        try:
            initiatives.save_initiative(
                db.session,
                initiative.city,
                actor=current_user(),
                initiative=initiative,
                **form.values(),
            )
        except ConsoleError as error:  # the design of an initiative with answers
            db.session.rollback()
            flash_errors([error])
            return _initiative_page(initiative.city, membership, initiative, 409)
        db.session.commit()
        return redirect(url_for(".initiative", initiative_id=initiative.id), code=303)
    return _initiative_page(initiative.city, membership, initiative, 200)


def _initiative_page(
    city: City, membership: Membership, initiative: Initiative | None, status: int
):
    return render_template(
        "console/initiative_form.html",
        user=current_user(),
        city=city,
        membership=membership,
        initiative=initiative,
        locked=initiative is not None and initiatives.has_answers(db.session, initiative),
        form=request.form if request.method == "POST" else None,
        levels=PyramidLevel,
        constructs=list(planner.construct_labels(db.session).items()),
    ), status


@bp.get("/initiatives/<int:initiative_id>")
@login_required
def initiative(initiative_id: int):
    """An initiative with its areas and waves."""
    found, membership = access.initiative(initiative_id)
    summaries = queries.wave_summaries(db.session, found.waves)
    comparison = designs.comparison_areas(db.session, found)
    used_rounds = designs.initiative_rounds(db.session, found)
    # Answers per area in the design: the own waves' and, from rounds, its areas' answers.
    by_creation = sorted([*summaries, *used_rounds], key=lambda s: s.wave.id)
    return render_template(
        "console/initiative.html",
        user=current_user(),
        initiative=found,
        construct_names=planner.construct_labels(db.session, str(get_locale())),
        membership=membership,
        summaries=summaries,
        rounds=used_rounds,
        timing_names=rounds.timing_names(),
        own_timing={w.id: designs.timing(w, found.start_date) for w in found.waves},
        comparison=comparison,
        comparison_default=designs.comparison_is_default(found),
        design=planner.design_plan(
            db.session,
            found,
            by_creation,
            planner.construct_labels(db.session),
            comparison=len(comparison),
        ),
    )


# --- Audit log ------------------------------------------------------------------------------


@bp.get("/cities/<int:city_id>/audit")
@login_required
def audit_log(city_id: int):
    """Staff actions in the city, newest first (admins only)."""
    city, _m = access.city(city_id, access.ADMIN)
    events = queries.audit_events(db.session, city_id, AUDIT_PAGE)
    names = queries.audit_object_names(db.session, city_id, events)
    named = {
        "language": language_name,
        "languages": language_name,
        "role": role_name,
        "old": role_name,
        "new": role_name,
    }
    colleagues = db.session.scalars(
        select(Membership).where(Membership.city_id == city_id).order_by(Membership.id)
    ).all()
    return render_template(
        "console/audit.html",
        user=current_user(),
        city=city,
        events=[(event, audit_text.entry(event, names, named)) for event in events],
        colleagues=colleagues,
        construct_names=planner.construct_labels(db.session, str(get_locale())),
        field_labels=initiatives.FIELD_LABELS,
    )


@bp.post("/cities/<int:city_id>/members/<int:user_id>/end-sessions")
@login_required
def end_member_sessions(city_id: int, user_id: int):
    """An admin signs a colleague out on every device (a lost laptop, a departure)."""
    access.city(city_id, access.ADMIN)
    member = auth_services.colleague(db.session, current_user(), city_id, user_id)
    if member is None:
        abort(404)
    auth_services.end_sessions(db.session, member, actor=current_user(), city_id=city_id)
    db.session.commit()
    flash_ok(_("%(email)s is signed out on every device.", email=member.email))
    return redirect(url_for(".audit_log", city_id=city_id), code=303)


@bp.post("/cities/<int:city_id>/members/<int:user_id>/revoke-tokens")
@login_required
def revoke_member_tokens(city_id: int, user_id: int):
    """An admin revokes every API token of a colleague (a leaked script, a departure)."""
    from surveyapp.api import tokens as api_tokens

    access.city(city_id, access.ADMIN)
    member = auth_services.colleague(db.session, current_user(), city_id, user_id)
    if member is None:
        abort(404)
    count = api_tokens.revoke_all(db.session, member, actor=current_user())
    db.session.commit()
    flash_ok(_("API tokens of %(email)s revoked: %(count)s.", email=member.email, count=count))
    return redirect(url_for(".audit_log", city_id=city_id), code=303)


# --- Reports --------------------------------------------------------------------------------


@bp.get("/initiatives/<int:initiative_id>/report")
@login_required
def initiative_report(initiative_id: int):
    """The validation report of an initiative (structure, fit, reliability, change)."""
    initiative, _m = access.initiative(initiative_id)
    report = build_initiative_report(db.session, initiative, actor=current_user())
    db.session.commit()
    back = url_for("console.initiative", initiative_id=initiative.id)
    return Response(
        report_page(report, back_url=back),
        mimetype="text/html",
        headers={"Content-Security-Policy": REPORT_CSP},
    )


@bp.get("/initiatives/<int:initiative_id>/report.json")
@login_required
def initiative_report_json(initiative_id: int):
    """The same report as JSON."""
    initiative, _m = access.initiative(initiative_id)
    report = build_initiative_report(db.session, initiative, actor=current_user())
    db.session.commit()
    return jsonify(report.to_json())
