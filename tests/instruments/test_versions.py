"""A new version declares which items carried over unchanged; the claim is checked."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy.orm import Session

from surveyapp.instruments import Instrument, load_instrument, validate_files
from surveyapp.instruments.registry import InstrumentChangedError, publish

CORE = Path(__file__).parents[2] / "instruments" / "social-cohesion-safety" / "1.0.0.yaml"


def _write_versions(tmp_path: Path, change: dict[str, str], unchanged: list[str]) -> Path:
    folder = tmp_path / "social-cohesion-safety"
    folder.mkdir(parents=True)
    (folder / "1.0.0.yaml").write_text(CORE.read_text(encoding="utf-8"), encoding="utf-8")
    data = yaml.safe_load(CORE.read_text(encoding="utf-8"))
    data["version"] = "1.1.0"
    data["carries_over"] = {"from": "1.0.0", "unchanged_items": unchanged}
    for section in data["sections"]:
        for item in section["items"]:
            if item["id"] in change:
                item["text"] = change[item["id"]]
    new = folder / "1.1.0.yaml"
    new.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return new


def test_honest_carry_over_is_valid(tmp_path: Path) -> None:
    new = _write_versions(tmp_path, {"pplfair": "A new wording."}, ["ppltrst", "pplhlp"])
    assert validate_files([new]) == []
    instrument = load_instrument(new)
    assert instrument.carries_over.unchanged_items == ("ppltrst", "pplhlp")


def test_changed_item_declared_unchanged_is_named(tmp_path: Path) -> None:
    new = _write_versions(tmp_path, {"pplfair": "A new wording."}, ["ppltrst", "pplfair"])
    problems = validate_files([new])
    assert [(p.item_id, p.file) for p in problems] == [("pplfair", str(new))]
    assert "differs from version 1.0.0 in text" in problems[0].message


def test_unknown_carried_item_and_wrong_order(tmp_path: Path) -> None:
    new = _write_versions(tmp_path, {}, ["no_such_item"])
    problems = validate_files([new])
    assert any(p.item_id == "no_such_item" and "not in this version" in p.message for p in problems)
    data = yaml.safe_load(new.read_text(encoding="utf-8"))
    data["carries_over"]["from"] = "2.0.0"
    new.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert any("not older than 1.1.0" in p.message for p in validate_files([new]))


def test_carry_over_without_changes_keeps_the_v1_hash(core_instrument: Instrument) -> None:
    """Adding the optional field to the format did not change published hashes."""
    assert core_instrument.carries_over is None
    assert load_instrument(CORE).content_hash == core_instrument.content_hash


def test_publishing_checks_against_the_published_version(
    tmp_path: Path, db_session: Session, core_instrument: Instrument
) -> None:
    new = _write_versions(tmp_path, {"pplfair": "A new wording."}, ["ppltrst", "pplfair"])
    data = yaml.safe_load(new.read_text(encoding="utf-8"))
    # Without the folder's 1.0.0 file the validator cannot compare; the database can.
    lonely = tmp_path / "elsewhere" / "social-cohesion-safety" / "1.1.0.yaml"
    lonely.parent.mkdir(parents=True)
    lonely.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    changed = load_instrument(lonely)
    with pytest.raises(InstrumentChangedError, match="not published"):
        publish(db_session, changed)
    publish(db_session, core_instrument)
    with pytest.raises(InstrumentChangedError, match=r"pplfair differs from version 1\.0\.0"):
        publish(db_session, changed)
    honest = _write_versions(tmp_path / "ok", {"pplfair": "New."}, ["ppltrst"])
    row, created = publish(db_session, load_instrument(honest))
    assert created and row.version == "1.1.0"
