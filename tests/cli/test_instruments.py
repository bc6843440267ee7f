"""`surveyapp instruments`: check, publish and export questionnaires."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.cli import main
from surveyapp.models import Instrument

from ..conftest import CORE_INSTRUMENT

FIXTURES = Path(__file__).parents[1] / "instruments" / "fixtures"


def test_instruments_validate(runner: FlaskCliRunner) -> None:
    ok = runner.invoke(main, ["instruments", "validate", str(CORE_INSTRUMENT)])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(
        main, ["instruments", "validate", str(FIXTURES / "bad_duplicate_item_id.yaml")]
    )
    assert bad.exit_code != 0
    assert "bad_duplicate_item_id.yaml" in bad.output


def test_instruments_load_is_idempotent_and_refuses_changes(
    runner: FlaskCliRunner, db_session: Session, tmp_path: Path
) -> None:
    first = runner.invoke(main, ["instruments", "load"])
    assert first.exit_code == 0, first.output
    assert "published" in first.output
    again = runner.invoke(main, ["instruments", "load"])
    assert again.exit_code == 0 and "unchanged" in again.output
    assert db_session.scalar(select(func.count(Instrument.id))) == 1

    changed = tmp_path / "social-cohesion-safety" / "1.0.0.yaml"
    changed.parent.mkdir()
    changed.write_text(
        CORE_INSTRUMENT.read_text(encoding="utf-8").replace(
            "most people can be trusted", "most people can usually be trusted"
        ),
        encoding="utf-8",
    )
    refused = runner.invoke(main, ["instruments", "load", str(changed)])
    assert refused.exit_code != 0
    assert "new version number" in refused.output
    stored = db_session.scalar(select(Instrument))
    assert "usually" not in str(stored.definition)


def test_export_xlsform_command(runner: FlaskCliRunner, tmp_path: Path) -> None:
    out = tmp_path / "form.xlsx"
    args = ["instruments", "export-xlsform", "social-cohesion-safety", "1.0.0", str(out)]
    result = runner.invoke(main, [*args, "--languages", "en,fr"])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 5000
    unknown = runner.invoke(main, [*args, "--languages", "en,zz"])
    assert unknown.exit_code != 0 and "Unknown language(s): zz" in unknown.output
    missing = runner.invoke(main, ["instruments", "export-xlsform", "nope", "1.0.0", str(out)])
    assert missing.exit_code != 0 and "no instrument nope 1.0.0" in missing.output


def test_export_pdf_command(runner: FlaskCliRunner, tmp_path: Path) -> None:
    out = tmp_path / "paper-ar.pdf"
    args = ["instruments", "export-pdf", "social-cohesion-safety", "1.0.0"]
    result = runner.invoke(main, [*args, "ar", str(out), "--modules", "demographics"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-")
    wrong = runner.invoke(main, [*args, "xx", str(out)])
    assert wrong.exit_code != 0 and "Unknown language 'xx'" in wrong.output
