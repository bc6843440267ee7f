"""Pretest pages: a wave's questionnaire with a comment box under each question.

Built on the preview (:mod:`previews`): the residents' own page, read-only, in the language
asked for with ``?language=``. The comment boxes and their Save button belong to a form of
their own (HTML's ``form`` attribute), so nothing of the residents' form is ever sent; the
comments go to :mod:`pretest`, never to responses. Coordinators and admins pretest; every
member of the city may read and download the comments.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, abort, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup

from surveyapp.auth.views import current_user, login_required
from surveyapp.console import access, pretest
from surveyapp.console.blueprint import bp, flash_ok, refuse
from surveyapp.console.previews import preview_language, question_page, shared_context
from surveyapp.console.translation_forms import too_long_message, typed_comments
from surveyapp.extensions import db
from surveyapp.i18n import translations_dir
from surveyapp.i18n.instrument import translated_sections
from surveyapp.instruments import Section, registry
from surveyapp.models import Wave
from surveyapp.respond import navigation, visits


def _pages(wave: Wave, page: int) -> tuple[Section, ...]:
    """The wave's sections; 404 unless ``page`` is one of them (pretests have no welcome or
    review page: only questions get comments)."""
    sections = registry.wave_sections(wave)
    if not 1 <= page < navigation.review_page(sections):
        abort(404)
    return sections


@bp.route("/waves/<int:wave_id>/pretest", defaults={"page": 1}, methods=["GET", "POST"])
@bp.route("/waves/<int:wave_id>/pretest/<int:page>", methods=["GET", "POST"])
@login_required
def wave_pretest(wave_id: int, page: int):
    """One page of the questionnaire with a comment box under each question."""
    found, _m = access.wave(wave_id, access.WRITE)
    sections = _pages(found, page)
    language = preview_language(found)
    here = url_for(".wave_pretest", wave_id=wave_id, page=page, language=language)
    with force_locale(language):
        shown = translated_sections(
            registry.wave_instrument(found), sections, language, translations_dir()
        )
    if request.method == "POST":
        items = shown[page - 1].items
        comments, too_long = typed_comments(request.form, [item.id for item in items])
        if too_long:
            return refuse([too_long_message(too_long)], here)
        added = pretest.add_comments(
            db.session,
            found,
            language,
            source=sections[page - 1],
            shown=shown[page - 1],
            comments=comments,
            actor=current_user(),
        )
        db.session.commit()
        flash_ok(_("Comments saved: %(count)s.", count=len(added)))
        return redirect(here, code=303)
    return _pretest_page(found, sections, shown, page, language)


def _pretest_page(
    wave: Wave, sections: tuple[Section, ...], shown: tuple[Section, ...], page: int, language: str
) -> str:
    """The page: the preview's banner and question page, with the boxes and their form."""
    last = navigation.review_page(sections)
    # Rendered before switching to the questionnaire's language: the boxes and the
    # banner speak the staff member's.
    banner = Markup(
        render_template(
            "console/_preview_banner.html",
            user=current_user(),
            wave=wave,
            page=page,
            pages=range(1, last),
            review=last,
            languages=visits.language_links(wave),
            language=language,
            endpoint="console.wave_pretest",
            pretest=True,
        )
    )
    boxes = {
        item.id: Markup(
            render_template("console/_pretest_box.html", item=item, max_length=pretest.MAX_COMMENT)
        )
        for item in shown[page - 1].items
    }
    form = Markup(
        render_template("console/_pretest_form.html", wave=wave, page=page, language=language)
    )
    with force_locale(language):
        shared = shared_context(wave, language, banner)
        return question_page(
            sections, shown, page, shared | {"pretest_boxes": boxes, "pretest_form": form}
        )


@bp.get("/waves/<int:wave_id>/pretest-comments")
@login_required
def wave_pretest_comments(wave_id: int):
    """The pretest comments on the wave's questionnaire in one of its languages."""
    found, membership = access.wave(wave_id)
    language = preview_language(found)
    rows = pretest.pretest_comments(db.session, language, wave_id=found.id)
    return render_template(
        "console/pretest_comments.html",
        user=current_user(),
        wave=found,
        language=language,
        languages=visits.language_links(found),
        rows=rows,
        can_write=membership.role in access.WRITE,
    )


@bp.get("/waves/<int:wave_id>/pretest-comments.csv")
@login_required
def wave_pretest_comments_csv(wave_id: int):
    """The same comments as a CSV file for the translator's review sheet."""
    found, _m = access.wave(wave_id)
    language = preview_language(found)
    rows = pretest.pretest_comments(db.session, language, wave_id=found.id)
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    name = f"wave-{found.id}-pretest-{language}-{stamp}.csv"
    return Response(
        pretest.comments_csv(rows),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
