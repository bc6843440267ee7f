"""Wave pages: set a wave up, run its lifecycle, print letters and posters, watch fieldwork.

Thin handlers like :mod:`views`: access through memberships, forms check, one service
call from :mod:`waves` or :mod:`invitations`, one commit.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, abort, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from surveyapp import designs
from surveyapp.audit import record
from surveyapp.auth.views import current_user, login_required
from surveyapp.console import (
    access,
    area_links,
    letter_jobs,
    monitoring,
    panel_letters,
    planner,
    posters,
    waves,
)
from surveyapp.console.blueprint import bp, flash_errors, flash_ok, refuse
from surveyapp.console.errors import ConsoleError
from surveyapp.console.forms import WaveForm, error_messages
from surveyapp.console.translation_forms import OpenWaveForm
from surveyapp.draft_languages import draft_languages, review_states
from surveyapp.extensions import db
from surveyapp.i18n import catalogs, translations_dir
from surveyapp.instruments import Instrument
from surveyapp.models import (
    BatchStatus,
    City,
    Initiative,
    JobStatus,
    Membership,
    Role,
    Wave,
    WaveMode,
    WaveStatus,
)
from surveyapp.models import Instrument as InstrumentRow


def instrument_rows() -> list[InstrumentRow]:
    return list(db.session.scalars(select(InstrumentRow).order_by(InstrumentRow.loaded_at.desc())))


@bp.route("/initiatives/<int:initiative_id>/waves/new", methods=["GET", "POST"])
@login_required
def wave_new(initiative_id: int):
    """Set up a wave: questionnaire version, modules, languages, mode, dates, retention."""
    found, _m = access.initiative(initiative_id, access.WRITE)
    rows = instrument_rows()
    form = WaveForm(rows, translations_dir())
    if form.is_submitted():
        if not form.validate():
            flash_errors(error_messages(form))
            return wave_form_page(found, rows, 422)
        wave = waves.create_wave(
            db.session,
            found,
            translations=translations_dir(),
            actor=current_user(),
            **form.values(),
        )
        db.session.commit()
        return redirect(url_for(".wave", wave_id=wave.id), code=303)
    return wave_form_page(found, rows, 200)


def wave_form_page(
    initiative: Initiative | None,
    rows: list[InstrumentRow],
    status: int,
    city: City | None = None,
    *,
    prefill: MultiDict | None = None,
    copy_of: Wave | None = None,
):
    """The new-wave form of an initiative, or (``city``) of a city-wide round, with areas.

    ``prefill`` fills in a first view of the form (the settings of ``copy_of``, a wave
    copied for the next round); a posted form shows what was posted.
    """
    known = catalogs.languages(translations_dir())
    choices = []
    for row in rows:
        instrument = Instrument.from_definition(row.definition)
        core_complete = waves.complete_languages(instrument, [], known, translations_dir())
        choices.append(
            {
                "row": row,
                "modules": [m for m in instrument.modules if m.optional],
                "languages": [
                    (code, known[code].native, known[code].review) for code in core_complete
                ],
            }
        )
    # What the designs this wave will serve can show, before any letter goes out.
    served = [initiative] if initiative is not None else list(city.initiatives if city else [])
    labels = planner.construct_labels(db.session)
    plans = [(i, planner.initiative_plan(db.session, i, labels)) for i in served]
    return render_template(
        "console/wave_form.html",
        user=current_user(),
        initiative=initiative,
        city=city,
        plans=plans,
        choices=choices,
        modes=list(WaveMode),
        form=request.form if request.method == "POST" else prefill,
        copy_of=copy_of,
    ), status


@bp.get("/waves/<int:wave_id>")
@login_required
def wave(wave_id: int):
    """A wave: its settings, lifecycle buttons, invitation letters and links."""
    found, membership = access.wave(wave_id)
    return wave_page(found, membership)


def wave_page(found: Wave, membership: Membership, status: int = 200, **extra):
    """The wave page, with ``extra`` for its template (a refused upload's status, ...)."""
    base = current_app.config["BASE_URL"].rstrip("/")
    per_area = []
    if found.open_token and found.status != WaveStatus.DRAFT:
        per_area = area_links.area_links(db.session, found, base)
        db.session.commit()  # tokens made now must stay the same once printed
    ready = {
        row.batch.id
        for row in panel_letters.batches_of(db.session, found)
        if row.batch.status == BatchStatus.READY
    }
    html = render_template(
        "console/wave.html",
        user=current_user(),
        wave=found,
        membership=membership,
        can_write=membership.role in access.WRITE,
        open_link=f"{base}/w/{found.open_token}" if found.open_token else None,
        areas=designs.wave_areas(db.session, found),
        evaluates=designs.initiatives_for_wave(db.session, found),
        area_links=per_area,
        now=datetime.now(UTC),
        statuses=WaveStatus,
        batches=panel_letters.batches_of(db.session, found),
        pending_jobs=[
            job
            for job in letter_jobs.jobs_of(db.session, found)
            if job.status in (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.FAILED)
            or (job.status == JobStatus.DONE and job.batch_id in ready)
            or (job.kind == "reminders" and job.result_name is not None)
        ],
        max_letters=letter_jobs.MAX_JOB_LETTERS,
        to_follow=panel_letters.batches_to_follow(db.session, found),
        reviews=review_states(translations_dir()),
        drafts=draft_languages(found.languages or [], translations_dir()),
        **extra,
    )
    return html, status


@bp.post("/waves/<int:wave_id>/<any(open, close, archive, delete):action>")
@login_required
def wave_action(wave_id: int, action: str):
    """Open (or reopen, or schedule), close, archive or delete a wave."""
    found, _m = access.wave(wave_id, access.WRITE)
    here = url_for(".wave", wave_id=wave_id)
    initiative_id, city_id = found.initiative_id, found.city_id
    actor = current_user()
    try:
        if action == "open":  # also schedules (opening date ahead) and reopens
            opening = OpenWaveForm(found, translations_dir())
            if not opening.validate():
                return refuse(error_messages(opening), here)
            waves.open_wave(
                db.session,
                found,
                actor=actor,
                translations_dir=translations_dir(),
                acknowledged=opening.acknowledged(),
            )
        elif action == "close":
            waves.close_wave(db.session, found, actor=actor)
        elif action == "archive":
            waves.archive_wave(db.session, found, actor=actor)
        else:
            waves.delete_wave(db.session, found, actor=actor)
    except ConsoleError as error:
        return refuse([error], here)
    db.session.commit()
    if action == "delete":
        flash_ok(_("Wave deleted."))
        if initiative_id is None:
            return redirect(url_for(".city_rounds", city_id=city_id), code=303)
        return redirect(url_for(".initiative", initiative_id=initiative_id), code=303)
    return redirect(here, code=303)


def poster_languages(found: Wave) -> tuple[str, str | None]:
    """The poster's language and second language (``?language=fr&second=nl``); 404 for a
    language the wave does not offer."""
    language = request.args.get("language") or (found.languages or ["en"])[0]
    second = request.args.get("second") or None
    if language not in (found.languages or []) or second not in (None, *found.languages):
        abort(404)
    return language, second


@bp.get("/waves/<int:wave_id>/poster.pdf")
@login_required
def wave_poster(wave_id: int):
    """An A4 poster with the open link's QR code."""
    found, _m = access.wave(wave_id)
    language, second = poster_languages(found)
    try:
        pdf = posters.poster_pdf(
            found,
            language,
            current_app.config["BASE_URL"],
            translations_dir(),
            second_language=second,
        )
    except ConsoleError as error:
        return refuse([error], url_for(".wave", wave_id=wave_id))
    record(
        db.session,
        current_user(),
        found.city_id,
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


@bp.get("/waves/<int:wave_id>/areas/<int:area_id>/poster.pdf")
@login_required
def wave_area_poster(wave_id: int, area_id: int):
    """An A4 poster for one area: its name and its own open link's QR code."""
    found, _m = access.wave(wave_id)
    language, second = poster_languages(found)
    try:
        link = area_links.area_link(db.session, found, area_id, current_app.config["BASE_URL"])
        pdf = area_links.area_poster_pdf(
            found, link, language, translations_dir(), second_language=second
        )
    except ConsoleError as error:
        return refuse([error], url_for(".wave", wave_id=wave_id))
    record(
        db.session,
        current_user(),
        found.city_id,
        "poster_downloaded",
        "wave",
        found.id,
        language=language,
        area=link.area.code,
    )
    db.session.commit()
    name = f"wave-{found.id}-poster-{link.area.code}.pdf".replace('"', "")
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/waves/<int:wave_id>/monitor")
@login_required
def wave_monitor(wave_id: int):
    """Fieldwork at a glance: counts, completion, break-off, languages and areas."""
    found, membership = access.wave(wave_id)
    figures = monitoring.monitor(
        db.session, found, language=str(get_locale()), translations_dir=translations_dir()
    )
    targets = planner.area_targets(
        db.session,
        designs.initiatives_for_wave(db.session, found),
        planner.construct_labels(db.session),
    )
    return render_template(
        "console/monitor.html",
        user=current_user(),
        wave=found,
        figures=figures,
        targets=targets,
        target_rows=monitoring.fieldwork_targets(db.session, found, targets.needed),
        exact=membership.role == Role.ADMIN,
        masked=monitoring.masked,
        rate_text=monitoring.rate_text,
        bar_chart=monitoring.bar_chart,
        reviews=review_states(translations_dir()),
        drafts=draft_languages((row.label for row in figures.by_language), translations_dir()),
    )
