"""The city's letter template page (admins and coordinators): sender, logo, signature and
the city's own paragraph per language, printed on every letter and poster of the city."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _

from surveyapp.auth.views import current_user, login_required
from surveyapp.console import access
from surveyapp.console import letter_templates as templates
from surveyapp.console.blueprint import bp, flash_ok
from surveyapp.console.invitations import direction_of
from surveyapp.console.letter_template_forms import LetterTemplateForm, letter_template_form
from surveyapp.extensions import db
from surveyapp.models import City

ENDPOINT = "console.letter_template"


@bp.url_value_preprocessor
def allow_logo_upload(endpoint: str | None, _values: dict | None) -> None:
    """Let this page's upload (a logo) be larger than the app's 64 KB, before any hook reads
    the body (as :func:`surveyapp.console.reminder_views.allow_large_upload` explains)."""
    if endpoint == ENDPOINT:
        request.max_content_length = templates.MAX_LOGO_BYTES + 64 * 1024


@bp.route("/cities/<int:city_id>/letter-template", methods=["GET", "POST"])
@login_required
def letter_template(city_id: int):
    """Show the city's letter template; save a changed one."""
    city, _m = access.city(city_id, access.WRITE)
    stored = templates.template_of(db.session, city.id)
    if request.method == "POST":
        form = letter_template_form(city)
        if not form.validate():
            db.session.rollback()
            return template_page(city, form, 422)
        templates.save_template(db.session, city, actor=current_user(), **form.values())
        db.session.commit()
        flash_ok(_("Letter template saved."))
        return redirect(url_for(".letter_template", city_id=city_id), code=303)
    return template_page(city, letter_template_form(city, stored), 200)


def template_page(city: City, form: LetterTemplateForm, status: int):
    """The form with what is stored (the logo as shown on letters) and the limits."""
    return render_template(
        "console/letter_template.html",
        user=current_user(),
        city=city,
        form=form,
        design=templates.design_of(city),
        directions={code: direction_of(code) for code in city.languages},
        max_paragraph=templates.MAX_PARAGRAPH,
        max_lines=templates.MAX_ADDRESS_LINES,
        max_line=templates.MAX_LINE,
        max_logo_kb=templates.MAX_LOGO_BYTES >> 10,
    ), status
