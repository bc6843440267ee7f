"""Reminder letters: only for the unused codes of a kept CSV, and nothing of it is stored."""

from __future__ import annotations

import csv
import io
import re
import time
import zipfile
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import event, func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from surveyapp.cli import main
from surveyapp.console import reminder_jobs, reminders
from surveyapp.instruments.registry import wave_sections
from surveyapp.models import (
    AuditEvent,
    Invitation,
    Job,
    LetterBatch,
    Response,
    UsedInvitations,
    Wave,
    WaveStatus,
)
from surveyapp.respond.codes import generate_code, hash_code, normalize_code
from tests.letters import letters_zip

from ..conftest import TEST_CODE_KEY, Factory, complete_answers, sign_in
from ..resident import Resident
from .test_views import qr_codes_in_pdf

ADDRESS_COLUMNS = ["name", "street", "postcode", "town"]


def _letters(client: FlaskClient, wave: Wave, per_area: dict[int, int]) -> list[dict[str, str]]:
    """Codes made through the console's letters route: the rows of its codes.csv."""
    data = {f"area-{area}": str(n) for area, n in per_area.items()} | {"language": "en"}
    archive = letters_zip(client, f"/staff/waves/{wave.id}/invitations", data)
    return list(csv.DictReader(io.StringIO(archive.read("codes.csv").decode("utf-8-sig"))))


def _answer(app: Flask, wave: Wave, code: str) -> None:
    """A resident answers with the code from their letter."""
    resident = Resident(app.test_client())
    assert resident.open(f"/i/{normalize_code(code)}") == 200
    resident.consent()
    for section in wave_sections(wave):
        assert resident.submit(complete_answers([section])) == 303


def _merged(rows: list[list[str]], header: list[str], *, delimiter: str = ";") -> bytes:
    """A mail-merge file as Excel writes it in a European locale: BOM, semicolons."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _upload(client: FlaskClient, wave: Wave, data: bytes, language: str = "en") -> Any:
    """Post the file as a browser does (encoded in memory: the test client would spool
    a large body to a temporary file and leave it open when the app refuses it)."""
    boundary, body = encode_multipart(
        {"language": language, "file": FileStorage(io.BytesIO(data), "merged.csv")}
    )
    posted = client.post(
        f"/staff/waves/{wave.id}/reminders",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    if posted.status_code != 303 or "/staff/jobs/" not in posted.location:
        return posted
    # A job lays the letters out (at once in the test app's queue); its page links the ZIP.
    assert "The reminder letters are ready" in client.get(posted.location).get_data(as_text=True)
    return client.get(f"{posted.location}/letters.zip")


def _state(make: Factory) -> tuple:
    """Everything a reminder could have written, except the audit trail."""
    make.session.expire_all()
    session = make.session
    return (
        session.scalar(select(func.count(Invitation.id))),
        tuple(session.scalars(select(Invitation.code_hash).order_by(Invitation.id))),
        session.scalar(select(func.count(LetterBatch.id))),
        session.scalar(select(func.count(Response.id))),
        tuple(
            (u.wave_id, u.area_id, tuple(u.invitation_ids))
            for u in session.scalars(select(UsedInvitations).order_by(UsedInvitations.area_id))
        ),
    )


def _audit(make: Factory) -> list[AuditEvent]:
    make.session.expire_all()
    query = select(AuditEvent).where(AuditEvent.action == "reminders_made")
    return list(make.session.scalars(query))


def test_reminders_go_only_to_unused_codes_and_keep_the_address_columns(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    wave = make.wave(mode="invitation")
    treated = wave.initiative.areas_with_role("treated")[0]
    comparison = wave.initiative.areas_with_role("comparison")[0]
    wave_id = wave.id
    sign_in(client, make.user(wave.initiative.city))
    codes = _letters(client, wave, {treated.id: 4, comparison.id: 2})
    wave = make.session.get(Wave, wave_id)
    _answer(app, wave, codes[0]["code"])
    _answer(app, wave, codes[4]["code"])
    # The city's mail merge: addresses first, the platform's columns after.
    rows = [
        [f"Résident {n}", f"Rue de l'Église {n}", "06000", "Nice", row["code"], row["area_code"]]
        for n, row in enumerate(codes)
    ]
    rows[2][4] = normalize_code(rows[2][4]).lower()  # typed again by hand: still matches
    unknown = generate_code()
    rows += [
        ["Stranger", "Elsewhere 1", "06000", "Nice", unknown, "X"],  # line 8
        ["Typo", "Rue 2", "06000", "Nice", "HELLO", "X"],  # line 9
        ["Twice", "Rue 3", "06000", "Nice", codes[1]["code"], "X"],  # line 10
    ]
    header = [*ADDRESS_COLUMNS, "code", "area_code"]
    before = _state(make)

    download = _upload(client, wave, _merged(rows, header))

    assert download.status_code == 200, download.get_data(as_text=True)[:800]
    assert download.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    text = archive.read("reminders.csv").decode("utf-8-sig")
    back = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert back[0] == header
    assert back[1:] == [rows[1], rows[2], rows[3], rows[5]]  # unused, in the file's order
    pdf = archive.read("reminders.pdf")
    document = pypdfium2.PdfDocument(pdf)
    assert len(document) == 4
    assert qr_codes_in_pdf(pdf, 0) == [codes[1]["url"]]
    assert qr_codes_in_pdf(pdf, 3) == [codes[5]["url"]]
    page = document[1].get_textpage().get_text_range()
    assert "A reminder" in page and codes[2]["code"] in "".join(page.split())
    document.close()
    summary = archive.read("summary.txt").decode("utf-8")
    assert (
        "9 rows: 4 unused → reminders; 2 used; 1 not codes of this wave; "
        "1 without a valid code; 1 repeated." in summary
    )
    assert "not this wave's: 8" in summary and "without a valid code: 9" in summary
    assert "earlier line: 10" in summary
    # Nothing stored but one audit event with counts: no code, no line, no address.
    assert _state(make) == before
    (audit,) = _audit(make)
    assert audit.details == {
        "rows": 9,
        "reminders": 4,
        "used": 2,
        "unknown": 1,
        "malformed": 1,
        "repeated": 1,
        "language": "en",
    }


def test_reminders_follow_the_chosen_language_and_a_comma_file_without_bom(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave(mode="invitation")
    area = wave.initiative.areas_with_role("treated")[0]
    sign_in(client, make.user(wave.initiative.city))
    codes = _letters(client, wave, {area.id: 2})
    wave = make.session.get(Wave, wave.id)
    kept = "\n".join(["area_code,code,url", *(f"{r['area_code']},{r['code']},x" for r in codes)])
    download = _upload(client, wave, kept.encode(), language="fr")
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    assert archive.read("reminders.csv").decode("utf-8-sig").splitlines()[0] == "area_code,code,url"
    document = pypdfium2.PdfDocument(archive.read("reminders.pdf"))
    assert len(document) == 2
    page = document[0].get_textpage().get_text_range()
    assert "Madame, Monsieur" in page and "A reminder" not in page
    document.close()


def test_a_file_without_unused_codes_gives_counts_and_no_letters(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave(mode="invitation")
    code, invitation = make.invitation(wave)
    make.use(invitation)
    sign_in(client, make.user(wave.initiative.city))
    data = _merged([[code], ["NOT-A-CODE"]], ["Code"])
    page = _upload(client, wave, data)
    assert page.status_code == 200 and page.mimetype == "text/html"
    body = page.get_data(as_text=True)
    assert "2 rows: 0 unused → reminders; 1 used" in body
    assert "without a valid code: 3" in body
    assert len(_audit(make)) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"PK\x03\x04\x14\x00rest of a workbook", "Excel workbook, not a CSV"),
        (b"name;street\nA;B\n", "no “code” column; its columns are: name, street"),
        (b"code\nKX7R\x00PCMT\n", "Line 2 is not text"),
        ("code;town\nACDEFGHJKM;Liège\n".encode("latin-1"), "Line 2 is not UTF-8 text"),
        (b"code\n", "no rows under its first line"),
        (b'code;town\nACDEFGHJKM;"Nice\nACDEFGHJKN;x\n' + b"x" * 200_000, "cannot be read as CSV"),
    ],
)
def test_a_bad_file_is_refused_with_what_is_wrong_and_nothing_changes(
    client: FlaskClient, make: Factory, data: bytes, message: str
) -> None:
    wave = make.wave(mode="invitation")
    make.invitation(wave)
    sign_in(client, make.user(wave.initiative.city))
    before = _state(make)
    page = _upload(client, wave, data)
    assert page.status_code == 422
    body = page.get_data(as_text=True)
    assert "No reminder letters were made" in body and message in body, body[:3000]
    assert _state(make) == before and not _audit(make)


def test_too_many_rows_or_bytes_are_refused(
    client: FlaskClient, make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    wave = make.wave(mode="invitation")
    sign_in(client, make.user(wave.initiative.city))
    rows = _merged([[generate_code()] for _ in range(30)], ["code"])
    monkeypatch.setattr(reminders, "MAX_ROWS", 20)
    assert "more than 20 rows" in _upload(client, wave, rows).get_data(as_text=True)
    monkeypatch.setattr(reminders, "MAX_BYTES", 1024 * 1024)
    big = _merged([[generate_code(), "x" * 100] for _ in range(9_500)], ["code", "note"])
    assert 1024 * 1024 < len(big) < 1024 * 1024 + 64 * 1024
    refused = _upload(client, wave, big)
    assert refused.status_code == 422 and "larger than 1 MB" in refused.get_data(as_text=True)
    huge = _upload(client, wave, big + b"y" * 100_000)
    assert huge.status_code == 413
    assert not _audit(make)


def test_more_reminders_than_one_request_lays_out_point_to_parts_or_the_cli(
    client: FlaskClient, make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    wave = make.wave(mode="invitation")
    kept = [make.invitation(wave)[0] for _ in range(3)]
    sign_in(client, make.user(wave.initiative.city))
    monkeypatch.setattr(reminder_jobs, "MAX_REMINDERS", 2)
    page = _upload(client, wave, _merged([[code] for code in kept], ["code"]))
    assert page.status_code == 422
    body = page.get_data(as_text=True)
    assert "3 codes need reminders, more than 2 at a time here" in body
    assert "surveyapp invitations remind" in body and not _audit(make)


def test_reminders_need_an_open_wave_and_the_wave_s_own_city(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave(mode="invitation")
    code, _invitation = make.invitation(wave)
    data = _merged([[code]], ["code"])
    sign_in(client, make.user(make.city(name="Elsewhere")))
    assert _upload(client, wave, data).status_code == 404
    sign_in(client, make.user(wave.initiative.city))
    wave = make.session.get(Wave, wave.id)
    wave.status = WaveStatus.CLOSED
    make.session.commit()
    closed = _upload(client, wave, data)
    assert closed.status_code == 422 and "The wave is closed" in closed.get_data(as_text=True)
    assert not _audit(make)


def test_the_wave_page_offers_reminders_once_letters_exist(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave(mode="invitation")
    area = wave.initiative.areas_with_role("treated")[0]
    sign_in(client, make.user(wave.initiative.city))
    assert "Reminder letters" not in client.get(f"/staff/waves/{wave.id}").get_data(as_text=True)
    _letters(client, wave, {area.id: 1})
    page = client.get(f"/staff/waves/{wave.id}").get_data(as_text=True)
    assert "Reminder letters" in page and f"/staff/waves/{wave.id}/reminders" in page


def test_the_cli_makes_the_same_reminders(runner: Any, make: Factory, tmp_path: Path) -> None:
    wave = make.wave(mode="invitation")
    unused, _invitation = make.invitation(wave)
    used, invitation = make.invitation(wave)
    make.use(invitation)
    kept = tmp_path / "kept.csv"
    kept.write_bytes(_merged([["A", unused], ["B", used]], ["name", "code"]))
    out = tmp_path / "reminders.zip"
    result = runner.invoke(
        main,
        ["invitations", "remind", str(wave.id), str(kept), "--language", "en", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "2 rows: 1 unused → reminders; 1 used" in result.output
    archive = zipfile.ZipFile(out)
    assert archive.read("reminders.csv").decode("utf-8-sig").splitlines()[1] == f"A;{unused}"
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"name\nA\n")
    refused = runner.invoke(
        main,
        ["invitations", "remind", str(wave.id), str(bad), "--language", "en", "--out", str(out)],
    )
    assert refused.exit_code != 0 and "no “code” column" in refused.output
    assert len(_audit(make)) == 1


def test_a_few_thousand_rows_take_a_few_queries_and_seconds(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave(mode="invitation")
    area = wave.initiative.areas_with_role("treated")[0]
    codes = [generate_code() for _ in range(3_000)]
    make.session.add_all(
        Invitation(wave_id=wave.id, area_id=area.id, code_hash=hash_code(c, key=TEST_CODE_KEY))
        for c in codes
    )
    make.session.commit()
    ids = list(make.session.scalars(select(Invitation.id).where(Invitation.wave_id == wave.id)))
    make.session.add(UsedInvitations(wave_id=wave.id, area_id=area.id, invitation_ids=ids[40:]))
    make.session.commit()
    rows = [[f"Resident {n}", f"Street {n}", c] for n, c in enumerate(codes)]
    rows += [[f"Stranger {n}", "Nowhere", generate_code()] for n in range(500)]
    sign_in(client, make.user(wave.initiative.city))
    statements: list[str] = []
    engine = make.session.get_bind().engine

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    started = time.perf_counter()
    try:
        download = _upload(client, wave, _merged(rows, ["name", "street", "code"]))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    elapsed = time.perf_counter() - started
    assert download.status_code == 200, download.get_data(as_text=True)[:800]
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    assert "3,500 rows: 40 unused → reminders; 2,960 used; 500 not codes" in archive.read(
        "summary.txt"
    ).decode("utf-8")
    assert len(archive.read("reminders.csv").decode("utf-8-sig").splitlines()) == 41
    # Codes are looked up 500 at a time: a dozen lookups, not one per row.
    assert len(statements) < 60, len(statements)
    assert elapsed < 60, elapsed


def test_a_mail_merge_file_larger_than_other_uploads_passes_the_csrf_check(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    wave = make.wave(mode="invitation")
    area = wave.initiative.areas_with_role("treated")[0]
    sign_in(client, make.user(wave.initiative.city))
    codes = _letters(client, wave, {area.id: 1})
    page = client.get(f"/staff/waves/{wave.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    rows = [["Resident", "Street " + "x" * 100, codes[0]["code"]]]
    rows += [["Stranger", "Street " + "x" * 100, generate_code()] for _ in range(2_500)]
    data = _merged(rows, ["name", "street", "code"])
    assert len(data) > 256 * 1024  # far above the app's 64 KB for other requests
    boundary, body = encode_multipart(
        {
            "csrf_token": token.group(1),
            "language": "en",
            "file": FileStorage(io.BytesIO(data), "merged.csv"),
        }
    )
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        download = client.post(
            f"/staff/waves/{wave.id}/reminders",
            data=body,
            content_type=f"multipart/form-data; boundary={boundary}",
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert download.status_code == 303 and "/staff/jobs/" in download.location
    download = client.get(f"{download.location}/letters.zip")
    assert download.status_code == 200 and download.mimetype == "application/zip"


def test_the_server_keeps_reminders_unreadable_addresses_and_no_codes(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    wave = make.wave(mode="invitation")
    area = wave.initiative.areas_with_role("treated")[0]
    user = make.user(wave.initiative.city)
    sign_in(client, user)
    codes = _letters(client, wave, {area.id: 2})
    rows = [["Anne Peeters", "Rue de la Loi 16", codes[0]["code"]]]
    download = _upload(client, wave, _merged(rows, ["name", "street", "code"]))
    assert "Rue de la Loi 16" in zipfile.ZipFile(io.BytesIO(download.data)).read(
        "reminders.csv"
    ).decode("utf-8-sig")
    make.session.expire_all()
    job = make.session.scalars(select(Job).where(Job.kind == "reminders")).one()
    # The database holds the address rows encrypted, and the codes only inside the PDF.
    assert job.sealed and b"Rue de la Loi" not in job.sealed and b"Peeters" not in job.sealed
    assert "letters" not in job.params and codes[0]["code"] not in str(job.params)
    # The same account in another browser gets the letters, not the addresses.
    other = app.test_client()
    sign_in(other, user)
    elsewhere = zipfile.ZipFile(io.BytesIO(other.get(f"/staff/jobs/{job.id}/letters.zip").data))
    assert "reminders.csv" not in elsewhere.namelist()
    assert "reminders-csv-not-included.txt" in elsewhere.namelist()
    assert elsewhere.read("reminders.pdf").startswith(b"%PDF")
    # Deleted: nothing of the upload is left.
    assert client.post(f"/staff/jobs/{job.id}/cancel").status_code == 303
    make.session.expire_all()
    job = make.session.get(Job, job.id)
    assert job.result is None and job.sealed is None
    gone = client.get(f"/staff/jobs/{job.id}/letters.zip")
    assert gone.status_code == 303
    assert "no longer kept" in client.get(gone.location).get_data(as_text=True)


def test_reminder_letters_can_print_a_second_language_on_the_same_page(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave(mode="invitation")
    area = wave.initiative.areas_with_role("treated")[0]
    sign_in(client, make.user(wave.initiative.city))
    codes = _letters(client, wave, {area.id: 2})
    boundary, body = encode_multipart(
        {
            "language": "en",
            "second_language": "fr",
            "file": FileStorage(
                io.BytesIO(_merged([[c["code"]] for c in codes], ["code"])), "m.csv"
            ),
        }
    )
    started = client.post(
        f"/staff/waves/{wave.id}/reminders",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert started.status_code == 303 and "/staff/jobs/" in started.location
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"{started.location}/letters.zip").data))
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(archive.read("reminders.pdf"))).pages]
    assert len(pages) == 2
    assert all("Dear resident," in text and "Madame, Monsieur," in text for text in pages)
