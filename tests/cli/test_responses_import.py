"""`surveyapp responses import`: ODK Central and KoboToolbox exports of our XLSForm."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

from flask.testing import FlaskCliRunner
from openpyxl import Workbook
from sqlalchemy import func, select

from surveyapp.cli import main
from surveyapp.instruments.registry import wave_sections
from surveyapp.models import Answer, Channel, Response, Wave

from ..conftest import Factory, complete_answers

KOBO_META = ["_id", "_uuid", "_submission_time", "_submitted_by", "deviceid", "__version__"]


def _answers(wave: Wave) -> dict[str, str]:
    """Item id -> a valid cell, as the tools write it."""
    return {k.removeprefix("q-"): v for k, v in complete_answers(wave_sections(wave)).items()}


def kobo_csv(wave: Wave, rows: list[dict[str, str]], *, code_column: bool = False) -> bytes:
    """A KoboToolbox "XLS/CSV" export with group names, separated by semicolons."""
    columns = [(f"{s.id}/{i.id}", i.id) for s in wave_sections(wave) for i in s.items]
    header = ["start", "end", *(c for c, _ in columns)]
    header += ["code"] if code_column else []
    header += ["meta/instanceID", *KOBO_META]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(header)
    for n, row in enumerate(rows):
        answers = _answers(wave) | row
        instance = row.get("uuid", str(uuid.UUID(int=n + 1)))
        writer.writerow(
            [
                "2026-12-01T10:02:11.000+01:00",
                "2026-12-01T10:14:41.000+01:00",
                *(answers.get(item_id, "") for _, item_id in columns),
                *([row.get("code", "")] if code_column else []),
                f"uuid:{instance}",
                str(100 + n),
                instance,
                "2026-12-01T09:15:02",
                "enumerator7",
                "collect:7QZ2K",
                "vHd2",
            ]
        )
    return out.getvalue().encode("utf-8-sig")


def odk_xlsx(wave: Wave, rows: list[dict[str, str]], path: Path) -> Path:
    """An ODK Central export (group prefixes joined by "-") saved as XLSX."""
    columns = [(f"{s.id}-{i.id}", i.id) for s in wave_sections(wave) for i in s.items]
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(
        [
            "SubmissionDate",
            *(c for c, _ in columns),
            "meta-instanceID",
            "KEY",
            "SubmitterID",
            "DeviceID",
            "FormVersion",
        ]
    )
    for n, row in enumerate(rows):
        answers = _answers(wave) | row
        key = f"uuid:{uuid.UUID(int=500 + n)}"
        sheet.append(
            [
                "2026-12-02T08:00:00.000Z",
                *(answers.get(i, "") for _, i in columns),
                key,
                key,
                "12",
                "collect:XY",
                wave.instrument.version,
            ]
        )
    workbook.save(path)
    return path


def _run(runner: FlaskCliRunner, *args: str):
    return runner.invoke(main, ["responses", "import", *args])


def _offline(make: Factory, wave: Wave) -> list[Response]:
    make.session.expire_all()
    return list(
        make.session.scalars(
            select(Response).where(Response.wave_id == wave.id).order_by(Response.id)
        )
    )


def test_kobo_csv_imports_good_rows_and_refuses_the_bad_one(
    runner: FlaskCliRunner, make: Factory, tmp_path: Path
) -> None:
    wave = make.wave(modules=["demographics"])
    area = wave.initiative.areas_with_role("treated")[0]
    path = tmp_path / "kobo.csv"
    path.write_bytes(kobo_csv(wave, [{}, {"age_band": "9"}, {"gender": "2", "age_band": "3"}]))
    result = _run(runner, str(wave.id), str(path), "--area", area.code)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "imported 2, refused 1"
    assert lines[1] == "row 3: age_band '9': not one of the question's codes"
    stored = _offline(make, wave)
    assert [r.channel for r in stored] == [Channel.OFFLINE_APP] * 2
    assert {r.area_id for r in stored} == {area.id}
    assert stored[1].status == "complete" and str(stored[1].submitted_on) == "2026-12-01"
    assert stored[1].duration_seconds == 750  # 10:02:11 to 10:14:41, no time of day kept
    genders = make.session.scalars(
        select(Answer.value_code).where(
            Answer.item_id == "gender", Answer.response_id.in_([r.id for r in stored])
        )
    )
    assert sorted(genders) == [1, 2]
    # Nothing of the device, the submitter or the instance id is stored in clear.
    for response in stored:
        assert "uuid" not in response.idempotency_key and "7QZ2K" not in str(vars(response))

    again = _run(runner, str(wave.id), str(path), "--area", area.code)
    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[0] == "imported 0, refused 1"
    assert "2 row(s) were imported before" in again.output
    assert len(_offline(make, wave)) == 2


def test_odk_central_xlsx_with_one_bad_row(
    runner: FlaskCliRunner, make: Factory, tmp_path: Path
) -> None:
    wave = make.wave()
    required = next(i for s in wave_sections(wave) for i in s.items if i.required and not i.show_if)
    path = odk_xlsx(wave, [{}, {required.id: ""}, {}], tmp_path / "central.xlsx")
    result = _run(runner, str(wave.id), str(path))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "imported 2, refused 1",
        f"row 3: {required.id}: required but empty",
    ]
    stored = _offline(make, wave)
    assert [str(r.submitted_on) for r in stored] == ["2026-12-02"] * 2
    assert _run(runner, str(wave.id), str(path)).output.startswith("imported 0, refused 1")
    assert len(_offline(make, wave)) == 2


def test_a_code_used_on_the_web_is_refused_on_paper(
    runner: FlaskCliRunner, make: Factory, tmp_path: Path
) -> None:
    wave = make.wave()
    used, used_invitation = make.invitation(wave)
    fresh, fresh_invitation = make.invitation(wave)
    make.use(used_invitation)
    path = tmp_path / "kobo.csv"
    rows = [{"code": used}, {"code": fresh.lower()}, {"code": fresh}, {"code": "NOTACODE"}]
    path.write_bytes(kobo_csv(wave, rows, code_column=True))
    result = _run(runner, str(wave.id), str(path))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "imported 1, refused 3",
        "row 2: the invitation code has already been used",
        "row 4: the invitation code has already been used",
        "row 5: the invitation code is not one of this wave's codes",
    ]
    stored = _offline(make, wave)
    assert len(stored) == 1 and stored[0].area_id == fresh_invitation.area_id


def test_unreadable_files_and_unknown_waves_fail_with_a_message(
    runner: FlaskCliRunner, make: Factory, tmp_path: Path
) -> None:
    wave = make.wave()
    bad = tmp_path / "photo.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a workbook")
    result = _run(runner, str(wave.id), str(bad))
    assert result.exit_code != 0 and "not a readable XLSX workbook" in result.output
    other = tmp_path / "other.csv"
    other.write_text("name,age\nAnna,31\n")
    result = _run(runner, str(wave.id), str(other))
    assert result.exit_code != 0 and "no column of the file is a question" in result.output
    result = _run(runner, "999999", str(other))
    assert result.exit_code != 0 and "There is no wave 999999" in result.output
    count = make.session.scalar(select(func.count()).select_from(Response))
    assert count == 0
