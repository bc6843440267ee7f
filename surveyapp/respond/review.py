"""The review page: every answer given, by section, before the questionnaire is sent.

It is one page after the last section (:func:`surveyapp.respond.navigation.review_page`), so
a draft stopped there resumes there, and it is saved like any page (its only buttons are
Send, Back and the language switch). Each answer links to its page with ``?from=review``
and the question's anchor: that page's button then saves and comes back here, to the
changed answer (the browser keeps the anchor across the redirect).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import render_template
from flask_babel import force_locale

from surveyapp.i18n import translations_dir
from surveyapp.i18n.instrument import translated_sections, translated_title
from surveyapp.instruments import Item, Section, registry
from surveyapp.respond import visits
from surveyapp.respond.navigation import review_page, shown_items

#: The query argument a question page reached from the review page carries.
FROM_REVIEW = "review"


@dataclass
class ReviewedAnswer:
    """One question as the resident sees it on the review page."""

    item_id: str
    question: str
    #: The answer as shown (option labels, the number, the text); empty if not answered.
    answer: list[str]
    missing: bool  # required and not answered: Send will lead to its page


@dataclass
class ReviewedSection:
    page: int
    title: str
    answers: list[ReviewedAnswer] = field(default_factory=list)


def shown_answer(item: Item, value: Mapping[str, Any] | None) -> list[str]:
    """How an answer reads: the labels of the chosen options, the number or the text."""
    if not value:
        return []
    labels = {option.code: option.label for option in (*item.options, *item.missing_options)}
    if value.get("value_codes"):
        return [labels.get(code, str(code)) for code in value["value_codes"]]
    if value.get("value_code") is not None:
        return [labels.get(value["value_code"], str(value["value_code"]))]
    number = value.get("value_number")
    if number is not None:
        return [f"{number:g}"]
    text = value.get("value_text")
    return [text] if text else []


def reviewed_sections(
    sections: tuple[Section, ...], values: Mapping[str, Mapping[str, Any]]
) -> list[ReviewedSection]:
    """The sections with a question shown for these answers, each with its answers.

    ``sections`` are translated for display; ``values`` are the draft's saved answers.
    """
    reviewed = []
    for page, section in enumerate(sections, start=1):
        items = shown_items(section, values)
        if not items:
            continue
        entry = ReviewedSection(page=page, title=section.title)
        for item in items:
            answer = shown_answer(item, values.get(item.id))
            entry.answers.append(
                ReviewedAnswer(item.id, item.text, answer, item.required and not answer)
            )
        reviewed.append(entry)
    return reviewed


def render(
    visit: visits.Visit,
    sections: tuple[Section, ...],
    language: str,
    values: Mapping[str, Mapping[str, Any]],
) -> tuple[str, int]:
    """The review page of ``visit``'s draft, in ``language``."""
    with force_locale(language):
        instrument = registry.wave_instrument(visit.wave)
        shown = translated_sections(instrument, sections, language, translations_dir())
        html = render_template(
            "respond/review.html",
            title=translated_title(instrument, language, translations_dir()),
            sections=reviewed_sections(shown, values),
            page=review_page(sections),
            change_url=lambda page: visit.page_url(page, **{"from": FROM_REVIEW}),
            # No fragment (#item-... after a change): the thank-you page must not get one.
            action_url=visit.page_url(review_page(sections)),
            languages=visits.language_links(visit.wave),
            language=language,
            key=secrets.token_urlsafe(24),
        )
    return html, 200
