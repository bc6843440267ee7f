"""The printable questionnaire: HTML per language, laid out as an A4 PDF by WeasyPrint.

Rendering a PDF takes a few seconds, so each one is made once per module and shared.
Expected texts come from the translation layer itself: catalogs are still being filled,
and an untranslated text is printed in English.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest
from pypdf import PdfReader

from surveyapp.i18n.catalogs import Language, languages
from surveyapp.i18n.instrument import translated_sections
from surveyapp.instruments import Instrument, load_instrument
from surveyapp.instruments.paper import layout, render_paper_html, render_paper_pdf

ROOT = Path(__file__).parents[2]
CORE = ROOT / "instruments" / "social-cohesion-safety" / "1.0.0.yaml"
TRANSLATIONS = ROOT / "translations"


@pytest.fixture(scope="module")
def core() -> Instrument:
    """The shipped core instrument."""
    return load_instrument(CORE)


@pytest.fixture(scope="module")
def langs() -> dict[str, Language]:
    """The platform's languages."""
    return languages(TRANSLATIONS)


@pytest.fixture(scope="module")
def pdf(core: Instrument, langs: dict[str, Language]) -> Callable[[str], bytes]:
    """The PDF of the whole questionnaire (all modules) in a language, rendered once."""

    @cache
    def render(code: str) -> bytes:
        return render_paper_pdf(core, langs[code], TRANSLATIONS)

    return render


def all_sections(core: Instrument, code: str) -> tuple:
    """Every section of the instrument, as translated into ``code``."""
    optional = [m.id for m in core.modules if m.optional]
    return translated_sections(core, core.sections_for(optional), code, TRANSLATIONS)


def squeeze(text: str) -> str:
    """Text without any whitespace or bidi marks: PDF extraction breaks lines anywhere."""
    return re.sub(r"[\s\u200e]+", "", text)


def pdf_text(data: bytes) -> tuple[int, str]:
    """The number of pages and the extracted text of a PDF."""
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


@pytest.mark.parametrize(("code", "direction"), [("en", "ltr"), ("fr", "ltr"), ("ar", "rtl")])
def test_html_declares_language_and_direction(
    core: Instrument, langs: dict[str, Language], code: str, direction: str
) -> None:
    """The page says its language and writing direction (Arabic right to left)."""
    html = render_paper_html(core, langs[code], TRANSLATIONS)
    assert f'<html lang="{code}" dir="{direction}">' in html


def test_html_numbers_every_question_with_its_id_codes_and_boxes(
    core: Instrument, langs: dict[str, Language]
) -> None:
    """Questions are numbered 1..n in order, each with its item id; every answer has a box."""
    html = render_paper_html(core, langs["en"], TRANSLATIONS)
    items = [item for section in all_sections(core, "en") for item in section.items]
    stems = re.findall(
        r'<span class="number">(\d+)</span>.*?<span class="item-id" dir="ltr">(\w+)</span>', html
    )
    assert stems == [(str(n), item.id) for n, item in enumerate(items, start=1)]
    boxes = sum(len(item.options) + len(item.missing_options) for item in items)
    assert html.count('<span class="box">') == boxes
    codes = re.findall(r'<span class="code">&lrm;(-?\d+)</span>', html)
    assert codes.count("-2") == sum(
        1 for item in items if any(o.code == -2 for o in item.missing_options)
    )
    assert html.count('<div class="line">') == 2 * sum(1 for i in items if i.type == "short_text")
    assert html.count('<span class="digit">') == 2  # household size: 1-20


def test_display_condition_is_an_instruction(core: Instrument, langs: dict[str, Language]) -> None:
    """A conditional question says which answer to which question it follows."""
    html = render_paper_html(core, langs["en"], TRANSLATIONS)
    number = re.search(
        r'<span class="number">(\d+)</span>[^<]*?<span class="item-id" dir="ltr">'
        r"crmvct</span>",
        html,
    )
    assert number is not None
    assert f"Answer only if you answered “Yes” to question {number[1]}." in html


def test_html_is_self_contained(core: Instrument, langs: dict[str, Language]) -> None:
    """Styles are inline and nothing is referenced: the PDF is made without any request."""
    html = render_paper_html(core, langs["ar"], TRANSLATIONS)
    for reference in ("http:", "https:", "file:", "url(", "<link", " src=", "@import"):
        assert reference not in html
    assert '"DejaVu Sans", sans-serif' in html
    assert "break-inside: avoid" in html


def test_layout_loads_nothing() -> None:
    """A URL in the page stops the rendering instead of being fetched."""
    html = '<html><body><img src="https://example.invalid/logo.png"></body></html>'
    with pytest.raises(BaseException, match="Error fetching") as raised:
        layout(html)
    assert raised.type.__name__ == "FatalURLFetchingError"


def test_modules_choose_the_sections(core: Instrument, langs: dict[str, Language]) -> None:
    """Only the core is printed when no optional module is asked; unknown modules fail."""
    html = render_paper_html(core, langs["en"], TRANSLATIONS, modules=())
    assert ">ppltrst<" in html
    assert ">isc_graffiti<" not in html
    assert ">age_band<" not in html
    with_one = render_paper_html(core, langs["en"], TRANSLATIONS, modules=["demographics"])
    assert ">age_band<" in with_one
    with pytest.raises(ValueError, match="unknown module"):
        render_paper_html(core, langs["en"], TRANSLATIONS, modules=["nonsense"])


def test_untranslated_language_falls_back_to_english(core: Instrument, tmp_path: Path) -> None:
    """Without catalogs every text is the English source text, in the right direction."""
    language = Language("fa", "Persian", "فارسی", "rtl", "draft")
    html = render_paper_html(core, language, tmp_path)
    assert '<html lang="fa" dir="rtl">' in html
    assert core.item("nbh_help").text in html
    assert "Your answers are anonymous." in html


@pytest.mark.parametrize("code", ["en", "fr"])
def test_pdf_has_every_question(core: Instrument, pdf: Callable[[str], bytes], code: str) -> None:
    """The PDF has several pages with every item's text (as translated) and id."""
    data = pdf(code)
    assert data.startswith(b"%PDF-")
    pages, text = pdf_text(data)
    assert pages >= 4
    text = squeeze(text)
    for section in all_sections(core, code):
        assert squeeze(section.title) in text
        for item in section.items:
            assert squeeze(item.text) in text, item.id
            assert item.id in text


def test_pdf_in_arabic(pdf: Callable[[str], bytes]) -> None:
    """The right-to-left questionnaire renders; its item ids stay readable."""
    data = pdf("ar")
    assert data.startswith(b"%PDF-")
    pages, text = pdf_text(data)
    assert pages >= 4
    assert "ppltrst" in text
    assert "home_language" in text


def test_pdf_page_numbers_and_header(core: Instrument, pdf: Callable[[str], bytes]) -> None:
    """Every page has the instrument and version at the top and 'n / total' at the bottom."""
    reader = PdfReader(io.BytesIO(pdf("en")))
    total = len(reader.pages)
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert f"{core.id} {core.version}" in text
        assert f"{number} / {total}" in text


@pytest.mark.slow
def test_every_language_renders(
    core: Instrument,
    langs: dict[str, Language],
    pdf: Callable[[str], bytes],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every platform language renders, without unsupported CSS.

    The whole questionnaire is rendered as HTML in every language, and as PDF in the
    languages of the tests above (en, fr, ar). To keep the suite fast, the others are laid
    out with the core module only, and the first page of each is written as one PDF.
    """
    full_pdf = {"en", "fr", "ar"}
    first_pages = []
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        for code, language in langs.items():
            html = render_paper_html(core, language, TRANSLATIONS)
            assert f'<html lang="{code}" dir="{language.direction}">' in html
            if code in full_pdf:
                assert pdf(code).startswith(b"%PDF-")
                continue
            document = layout(render_paper_html(core, language, TRANSLATIONS, modules=()))
            assert len(document.pages) >= 2, code
            first_pages.append(document.copy(document.pages[:1]))
        data = first_pages[0].copy([d.pages[0] for d in first_pages]).write_pdf()
    assert data.startswith(b"%PDF-")
    assert len(PdfReader(io.BytesIO(data)).pages) == len(first_pages)
    ignored = [r.getMessage() for r in caplog.records if "Ignored" in r.getMessage()]
    assert ignored == []
