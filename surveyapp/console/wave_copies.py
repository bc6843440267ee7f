"""Copy a wave for the next round: the new-wave form, filled in with the wave's settings.

The same questionnaire version, modules, languages, mode, panel flag, retention and (for a
city-wide round) areas, so that the next round measures the same way. Name and dates are
for the staff member to set; responses, codes and letters stay with the copied wave. The
copy is made by :func:`waves.create_wave`, as any new wave, and starts as a draft.
"""

from __future__ import annotations

from flask import redirect, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from surveyapp.auth.views import current_user, login_required
from surveyapp.console import access, rounds, waves
from surveyapp.console.blueprint import bp, flash_errors, flash_ok
from surveyapp.console.forms import WaveForm, error_messages
from surveyapp.console.wave_views import instrument_rows, wave_form_page
from surveyapp.extensions import db
from surveyapp.i18n import translations_dir
from surveyapp.models import Wave


def copied_settings(wave: Wave) -> MultiDict:
    """The new-wave form's fields as ``wave`` was set up; name suggested, dates empty."""
    fields: list[tuple[str, str]] = [
        # I18N: the suggested name of a wave copied for the next round.
        ("name", _("%(name)s (copy)", name=wave.name)[: waves.MAX_NAME]),
        ("instrument", str(wave.instrument_id)),
        ("mode", wave.mode),
        ("retention_days", str(wave.retention_days)),
    ]
    fields += [("modules", module) for module in wave.modules or []]
    fields += [("languages", language) for language in wave.languages or []]
    fields += [("areas", str(link.area_id)) for link in wave.area_links]
    if wave.is_panel:
        fields.append(("is_panel", "y"))
    return MultiDict(fields)


@bp.route("/waves/<int:wave_id>/copy", methods=["GET", "POST"])
@login_required
def wave_copy(wave_id: int):
    """Copy for the next round: check the copied settings, name the wave, create a draft."""
    source, _m = access.wave(wave_id, access.WRITE)
    initiative = source.initiative
    city = source.city if initiative is None else None
    rows = instrument_rows()
    form = WaveForm(rows, translations_dir())
    if not form.is_submitted():
        return wave_form_page(
            initiative, rows, 200, city=city, prefill=copied_settings(source), copy_of=source
        )
    chosen, problem = rounds.chosen_areas(source.city) if city is not None else ([], None)
    if not form.validate() or problem:
        flash_errors(error_messages(form) + ([problem] if problem else []))
        return wave_form_page(initiative, rows, 422, city=city, copy_of=source)
    copy = waves.copy_wave(
        db.session,
        source,
        translations=translations_dir(),
        actor=current_user(),
        areas=chosen,
        **form.values(),
    )
    db.session.commit()
    flash_ok(_("Wave copied as a draft. Set its dates before opening it."))
    return redirect(url_for(".wave", wave_id=copy.id), code=303)
