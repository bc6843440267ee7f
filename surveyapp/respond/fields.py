"""Reading a submitted page: one parser per item type, and the problems found.

Field names are ``q-<item id>``; number items take a missing-value code ("don't know",
"prefer not to say") from ``q-<item id>-missing``. Each parser returns the answer as
``{column: value}`` for the answer's value column, or an error code the page explains in
the resident's language.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from surveyapp.instruments import Item, Section
from surveyapp.respond.navigation import is_shown
from surveyapp.respond.typed import fold, read_number

MAX_TEXT_LENGTH = 1000

Parsed = tuple[dict[str, Any] | None, str | None]


@dataclass
class ParsedForm:
    """Answers read from a submitted questionnaire, and the problems found, by item id."""

    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def parse_form(
    sections: Iterable[Section],
    form: Any,
    context: Mapping[str, dict[str, Any]] | None = None,
    *,
    require: bool = True,
) -> ParsedForm:
    """Read and check every item's answer from a form (a werkzeug MultiDict or similar).

    Items hidden by their display condition are ignored; the condition may refer to an
    answer in ``context`` (earlier pages). With ``require=False`` required items left empty
    are not an error (going back, switching language).
    """
    parsed = ParsedForm()
    known = dict(context or {})
    for section in sections:
        for item in section.items:
            known.pop(item.id, None)
            if not is_shown(item, known):
                continue
            value, error = PARSERS[item.type](item, form)
            if error:
                parsed.errors[item.id] = error
            elif value is not None:
                parsed.values[item.id] = value
                known[item.id] = value
            elif item.required and require:
                parsed.errors[item.id] = "missing"
    return parsed


def unknown_fields(sections: Iterable[Section], form: Any) -> list[str]:
    """Question fields in ``form`` that name no item of ``sections`` (forged or stale)."""
    names = set()
    for section in sections:
        for item in section.items:
            names |= {f"q-{item.id}", f"q-{item.id}-missing"}
    return sorted(key for key in form if key.startswith("q-") and key not in names)


def _codes(options: Iterable[Any]) -> set[int]:
    return {option.code for option in options}


def _as_int(raw: str) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def parse_choice(item: Item, form: Any) -> Parsed:
    """A scale, single choice or yes/no item: one option code (or a missing-value code)."""
    raw = (form.get(f"q-{item.id}") or "").strip()
    if not raw:
        return None, None
    code = _as_int(raw)
    if code is None or code not in _codes(item.options) | _codes(item.missing_options):
        return None, "invalid_choice"
    return {"value_code": code}, None


def parse_multiple_choice(item: Item, form: Any) -> Parsed:
    """Several option codes, or one missing-value code on its own."""
    raws = [r for r in form.getlist(f"q-{item.id}") if r.strip()]
    if not raws:
        return None, None
    codes = [_as_int(r) for r in raws]
    if any(c is None for c in codes):
        return None, "invalid_choice"
    chosen = sorted(set(codes))
    missing = _codes(item.missing_options)
    if not set(chosen) <= _codes(item.options) | missing:
        return None, "invalid_choice"
    if set(chosen) & missing:
        if len(chosen) > 1:
            return None, "missing_with_answer"
        return {"value_code": chosen[0]}, None
    return {"value_codes": chosen}, None


def parse_number(item: Item, form: Any) -> Parsed:
    """A whole number within the item's bounds, or a missing-value code.

    Digits of any script and full-width forms are read as the number they write; a decimal
    part is refused (``not_whole``), never cut off (:func:`surveyapp.respond.typed.read_number`).
    """
    name = f"q-{item.id}"
    raw = (form.get(name) or "").strip()
    missing_raw = (form.get(f"{name}-missing") or "").strip()
    if raw:
        number, problem = read_number(raw)
        if number is None:
            return None, problem
        if (item.min is not None and number < item.min) or (
            item.max is not None and number > item.max
        ):
            return None, "out_of_range"
        return {"value_number": float(number)}, None
    if missing_raw:
        code = _as_int(missing_raw)
        if code not in _codes(item.missing_options):
            return None, "invalid_choice"
        return {"value_code": code}, None
    return None, None


def numbered_scale(item: Item) -> bool:
    """Whether a scale's options are its numbers (0-10 with words at the ends only): then
    the end points show their number beside their words."""
    return item.type == "scale" and any(
        fold(option.label).strip() == str(option.code) for option in item.options
    )


def parse_short_text(item: Item, form: Any) -> Parsed:
    """Free text up to :data:`MAX_TEXT_LENGTH` characters."""
    text = (form.get(f"q-{item.id}") or "").strip()
    if not text:
        return None, None
    if len(text) > MAX_TEXT_LENGTH:
        return None, "too_long"
    return {"value_text": text}, None


#: The parser of each item type.
PARSERS: dict[str, Callable[[Item, Any], Parsed]] = {
    "scale": parse_choice,
    "single_choice": parse_choice,
    "yes_no": parse_choice,
    "multiple_choice": parse_multiple_choice,
    "number": parse_number,
    "short_text": parse_short_text,
}
