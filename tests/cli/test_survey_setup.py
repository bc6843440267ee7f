"""Every console action can be scripted with the `surveyapp` command: a whole survey set up."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from flask.testing import FlaskCliRunner
from sqlalchemy import select

from surveyapp.cli import main
from surveyapp.models import Initiative, Invitation, Wave, WaveStatus

from ..conftest import Factory


def _ok(runner: FlaskCliRunner, *args: str) -> str:
    result = runner.invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_a_whole_survey_set_up_from_the_command_line(
    runner: FlaskCliRunner, make: Factory, tmp_path: Path
) -> None:
    make.instrument_row()
    _ok(
        runner,
        "cities",
        "create",
        "--slug",
        "ghent",
        "--name",
        "Ghent",
        "--languages",
        "nl,en",
        "--contact",
        "privacy@ghent.example",
    )
    for code, name in (("D1", "Docks"), ("P2", "Park"), ("S3", "School")):
        _ok(runner, "areas", "add", "ghent", code, name)
    margins = tmp_path / "margins.csv"
    margins.write_text("age_band,gender,population\n16-24,woman,100\n16-24,man,90\n")
    _ok(runner, "areas", "margins", "ghent", "d1", str(margins))
    assert "190" in _ok(runner, "areas", "list", "ghent")
    _ok(
        runner,
        "initiatives",
        "add",
        "ghent",
        "--name",
        "Meals",
        "--level",
        "2",
        "--treated",
        "D1,P2",
        "--comparison",
        "S3",
        "--constructs",
        "trust",
    )
    initiative = make.session.scalar(select(Initiative).where(Initiative.name == "Meals"))
    _ok(
        runner,
        "waves",
        "create",
        str(initiative.id),
        "--name",
        "Baseline",
        "--languages",
        "nl,en",
        "--mode",
        "both",
        "--modules",
        "demographics",
    )
    wave = make.session.scalar(select(Wave).where(Wave.initiative_id == initiative.id))
    _ok(runner, "waves", "open", str(wave.id), "--acknowledge-draft-languages")
    out = tmp_path / "letters.zip"
    _ok(
        runner,
        "invitations",
        "generate",
        str(wave.id),
        "--area",
        "D1=2",
        "--area",
        "S3=1",
        "--language",
        "nl",
        "--out",
        str(out),
    )
    archive = zipfile.ZipFile(io.BytesIO(out.read_bytes()))
    assert sorted(archive.namelist()) == ["codes.csv", "letters.pdf"]
    assert archive.read("codes.csv").decode("utf-8-sig").count("\n") == 4
    assert len(make.session.scalars(select(Invitation)).all()) == 3
    poster = tmp_path / "poster.pdf"
    _ok(runner, "invitations", "poster", str(wave.id), "--language", "en", "--out", str(poster))
    assert poster.read_bytes().startswith(b"%PDF")
    assert "completed 0" in _ok(runner, "waves", "monitor", str(wave.id))
    _ok(runner, "waves", "close", str(wave.id))
    _ok(runner, "waves", "archive", str(wave.id))
    make.session.expire_all()
    assert make.session.get(Wave, wave.id).status == WaveStatus.ARCHIVED
    log = _ok(runner, "audit", "ghent")
    for action in (
        "city_created",
        "margins_uploaded",
        "initiative_created",
        "wave_created",
        "codes_generated",
        "wave_archived",
    ):
        assert action in log, action


def test_cli_errors_say_what_is_wrong(
    runner: FlaskCliRunner, make: Factory, tmp_path: Path
) -> None:
    city = make.city(slug="lyon")
    make.area(city, code="A1")
    bad = tmp_path / "bad.csv"
    bad.write_text("age_band,gender,population\n16-24,woman,-3\n")
    result = runner.invoke(main, ["areas", "margins", "lyon", "A1", str(bad)])
    assert result.exit_code == 1
    assert "line 2, column 3: population cannot be negative" in result.output
    assert "nothing was saved" in result.output
    result = runner.invoke(main, ["areas", "add", "lyon", "a1", "Again"])
    assert result.exit_code == 1 and "already has an area" in result.output
    result = runner.invoke(
        main, ["initiatives", "add", "nowhere", "--name", "x", "--level", "1", "--treated", "A1"]
    )
    assert result.exit_code == 1 and "no city with the slug 'nowhere'" in result.output
    wave = make.wave(make.initiative(city))
    result = runner.invoke(main, ["waves", "delete", str(wave.id)])
    assert result.exit_code == 1 and "Only a draft wave" in result.output
    result = runner.invoke(main, ["cities", "create", "--slug", "lyon", "--name", "Lyon 2"])
    assert result.exit_code == 1 and "A city with the slug 'lyon' exists already" in result.output
