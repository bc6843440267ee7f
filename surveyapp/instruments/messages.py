"""Translatable texts of an instrument, each with a stable gettext context.

Instrument texts live in their own gettext domain, ``instruments``. Every text has a
message context (``msgctxt``) naming what it belongs to, so that two items with the same
English wording can be translated differently and a translator sees where a text is used:

============================  ==============================================
Context                       Text
============================  ==============================================
``title``                     the instrument's title
``module.<id>.label``         a module's name (``.description`` likewise)
``construct.<id>.label``      a construct's name (``.description`` likewise)
``section.<id>.title``        a page title (``.intro`` for its introduction)
``item.<id>``                 the question text
``option_set.<set>.<code>``   an option label shared through an option set
``item.<id>.option.<code>``   an option label of one item (inline options, anchors)
``missing.<key>``             a missing-value option such as "Don't know"
============================  ==============================================

:func:`babel_extract` is a Babel extraction method for the YAML files (see
``babel-instruments.cfg``); :func:`option_context` gives the renderer the same contexts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import yaml

from surveyapp.instruments.loader import Instrument
from surveyapp.instruments.schema import Item, Option

DOMAIN = "instruments"


@dataclass(frozen=True)
class Message:
    """One translatable text; ``item_id`` names the item (or section) it belongs to."""

    context: str
    text: str
    item_id: str | None = None


def _set_labels(instrument: Instrument) -> dict[str, dict[int, str]]:
    sets = instrument.definition.get("option_sets", {})
    return {name: {o["code"]: o["label"] for o in options} for name, options in sets.items()}


def option_context(instrument: Instrument, item: Item, option: Option) -> str:
    """The context of an option label as shown for ``item``."""
    labels = _set_labels(instrument).get(item.option_set or "", {})
    if item.option_set and labels.get(option.code) == option.label:
        return f"option_set.{item.option_set}.{option.code}"
    return f"item.{item.id}.option.{option.code}"


def missing_context(instrument: Instrument, option: Option) -> str:
    """The context of a missing-value option label (matched by its code)."""
    for key, candidate in instrument.missing_options.items():
        if candidate.code == option.code:
            return f"missing.{key}"
    raise KeyError(f"no missing option with code {option.code}")


def instrument_messages(instrument: Instrument) -> list[Message]:
    """Every translatable text of the instrument, once per context, in reading order."""
    messages: dict[str, Message] = {}

    def add(context: str, text: str | None, item_id: str | None = None) -> None:
        if text and context not in messages:
            messages[context] = Message(context, text.strip(), item_id)

    add("title", instrument.title)
    for module in instrument.modules:
        add(f"module.{module.id}.label", module.label)
        add(f"module.{module.id}.description", module.description)
    for construct in instrument.constructs:
        add(f"construct.{construct.id}.label", construct.label)
        add(f"construct.{construct.id}.description", construct.description)
    for section in instrument.sections:
        add(f"section.{section.id}.title", section.title, section.id)
        add(f"section.{section.id}.intro", section.intro, section.id)
        for item in section.items:
            add(f"item.{item.id}", item.text, item.id)
            for option in item.options:
                add(option_context(instrument, item, option), option.label, item.id)
            for option in item.missing_options:
                add(missing_context(instrument, option), option.label, item.id)
    return list(messages.values())


def messages_for_modules(instrument: Instrument, modules: list[str]) -> list[Message]:
    """The texts a resident sees in a wave with these optional modules."""
    sections = instrument.sections_for(modules)
    asked = {s.id for s in sections} | {i.id for s in sections for i in s.items}
    return [
        m
        for m in instrument_messages(instrument)
        if m.context == "title" or (m.item_id is not None and m.item_id in asked)
    ]


def context_file(definition_file: Path) -> Path:
    """The translator-context file beside a definition (``1.0.0.yaml`` -> ``1.0.0.context.yml``).

    Its ``.yml`` suffix keeps it out of the ``*.yaml`` globs that find definitions.
    """
    return definition_file.with_suffix(".context.yml")


def item_context(definition_file: Path) -> dict[str, dict[str, str]]:
    """Per item id, what the context file adds for translators (``source_item``, ``note``)."""
    path = context_file(definition_file)
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    items = data.get("items") or {}
    return {
        str(item_id): {str(key): str(value) for key, value in (fields or {}).items()}
        for item_id, fields in items.items()
    }


def babel_extract(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict[str, Any]
) -> Iterator[tuple[int, str, tuple[str, str], list[str]]]:
    """Babel extraction method: yield every text of an instrument file with its context.

    Use it in a mapping file as ``[surveyapp.instruments.messages:babel_extract: **.yaml]``.
    The line number is that of the item or section the text belongs to, when found. Item
    texts carry extracted comments for translators (:func:`translator_context`), completed
    by the definition's context file when there is one (:func:`context_file`).
    """
    raw = fileobj.read().decode("utf-8")
    instrument = Instrument.from_definition(yaml.safe_load(raw))
    name = getattr(fileobj, "name", None)
    extra = item_context(Path(name)) if isinstance(name, str) else {}
    lines = {}
    for number, line in enumerate(raw.splitlines(), start=1):
        match = re.match(r"\s*-?\s*id:\s*([A-Za-z0-9_-]+)\s*$", line)
        if match:
            lines.setdefault(match.group(1), number)
    for message in instrument_messages(instrument):
        lineno = lines.get(message.item_id or "", 1)
        comments = [f"{instrument.id} {instrument.version}"]
        comments.extend(translator_context(instrument, message, extra))
        yield lineno, "pgettext", (message.context, message.text), comments


def translator_context(
    instrument: Instrument,
    message: Message,
    extra: Mapping[str, Mapping[str, str]] | None = None,
) -> list[str]:
    """Extracted comments for an item's own texts: source, source item code, construct, note.

    A translator needs them to find the official national wording of a borrowed item (the
    ESS's, cited by its code) and to keep the construct the item measures. Texts shared
    through an option set belong to no single item and get none. ``extra`` (from the
    context file) gives or overrides an item's ``source_item`` and ``note``.
    """
    if not message.context.startswith("item.") or message.item_id is None:
        return []
    item = instrument.item(message.item_id)
    added = (extra or {}).get(item.id, {})
    source = instrument.sources[item.source]
    comments = [f"source: {item.source} ({' '.join(source.citation.split())})"]
    source_item = added.get("source_item") or item.source_item
    if source_item:
        comments.append(f"source item: {source_item}")
    if item.construct:
        labels = {c.id: c.label for c in instrument.constructs}
        comments.append(f"construct: {labels.get(item.construct, item.construct)}")
    note = added.get("note") or item.note
    if note:
        comments.append(f"note: {' '.join(note.split())}")
    return comments
