"""The printable questionnaire: one A4 PDF per language, from the same instrument definition.

For residents without a phone and for staff who type paper answers in. Every question is
numbered and carries its item id; every tick box carries its answer code, so data entry
needs nothing but the form. The page is an HTML template (``templates/paper/``) rendered
with Jinja2 outside any Flask app and laid out by WeasyPrint.

Texts come from the ``instruments`` gettext domain (untranslated texts stay in English);
the few words of the form itself (``_()`` in the template) come from the ``messages``
domain, like the rest of the interface.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from babel.support import NullTranslations, Translations

from surveyapp.i18n.catalogs import Language
from surveyapp.i18n.instrument import translated_sections, translated_title
from surveyapp.instruments.loader import Instrument
from surveyapp.instruments.schema import Item, Section

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "paper"
TEMPLATE = "questionnaire.html"


@dataclass(frozen=True)
class Question:
    """An item as printed: its number on the form and, if conditional, the instruction."""

    number: int
    item: Item
    # Labels of the answers to question ``condition_number`` that lead to this question.
    condition_answers: tuple[str, ...] = ()
    condition_number: int | None = None

    @property
    def layout(self) -> str:
        """``row`` for scales (boxes side by side), ``list`` for other choices, else the type."""
        if self.item.type == "scale":
            return "row"
        if self.item.type in ("single_choice", "multiple_choice", "yes_no"):
            return "list"
        return self.item.type

    @property
    def digits(self) -> int:
        """How many digit boxes a number item gets (enough for its min and max)."""
        bounds = [b for b in (self.item.min, self.item.max) if b is not None]
        return max((len(str(b)) for b in bounds), default=3)


@dataclass(frozen=True)
class Page:
    """One section as printed."""

    section: Section
    questions: tuple[Question, ...]


def _modules(instrument: Instrument, modules: Iterable[str] | None) -> list[str]:
    if modules is None:
        return [m.id for m in instrument.modules if m.optional]
    return list(modules)


def _pages(sections: tuple[Section, ...]) -> list[Page]:
    """Number the items 1..n in questionnaire order and resolve display conditions."""
    printed: dict[str, Question] = {}
    pages = []
    for section in sections:
        questions = []
        for item in section.items:
            number = len(printed) + 1
            question = Question(number, item)
            if item.show_if is not None:
                earlier = printed.get(item.show_if.item)
                if earlier is None:
                    raise ValueError(
                        f"{item.id}: shown only after {item.show_if.item!r}, which is not printed"
                    )
                labels = {o.code: o.label for o in earlier.item.options}
                labels |= {o.code: o.label for o in earlier.item.missing_options}
                question = Question(
                    number,
                    item,
                    tuple(labels.get(code, str(code)) for code in item.show_if.codes),
                    earlier.number,
                )
            printed[item.id] = question
            questions.append(question)
        pages.append(Page(section, tuple(questions)))
    return pages


def _ui_translations(translations_dir: Path, locale: str) -> NullTranslations:
    # Not cached: catalogs are compiled while the app runs, and a form is rendered rarely.
    return Translations.load(str(translations_dir), [locale], domain="messages")


def render_paper_html(
    instrument: Instrument,
    language: Language,
    translations_dir: Path,
    modules: Iterable[str] | None = None,
) -> str:
    """The printable questionnaire as a self-contained HTML page (styles inline, no URLs).

    ``modules`` are the optional modules to print besides the core (``None``: all of them).
    Raises ValueError for an unknown module.
    """
    sections = instrument.sections_for(_modules(instrument, modules))
    sections = translated_sections(instrument, sections, language.code, translations_dir)
    # A fresh environment per call: installing translations mutates the environment.
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(  # type: ignore[attr-defined]
        _ui_translations(translations_dir, language.code), newstyle=True
    )
    context: dict[str, Any] = {
        "instrument": instrument,
        "title": translated_title(instrument, language.code, translations_dir),
        "language": language,
        "pages": _pages(sections),
    }
    return env.get_template(TEMPLATE).render(context)


def layout(html: str) -> Any:
    """Lay out a self-contained HTML page into pages (a ``weasyprint.Document``).

    Nothing is loaded while laying out: a URL in the page is an error, not a request.
    Only ``data:`` URLs, which carry their content (a city's logo on its letters), are read.
    ``layout(html).write_pdf()`` gives the PDF; several documents' pages can be joined
    with ``document.copy(pages).write_pdf()``.
    """
    weasyprint = _import_weasyprint()
    from weasyprint.urls import URLFetcher

    inline_only = URLFetcher(allowed_protocols=("data",), fail_on_errors=True)
    return weasyprint.HTML(string=html, url_fetcher=inline_only).render()


def render_paper_pdf(
    instrument: Instrument,
    language: Language,
    translations_dir: Path,
    modules: Iterable[str] | None = None,
) -> bytes:
    """The printable questionnaire in ``language`` as an A4 PDF (see :func:`render_paper_html`)."""
    return layout(render_paper_html(instrument, language, translations_dir, modules)).write_pdf()


@cache
def _import_weasyprint() -> Any:
    """Import WeasyPrint on first use (it loads Pango at import), silencing one warning.

    Without the system library libharfbuzz-subset (Debian: ``libharfbuzz-subset0``)
    WeasyPrint warns at import that it will be required in future versions and subsets
    fonts with fontTools instead. The PDF is the same; install the library to be ready.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message="HarfBuzz-Subset will be required",
            category=DeprecationWarning,
            module="weasyprint",
        )
        import weasyprint

    return weasyprint
