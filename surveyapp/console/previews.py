"""Preview a wave's questionnaire as residents see it, in each of its languages.

The preview renders the residents' own templates (``respond/*``) page by page: the
welcome and consent page (page 0), one page per section, then the page on which residents
check their answers (here with none). It is read-only: it starts no draft, writes no
answer, uses no invitation code, counts against no rate limit, sets no quality flag and
leaves the resident's language cookie alone. Its buttons are disabled and the route only
answers GET, so nothing can be sent from it.
"""

from __future__ import annotations

import secrets

from flask import abort, redirect, render_template, request, url_for
from flask_babel import force_locale
from markupsafe import Markup

from surveyapp.auth.views import current_user, login_required
from surveyapp.console import access
from surveyapp.console.blueprint import bp
from surveyapp.i18n import translations_dir
from surveyapp.i18n.instrument import translated_sections, translated_title
from surveyapp.instruments import Section, registry
from surveyapp.models import Wave, WaveMode
from surveyapp.respond import navigation, review, visits

#: The welcome page (language choice, privacy notice, consent) comes before page 1.
WELCOME_PAGE = 0


def preview_language(wave: Wave) -> str:
    """The language asked for with ``?language=`` if the wave offers it, else its first.

    Not ``?lang=``: that also switches the console's own language
    (:func:`surveyapp.i18n.select_locale`), and the banner should stay readable to the
    staff member whatever language is previewed.
    """
    offered = visits.offered_languages(wave)
    chosen = request.args.get("language")
    return chosen if chosen in offered else offered[0]


@bp.get("/waves/<int:wave_id>/preview", defaults={"page": WELCOME_PAGE})
@bp.get("/waves/<int:wave_id>/preview/<int:page>")
@login_required
def wave_preview(wave_id: int, page: int):
    """One page of the wave's questionnaire as residents see it, under a preview banner."""
    found, _membership = access.wave(wave_id)
    sections = registry.wave_sections(found)
    last = navigation.review_page(sections)
    if not WELCOME_PAGE <= page <= last:
        abort(404)
    if "lang" in request.args:
        # The welcome page's own language links (``?lang=``, as residents use them).
        chosen = request.args["lang"]
        return redirect(url_for(".wave_preview", wave_id=wave_id, page=page, language=chosen))
    language = preview_language(found)
    # The banner speaks the staff member's language; the page below, the previewed one.
    banner = Markup(
        render_template(
            "console/_preview_banner.html",
            user=current_user(),
            wave=found,
            page=page,
            pages=range(WELCOME_PAGE, last + 1),
            review=last,
            languages=visits.language_links(found),
            language=language,
        )
    )
    with force_locale(language):
        instrument = registry.wave_instrument(found)
        shared = shared_context(found, language, banner)
        if page == WELCOME_PAGE:
            return render_template(
                "respond/welcome.html",
                city=found.city,
                is_invitation=found.mode != WaveMode.OPEN_LINK,
                is_area_link=False,
                **shared,
            )
        shown = translated_sections(instrument, sections, language, translations_dir())
        if page == last:
            return review_preview(found, shown, page, language, shared)
        return question_page(sections, shown, page, shared)


def shared_context(wave: Wave, language: str, banner: Markup) -> dict:
    """What every previewed page needs besides its own content (inside ``force_locale``)."""
    instrument = registry.wave_instrument(wave)
    return {
        "preview": banner,
        "title": translated_title(instrument, language, translations_dir()),
        "wave": wave,
        "languages": visits.language_links(wave),
        "language": language,
        "key": secrets.token_urlsafe(24),
    }


def question_page(
    sections: tuple[Section, ...], shown: tuple[Section, ...], page: int, shared: dict
) -> str:
    """A section's page as residents see it before answering (``shared`` adds the banner,
    and for a pretest the comment boxes).

    No answers yet: every question of the page is shown, conditional ones with the hint
    residents see when a condition cannot be settled.
    """
    return render_template(
        "respond/page.html",
        section=shown[page - 1],
        items=list(shown[page - 1].items),
        values={},
        errors={},
        error_items=[],
        page=page,
        total=len(sections),
        is_last=navigation.step(sections, page, {}, 1) == navigation.COMPLETE,
        from_review=False,
        resume_url=None,
        **shared,
    )


def review_preview(
    wave: Wave, shown: tuple[Section, ...], page: int, language: str, shared: dict
) -> str:
    """The "check your answers" page residents reach after the last one, with no answers."""
    return render_template(
        "respond/review.html",
        sections=review.reviewed_sections(shown, {}),
        page=page,
        change_url=lambda target: url_for(
            ".wave_preview", wave_id=wave.id, page=target, language=language
        ),
        action_url=url_for(".wave_preview", wave_id=wave.id, page=page, language=language),
        **shared,
    )
