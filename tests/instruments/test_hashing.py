"""Content hash and canonical definition: what the database stores must be stable."""

import json
from pathlib import Path

import pytest

from surveyapp.instruments import Instrument, content_hash, load_instrument

CORE = Path(__file__).parents[2] / "instruments" / "social-cohesion-safety" / "1.0.0.yaml"


def _copy(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "social-cohesion-safety"
    folder.mkdir(exist_ok=True)
    path = folder / "1.0.0.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_hash_is_stable_across_loads() -> None:
    """Loading the same file twice gives the same hash."""
    assert load_instrument(CORE).content_hash == load_instrument(str(CORE)).content_hash


def test_hash_is_sha256_of_canonical_definition() -> None:
    """The hash is the SHA-256 of the canonical JSON of the stored definition."""
    instrument = load_instrument(CORE)
    assert len(instrument.content_hash) == 64
    assert content_hash(instrument.definition) == instrument.content_hash


def test_changed_item_text_changes_hash(tmp_path: Path) -> None:
    """Changing the wording of one item gives a different hash."""
    text = CORE.read_text(encoding="utf-8")
    changed = text.replace("This is a close-knit neighbourhood.", "This is a close neighbourhood.")
    assert changed != text
    assert load_instrument(_copy(tmp_path, changed)).content_hash != (
        load_instrument(CORE).content_hash
    )


def test_comments_and_whitespace_keep_hash(tmp_path: Path) -> None:
    """Comments, blank lines and flow-vs-block style are not content."""
    text = CORE.read_text(encoding="utf-8")
    reformatted = "# a new comment\n\n" + text.replace(
        "options: agree5\n", "options:   agree5   # same set\n"
    ).replace("  - {code: 5, label: Strongly agree}", "  - code: 5\n      label: Strongly agree")
    assert reformatted != text
    assert load_instrument(_copy(tmp_path, reformatted)).content_hash == (
        load_instrument(CORE).content_hash
    )


def test_spelling_out_a_default_keeps_hash(tmp_path: Path) -> None:
    """Writing `reverse: false` where it is the default does not change the content."""
    text = CORE.read_text(encoding="utf-8")
    explicit = text.replace(
        "text: This is a close-knit neighbourhood.\n",
        "text: This is a close-knit neighbourhood.\n        reverse: false\n",
    )
    assert explicit != text
    assert load_instrument(_copy(tmp_path, explicit)).content_hash == (
        load_instrument(CORE).content_hash
    )


def test_from_definition_round_trips() -> None:
    """The stored definition rebuilds the same instrument with the same hash."""
    instrument = load_instrument(CORE)
    stored = json.loads(json.dumps(instrument.definition))
    rebuilt = Instrument.from_definition(stored)
    assert rebuilt.content_hash == instrument.content_hash
    assert rebuilt.items == instrument.items
    assert rebuilt.definition == instrument.definition


def test_definition_is_a_copy() -> None:
    """Changing the returned definition does not change the instrument."""
    instrument = load_instrument(CORE)
    definition = instrument.definition
    definition["title"] = "Changed"
    assert instrument.definition["title"] != "Changed"
    assert instrument.content_hash == content_hash(instrument.definition)


def test_instrument_is_frozen() -> None:
    """The loaded instrument and its items cannot be changed in place."""
    instrument = load_instrument(CORE)
    with pytest.raises(ValueError, match="frozen"):
        instrument.title = "Changed"  # type: ignore[misc]
    with pytest.raises(ValueError, match="frozen"):
        instrument.items[0].text = "Changed"  # type: ignore[misc]
