"""City-wide rounds in the console: a city's list of rounds, a new round, and what the
initiative page shows of them (which rounds evaluate it, before or after, and its
comparison areas). Which round evaluates which initiative is :mod:`surveyapp.designs`'."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _

from surveyapp import designs
from surveyapp.auth.views import current_user, login_required
from surveyapp.console import access, queries, waves
from surveyapp.console.blueprint import bp, flash_errors
from surveyapp.console.forms import WaveForm, error_messages
from surveyapp.console.wave_views import instrument_rows, wave_form_page
from surveyapp.extensions import db
from surveyapp.i18n import translations_dir
from surveyapp.models import Area, City


def timing_names() -> dict[str, str]:
    """Translated words for :func:`surveyapp.designs.timing`."""
    return {
        designs.BEFORE: _("before the start"),
        designs.AFTER: _("after the start"),
        designs.SPANNING: _("spans the start date (neither before nor after)"),
        designs.UNDATED: _("no dates to compare (neither before nor after)"),
    }


@bp.get("/cities/<int:city_id>/rounds")
@login_required
def city_rounds(city_id: int):
    """The city's city-wide rounds, the areas each covers and the initiatives it evaluates."""
    city, membership = access.city(city_id)
    rounds = designs.citywide_waves(db.session, city.id)
    return render_template(
        "console/rounds.html",
        user=current_user(),
        city=city,
        membership=membership,
        summaries=queries.wave_summaries(db.session, rounds),
        covered={w.id: designs.wave_areas(db.session, w) for w in rounds},
        evaluates={w.id: designs.initiatives_for_wave(db.session, w) for w in rounds},
        area_count=len(city.areas),
    )


@bp.route("/cities/<int:city_id>/rounds/new", methods=["GET", "POST"])
@login_required
def city_round_new(city_id: int):
    """Set up a city-wide round over all or chosen areas (otherwise as a new wave)."""
    city, _m = access.city(city_id, access.WRITE)
    rows = instrument_rows()
    form = WaveForm(rows, translations_dir())
    if form.is_submitted():
        chosen, problem = chosen_areas(city)
        if not form.validate() or problem:
            flash_errors(error_messages(form) + ([problem] if problem else []))
            return wave_form_page(None, rows, 422, city=city)
        wave = waves.create_wave(
            db.session,
            None,
            city=city,
            areas=chosen,
            translations=translations_dir(),
            actor=current_user(),
            **form.values(),
        )
        db.session.commit()
        return redirect(url_for(".wave", wave_id=wave.id), code=303)
    return wave_form_page(None, rows, 200, city=city)


def chosen_areas(city: City) -> tuple[list[Area], str | None]:
    """The areas ticked on the form (none: the round covers every area)."""
    by_id = {str(area.id): area for area in city.areas}
    picked = request.form.getlist("areas")
    unknown = [value for value in picked if value not in by_id]
    if unknown:
        return [], _("Choose areas of %(city)s only.", city=city.name)
    return [by_id[value] for value in picked], None
