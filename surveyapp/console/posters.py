"""A4 posters with an open link's QR code: the wave's, or one area's, in one or two languages.

A poster is one page (:mod:`surveyapp.console.page_fit`): the page is laid out, and if the
words of a language or a long city or area name push it onto a second page, laid out again
with tighter type.
"""

from __future__ import annotations

from pathlib import Path

from flask import render_template
from flask_babel import force_locale
from markupsafe import Markup

from surveyapp.console.errors import ConsoleError
from surveyapp.console.invitations import NO_OPEN_LINK, direction_of, letter_languages, qr_svg
from surveyapp.console.letter_templates import design_of
from surveyapp.console.page_fit import fitting_density
from surveyapp.i18n.instrument import translated_title
from surveyapp.instruments.paper import layout
from surveyapp.instruments.registry import wave_instrument
from surveyapp.models import Area, Wave, WaveMode


def poster_pdf(
    wave: Wave,
    language: str,
    base_url: str,
    translations: Path,
    *,
    second_language: str | None = None,
) -> bytes:
    """An A4 poster with the wave's open link as a QR code."""
    if wave.mode == WaveMode.INVITATION or not wave.open_token:
        raise ConsoleError(NO_OPEN_LINK)
    url = f"{base_url.rstrip('/')}/w/{wave.open_token}"
    return one_page_poster(wave, url, language, translations, second_language=second_language)


def one_page_poster(
    wave: Wave,
    url: str,
    language: str,
    translations: Path,
    *,
    area: Area | None = None,
    second_language: str | None = None,
) -> bytes:
    """The poster of ``url`` (an ``area``'s link, or the wave's) as a one-page PDF."""

    def page(density: str) -> str:
        return poster_html(
            wave, url, language, translations, area, second_language, density=density
        )

    return layout(page(fitting_density(page))).write_pdf()


def poster_html(
    wave: Wave,
    url: str,
    language: str,
    translations: Path,
    area: Area | None,
    second_language: str | None,
    *,
    density: str = "normal",
) -> str:
    """The poster page: the city's logo, then each language's words around one QR code."""
    instrument = wave_instrument(wave)
    languages = []
    for code in letter_languages(language, second_language):
        with force_locale(code):
            words = {
                part: Markup(
                    render_template("console/poster_text.html", part=part, wave=wave, area=area)
                )
                for part in ("area", "lead", "scan", "foot")
            }
        languages.append(
            {
                "code": code,
                "direction": direction_of(code),
                "title": translated_title(instrument, code, translations),
                **words,
            }
        )
    with force_locale(language):
        return render_template(
            "console/poster.html",
            city=wave.city,
            area=area,
            design=design_of(wave.city),
            languages=languages,
            url=url,
            qr=qr_svg(url),
            density=density,
        )
