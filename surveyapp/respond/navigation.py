"""Moving through a questionnaire: which questions show, the next and previous page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from surveyapp.instruments import Item, Section

#: ``outcome_page`` of a submission that completed the questionnaire.
COMPLETE = 0


def review_page(sections: tuple[Section, ...]) -> int:
    """The page number of the review page: one after the last section.

    A draft whose ``page`` is this number stopped on the review page, and resumes there.
    """
    return len(sections) + 1


def is_shown(item: Item, values: Mapping[str, dict[str, Any]]) -> bool:
    """Whether the item's display condition holds for the answers known so far."""
    if item.show_if is None:
        return True
    answer = values.get(item.show_if.item, {})
    codes = set(item.show_if.codes)
    # As in the XLSForm export: a chosen option or a number equal to a listed value, and for
    # multiple choice any one of the chosen options.
    if answer.get("value_code") in codes or answer.get("value_number") in codes:
        return True
    return bool(codes & set(answer.get("value_codes") or ()))


def shown_items(section: Section, values: Mapping[str, dict[str, Any]]) -> list[Item]:
    """The section's items whose display condition holds for the answers known so far."""
    return [item for item in section.items if is_shown(item, values)]


def shown_ids(sections: tuple[Section, ...], values: Mapping[str, dict[str, Any]]) -> set[str]:
    """The ids of every item shown anywhere in the questionnaire for these answers."""
    return {item.id for section in sections for item in shown_items(section, values)}


def step(
    sections: tuple[Section, ...], page: int, values: Mapping[str, dict[str, Any]], direction: int
) -> int:
    """The next (``direction=1``) or previous (-1) page with a question to show.

    Beyond the last page this is :data:`COMPLETE`; before the first it is page 1.
    """
    candidate = page + direction
    while 1 <= candidate <= len(sections):
        if shown_items(sections[candidate - 1], values):
            return candidate
        candidate += direction
    return COMPLETE if direction > 0 else 1


def first_incomplete_page(
    sections: tuple[Section, ...], values: Mapping[str, dict[str, Any]]
) -> int | None:
    """The first page with a required, shown item still unanswered, if any."""
    for number, section in enumerate(sections, start=1):
        if any(item.required and item.id not in values for item in shown_items(section, values)):
            return number
    return None


def outcome_of(
    sections: tuple[Section, ...], page: int, values: Mapping[str, dict[str, Any]], action: str
) -> int:
    """Where a page POST leads: ``next`` (or the first page still missing an answer when it
    would send), ``review`` (the next page, or the review page after the last one),
    ``send`` (from the review page), ``change`` (a page reached from the review page: back
    to it), ``back``, or ``stay`` (switching language).

    ``next`` after the last page sends at once, as before the review page existed (a form
    open in a tab during an upgrade); the question pages' buttons say ``review``.
    """
    if action == "change":
        # A page reached from the review page: back to it, unless the change made a later
        # question necessary.
        missing = first_incomplete_page(sections, values)
        return review_page(sections) if missing is None else missing
    if action in ("review", "send"):
        outcome = step(sections, page, values, 1)
        if outcome != COMPLETE:
            return outcome  # a later page has questions after all: it comes first
        missing = first_incomplete_page(sections, values)
        if missing is not None:
            return missing
        return COMPLETE if action == "send" else review_page(sections)
    if action == "next":
        outcome = step(sections, page, values, 1)
        if outcome == COMPLETE:
            missing = first_incomplete_page(sections, values)
            if missing is not None:
                return missing
        return outcome
    if action == "back":
        return step(sections, page, values, -1)
    return page
