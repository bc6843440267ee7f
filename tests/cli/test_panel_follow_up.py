"""``surveyapp invitations follow-up`` and ``batches`` from the command line."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from flask.testing import FlaskCliRunner
from sqlalchemy import select

from surveyapp.cli import main
from surveyapp.models import Invitation, LetterBatch

from ..conftest import Factory


def _csv(path: Path) -> list[dict[str, str]]:
    archive = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    return list(csv.DictReader(io.StringIO(archive.read("codes.csv").decode("utf-8-sig"))))


def test_follow_up_letters_from_the_command_line(
    runner: FlaskCliRunner, make: Factory, tmp_path: Path
) -> None:
    first = make.wave(mode="invitation", is_panel=True, name="Baseline")
    second = make.wave(first.initiative, mode="invitation", is_panel=True, name="Follow-up")
    area = first.initiative.areas_with_role("treated")[0]
    before, after = tmp_path / "before.zip", tmp_path / "after.zip"
    args = ["invitations", "generate", str(first.id), "--area", f"{area.code}=3"]
    result = runner.invoke(main, [*args, "--language", "en", "--out", str(before)])
    assert result.exit_code == 0, result.output
    batch = make.session.scalars(select(LetterBatch).where(LetterBatch.wave_id == first.id)).one()
    listed = runner.invoke(main, ["invitations", "batches", str(second.id)]).output
    assert "no batches of letters yet" in listed
    assert f"can follow up: batch {batch.id} of wave {first.id} (Baseline), 3 letters" in listed

    args = ["invitations", "follow-up", str(second.id), "--batch", str(batch.id)]
    result = runner.invoke(main, [*args, "--language", "fr", "--out", str(after)])
    assert result.exit_code == 0, result.output
    assert "only copy of the codes" in result.output
    assert oct(after.stat().st_mode & 0o777) == "0o600"
    old, new = _csv(before), _csv(after)
    assert [r["letter_reference"] for r in new] == [r["letter_reference"] for r in old]
    assert {r["code"] for r in new}.isdisjoint(r["code"] for r in old)
    listed = runner.invoke(main, ["invitations", "batches", str(second.id)]).output
    assert f"follows batch {batch.id} (wave {first.id})" in listed

    # Again: refused with the reason, no code made, no file written.
    again = tmp_path / "again.zip"
    result = runner.invoke(main, [*args, "--language", "fr", "--out", str(again)])
    assert result.exit_code == 1 and "were already made for this wave" in result.output
    assert not again.exists()
    make.session.expire_all()
    assert len(make.session.scalars(select(Invitation)).all()) == 6
    result = runner.invoke(
        main, ["invitations", "follow-up", str(second.id), "--batch", "999", "--language", "en",
               "--out", str(again)]
    )  # fmt: skip
    assert result.exit_code == 1 and "There is no batch of letters 999" in result.output
