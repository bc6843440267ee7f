"""Console pages. Every view reads only the signed-in user's cities.

Objects are looked up joined with the user's memberships: another city's area, initiative
or wave is a 404, never a page. Changes need the admin or coordinator role (analysts
read), the audit log needs admin.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from surveyapp.auth.views import current_user, login_required
from surveyapp.console import invitations as invites
from surveyapp.console import manage, monitoring, services
from surveyapp.console.waves import WaveError, close_wave, open_wave
from surveyapp.extensions import db
from surveyapp.i18n import catalogs
from surveyapp.instruments import Instrument
from surveyapp.models import (
    Area,
    AuditEvent,
    City,
    Initiative,
    Membership,
    PyramidLevel,
    Role,
    Wave,
    WaveMode,
    WaveStatus,
)
from surveyapp.models import (
    Instrument as InstrumentRow,
)

bp = Blueprint("console", __name__, url_prefix="/staff")

WRITE = (Role.ADMIN, Role.COORDINATOR)


@bp.context_processor
def _names() -> dict:
    """Translated names of pyramid levels and wave statuses for the templates."""
    return {
        "pyramid_names": {
            PyramidLevel.SOCIETAL_CONTEXT: _("Societal context"),
            PyramidLevel.QUALITY_OF_LIFE: _("Quality of life"),
            PyramidLevel.GENERAL_PREVENTION: _("General prevention"),
            PyramidLevel.SPECIFIC_PREVENTION: _("Specific prevention"),
            PyramidLevel.REACTION: _("Reaction"),
        },
        "status_names": {
            WaveStatus.DRAFT: _("draft"),
            WaveStatus.OPEN: _("open"),
            WaveStatus.CLOSED: _("closed"),
            WaveStatus.ARCHIVED: _("archived"),
        },
    }


# --- Access ---------------------------------------------------------------------------------


def _membership(city_id: int, roles: tuple[str, ...] | None = None) -> Membership:
    """The user's membership of ``city_id``: 404 if none, 403 if the role may not act."""
    membership = db.session.scalar(
        select(Membership).where(
            Membership.city_id == city_id, Membership.user_id == current_user().id
        )
    )
    if membership is None:
        abort(404)
    if roles is not None and membership.role not in roles:
        abort(403)
    return membership


def _city(city_id: int, roles: tuple[str, ...] | None = None) -> tuple[City, Membership]:
    membership = _membership(city_id, roles)
    return membership.city, membership


def _area(area_id: int, roles: tuple[str, ...] | None = None) -> tuple[Area, Membership]:
    area = db.session.get(Area, area_id)
    if area is None:
        abort(404)
    return area, _membership(area.city_id, roles)


def _initiative_for_user(initiative_id: int, roles: tuple[str, ...] | None = None) -> Initiative:
    """The initiative if the signed-in user is a member of its city; 404 otherwise."""
    initiative = db.session.get(Initiative, initiative_id)
    if initiative is None:
        abort(404)
    _membership(initiative.city_id, roles)
    return initiative


def _wave(wave_id: int, roles: tuple[str, ...] | None = None) -> tuple[Wave, Membership]:
    wave = db.session.get(Wave, wave_id)
    if wave is None:
        abort(404)
    return wave, _membership(wave.initiative.city_id, roles)


def _translations() -> Path:
    return Path(current_app.config["BABEL_TRANSLATION_DIRECTORIES"])


def _fail(error: Exception, redirect_to: str):
    db.session.rollback()
    flash(str(error), "error")
    return redirect(redirect_to, code=303)


# --- Home -----------------------------------------------------------------------------------


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


# --- Areas ----------------------------------------------------------------------------------


@bp.route("/cities/<int:city_id>/areas", methods=["GET", "POST"])
@login_required
def areas(city_id: int):
    """A city's areas, with a form to add one."""
    if request.method == "POST":
        city, _m = _city(city_id, WRITE)
        try:
            manage.save_area(
                db.session,
                city,
                code=request.form.get("code", ""),
                name=request.form.get("name", ""),
                actor=current_user(),
            )
        except manage.ConsoleError as error:
            return _fail(error, url_for(".areas", city_id=city_id))
        db.session.commit()
        flash(_("Area added."), "ok")
        return redirect(url_for(".areas", city_id=city_id), code=303)
    city, membership = _city(city_id)
    return render_template(
        "console/areas.html", user=current_user(), city=city, membership=membership
    )


@bp.route("/areas/<int:area_id>", methods=["GET", "POST"])
@login_required
def area(area_id: int):
    """One area: rename it, upload its population margins."""
    if request.method == "POST":
        found, _m = _area(area_id, WRITE)
        try:
            manage.save_area(
                db.session,
                found.city,
                code=request.form.get("code", ""),
                name=request.form.get("name", ""),
                actor=current_user(),
                area=found,
            )
        except manage.ConsoleError as error:
            return _fail(error, url_for(".area", area_id=area_id))
        db.session.commit()
        flash(_("Area saved."), "ok")
        return redirect(url_for(".area", area_id=area_id), code=303)
    found, membership = _area(area_id)
    return render_template(
        "console/area.html", user=current_user(), area=found, membership=membership, problems=[]
    )


@bp.post("/areas/<int:area_id>/margins")
@login_required
def area_margins(area_id: int):
    """Replace the area's age band x gender population counts from a CSV file."""
    found, membership = _area(area_id, WRITE)
    upload = request.files.get("file")
    data = upload.read() if upload else b""
    rows, problems = manage.parse_margins(data)
    if problems:
        return render_template(
            "console/area.html",
            user=current_user(),
            area=found,
            membership=membership,
            problems=problems,
        ), 422
    manage.replace_margins(db.session, found, rows, actor=current_user())
    db.session.commit()
    flash(_("Population margins saved: %(rows)s rows.", rows=len(rows)), "ok")
    return redirect(url_for(".area", area_id=area_id), code=303)


# --- Initiatives ----------------------------------------------------------------------------


def _initiative_form(city: City, initiative: Initiative | None):
    form = request.form
    try:
        start = date.fromisoformat(form["start_date"]) if form.get("start_date") else None
        level = int(form.get("pyramid_level", ""))
        treated = [int(v) for v in form.getlist("treated")]
        comparison = [int(v) for v in form.getlist("comparison")]
    except ValueError:
        raise manage.ConsoleError(_("Some fields are not filled in correctly.")) from None
    return manage.save_initiative(
        db.session,
        city,
        name=form.get("name", ""),
        description=form.get("description", ""),
        pyramid_level=level,
        target_constructs=form.getlist("constructs"),
        treated=treated,
        comparison=comparison,
        start_date=start,
        actor=current_user(),
        initiative=initiative,
    )


def _constructs() -> list[tuple[str, str]]:
    row = _latest_instrument()
    if row is None:
        return []
    return [(c.id, c.label) for c in Instrument.from_definition(row.definition).constructs]


def _latest_instrument() -> InstrumentRow | None:
    return db.session.scalar(select(InstrumentRow).order_by(InstrumentRow.loaded_at.desc()))


@bp.route("/cities/<int:city_id>/initiatives/new", methods=["GET", "POST"])
@login_required
def initiative_new(city_id: int):
    """Register an initiative: pyramid level, theory of change, treated and comparison areas."""
    city, membership = _city(city_id, WRITE)
    if request.method == "POST":
        try:
            initiative = _initiative_form(city, None)
        except manage.ConsoleError as error:
            db.session.rollback()
            flash(str(error), "error")
            return _initiative_page(city, membership, None, 422)
        db.session.commit()
        return redirect(url_for(".initiative", initiative_id=initiative.id), code=303)
    return _initiative_page(city, membership, None, 200)


@bp.route("/initiatives/<int:initiative_id>/edit", methods=["GET", "POST"])
@login_required
def initiative_edit(initiative_id: int):
    """Change an initiative."""
    initiative = _initiative_for_user(initiative_id, WRITE)
    membership = _membership(initiative.city_id)
    if request.method == "POST":
        try:
            _initiative_form(initiative.city, initiative)
        except manage.ConsoleError as error:
            db.session.rollback()
            flash(str(error), "error")
            return _initiative_page(initiative.city, membership, initiative, 422)
        db.session.commit()
        return redirect(url_for(".initiative", initiative_id=initiative.id), code=303)
    return _initiative_page(initiative.city, membership, initiative, 200)


def _initiative_page(city, membership, initiative, status):
    return render_template(
        "console/initiative_form.html",
        user=current_user(),
        city=city,
        membership=membership,
        initiative=initiative,
        form=request.form if request.method == "POST" else None,
        levels=PyramidLevel,
        constructs=_constructs(),
    ), status


@bp.get("/initiatives/<int:initiative_id>")
@login_required
def initiative(initiative_id: int):
    """An initiative with its areas and waves."""
    found = _initiative_for_user(initiative_id)
    return render_template(
        "console/initiative.html",
        user=current_user(),
        initiative=found,
        membership=_membership(found.city_id),
        summaries=services.wave_summaries(db.session, found.waves),
    )


# --- Waves ----------------------------------------------------------------------------------


def _parse_day(value: str | None, end: bool = False) -> datetime | None:
    if not value:
        return None
    day = date.fromisoformat(value)
    return datetime.combine(day, time.max if end else time.min, tzinfo=UTC)


@bp.route("/initiatives/<int:initiative_id>/waves/new", methods=["GET", "POST"])
@login_required
def wave_new(initiative_id: int):
    """Set up a wave: questionnaire version, modules, languages, mode, dates, retention."""
    found = _initiative_for_user(initiative_id, WRITE)
    rows = db.session.scalars(select(InstrumentRow).order_by(InstrumentRow.loaded_at.desc())).all()
    if request.method == "POST":
        form = request.form
        row = next((r for r in rows if str(r.id) == form.get("instrument")), None)
        try:
            if row is None:
                raise manage.ConsoleError(_("Choose a questionnaire version."))
            wave = manage.create_wave(
                db.session,
                found,
                instrument_row=row,
                name=form.get("name", ""),
                modules=form.getlist("modules"),
                languages=form.getlist("languages"),
                mode=form.get("mode", ""),
                opens_at=_parse_day(form.get("opens_at")),
                closes_at=_parse_day(form.get("closes_at"), end=True),
                is_panel=form.get("is_panel") == "on",
                retention_days=int(form.get("retention_days") or 0),
                translations=_translations(),
                actor=current_user(),
            )
        except (manage.ConsoleError, ValueError) as error:
            db.session.rollback()
            message = str(error) if isinstance(error, manage.ConsoleError) else None
            flash(message or _("Some fields are not filled in correctly."), "error")
            return _wave_form(found, rows, 422)
        db.session.commit()
        return redirect(url_for(".wave", wave_id=wave.id), code=303)
    return _wave_form(found, rows, 200)


def _wave_form(initiative: Initiative, rows, status: int):
    known = catalogs.languages(_translations())
    choices = []
    for row in rows:
        instrument = Instrument.from_definition(row.definition)
        core_complete = manage.complete_languages(instrument, [], known, _translations())
        choices.append(
            {
                "row": row,
                "modules": [m for m in instrument.modules if m.optional],
                "languages": [(code, known[code].native) for code in core_complete],
            }
        )
    return render_template(
        "console/wave_form.html",
        user=current_user(),
        initiative=initiative,
        choices=choices,
        modes=list(WaveMode),
        form=request.form if request.method == "POST" else None,
    ), status


@bp.get("/waves/<int:wave_id>")
@login_required
def wave(wave_id: int):
    """A wave: its settings, lifecycle buttons, invitation letters and links."""
    found, membership = _wave(wave_id)
    base = current_app.config["BASE_URL"].rstrip("/")
    return render_template(
        "console/wave.html",
        user=current_user(),
        wave=found,
        membership=membership,
        can_write=membership.role in WRITE,
        open_link=f"{base}/w/{found.open_token}" if found.open_token else None,
        areas=found.initiative.areas_with_role("treated")
        + found.initiative.areas_with_role("comparison"),
        now=datetime.now(UTC),
        statuses=WaveStatus,
    )


@bp.post("/waves/<int:wave_id>/<any(open, close, archive, delete):action>")
@login_required
def wave_action(wave_id: int, action: str):
    """Open (or reopen, or schedule), close, archive or delete a wave."""
    found, _m = _wave(wave_id, WRITE)
    here = url_for(".wave", wave_id=wave_id)
    try:
        if action == "open":
            open_wave(db.session, found, actor=current_user(), translations_dir=_translations())
        elif action == "close":
            close_wave(db.session, found, actor=current_user())
        elif action == "archive":
            manage.archive_wave(db.session, found, actor=current_user())
        else:
            initiative_id = found.initiative_id
            manage.delete_wave(db.session, found, actor=current_user())
            db.session.commit()
            flash(_("Wave deleted."), "ok")
            return redirect(url_for(".initiative", initiative_id=initiative_id), code=303)
    except (WaveError, manage.ConsoleError) as error:
        return _fail(error, here)
    db.session.commit()
    return redirect(here, code=303)


@bp.post("/waves/<int:wave_id>/invitations")
@login_required
def wave_invitations(wave_id: int):
    """Generate codes per area and download letters (PDF) and a mail-merge CSV, as a ZIP."""
    found, _m = _wave(wave_id, WRITE)
    language = request.form.get("language", "")
    if language not in (found.languages or []):
        return _fail(
            manage.ConsoleError(_("Choose a language of the wave.")),
            url_for(".wave", wave_id=wave_id),
        )
    counts = {}
    try:
        for key, value in request.form.items():
            if key.startswith("area-") and value.strip():
                counts[int(key.removeprefix("area-"))] = int(value)
        made = invites.generate(
            db.session,
            found,
            counts,
            base_url=current_app.config["BASE_URL"],
            actor=current_user(),
        )
    except ValueError as error:
        message = str(error) if isinstance(error, manage.ConsoleError) else None
        return _fail(
            manage.ConsoleError(message or _("Enter whole numbers of codes.")),
            url_for(".wave", wave_id=wave_id),
        )
    archive = invites.letters_zip(found, made, language, _translations())
    manage.audit(
        db.session,
        current_user(),
        found.initiative.city_id,
        "letters_downloaded",
        "wave",
        found.id,
        letters=len(made),
        language=language,
    )
    db.session.commit()
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Response(
        archive,
        mimetype="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="wave-{found.id}-letters-{stamp}.zip"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/waves/<int:wave_id>/poster.pdf")
@login_required
def wave_poster(wave_id: int):
    """An A4 poster with the open link's QR code."""
    found, _m = _wave(wave_id)
    language = request.args.get("language") or (found.languages or ["en"])[0]
    if language not in (found.languages or []):
        abort(404)
    try:
        pdf = invites.poster_pdf(found, language, current_app.config["BASE_URL"], _translations())
    except manage.ConsoleError as error:
        return _fail(error, url_for(".wave", wave_id=wave_id))
    manage.audit(
        db.session,
        current_user(),
        found.initiative.city_id,
        "poster_downloaded",
        "wave",
        found.id,
        language=language,
    )
    db.session.commit()
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="wave-{found.id}-poster.pdf"'},
    )


@bp.get("/waves/<int:wave_id>/monitor")
@login_required
def wave_monitor(wave_id: int):
    """Fieldwork at a glance: counts, completion, break-off, languages and areas."""
    found, membership = _wave(wave_id)
    exact = membership.role == Role.ADMIN
    figures = monitoring.monitor(
        db.session,
        found,
        language=str(get_locale()),
        translations_dir=Path(current_app.config["BABEL_TRANSLATION_DIRECTORIES"]),
    )
    return render_template(
        "console/monitor.html",
        user=current_user(),
        wave=found,
        figures=figures,
        exact=exact,
        masked=monitoring.masked,
        rate_text=monitoring.rate_text,
        bar_chart=monitoring.bar_chart,
    )


# --- Audit log ------------------------------------------------------------------------------


@bp.get("/cities/<int:city_id>/audit")
@login_required
def audit_log(city_id: int):
    """Staff actions in the city, newest first (admins only)."""
    city, _m = _city(city_id, (Role.ADMIN,))
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.city_id == city_id)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(500)
    ).all()
    return render_template("console/audit.html", user=current_user(), city=city, events=events)


# --- Reports --------------------------------------------------------------------------------


@bp.get("/initiatives/<int:initiative_id>/report")
@login_required
def initiative_report(initiative_id: int):
    """The validation report of an initiative (structure, fit, reliability, change)."""
    from surveyapp.reports import build_initiative_report, report_page
    from surveyapp.security import REPORT_CSP

    initiative = _initiative_for_user(initiative_id)
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
    from surveyapp.reports import build_initiative_report

    initiative = _initiative_for_user(initiative_id)
    report = build_initiative_report(db.session, initiative, actor=current_user())
    db.session.commit()
    return jsonify(report.to_json())


# Dashboards and downloads register their routes on ``bp``; imported last, when ``bp`` exists.
from surveyapp.console import dashboards, downloads  # noqa: E402,F401
