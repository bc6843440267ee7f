"""A city's fieldwork from the console in a real browser, with a real job worker.

An admin invites a colleague, who signs up and sends 2,000 letters made in the background
(watching their progress), confirms the batch, enters two paper questionnaires (one with
a letter's code), uploads the mail merge back and gets reminders for the unused codes
only, then imports a KoboToolbox export whose bad row is refused with its reason.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

from playwright.sync_api import Browser, Page
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.instruments.registry import wave_sections
from surveyapp.models import Channel, Response, Role, Wave

from ..cli.test_responses_import import kobo_csv
from ..conftest import complete_answers
from .conftest import LiveServer
from .jobs import WAIT_MS
from .test_console_e2e import PASSWORD, TABLET, _sign_in, _submit

LETTERS = {"Harbour": 1200, "Hill": 800}


def _rows(data: bytes, delimiter: str = ",") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=delimiter))


def _paper_sheet(page: Page, wave: Wave, sheet: str, *, code: str = "", area: str = "") -> None:
    """Type a paper questionnaire in, field by field, as staff do from the sheet."""
    page.fill("#sheet", sheet)
    if area:
        page.select_option("#area", label=area)
    if code:
        page.fill("#code", code)
    for name, value in complete_answers(wave_sections(wave)).items():
        page.fill(f"#{name}", value)
    _submit(page, "#paper-entry button[type=submit]")
    assert "Questionnaire saved." in page.content(), page.content()[:2000]


def test_a_new_colleague_runs_letters_reminders_paper_and_offline_answers(
    browser: Browser, live_server: LiveServer
) -> None:
    live = live_server
    with live.app.app_context():
        make = live.factory()
        make.instrument_row()
        city = make.city(name="Fieldtown", languages=["en"])
        harbour = make.area(city, name="Harbour", code="HAR")
        hill = make.area(city, name="Hill", code="HIL")
        wave = make.citywide_wave(city, [harbour, hill], mode="invitation", languages=["en"])
        admin = make.user(city, role=Role.ADMIN)
        city_id, wave_id, admin_email = city.id, wave.id, admin.email

    # The admin invites a colleague; the link is shown once.
    context = browser.new_context(viewport=TABLET, accept_downloads=True)
    page = context.new_page()
    _sign_in(page, live, admin_email)
    page.goto(f"{live.url}/staff/cities/{city_id}/team")
    page.fill("#invite-email", "nadia@fieldtown.example")
    page.select_option("#invite-role", "coordinator")
    _submit(page, "button:has-text('Make invitation link')")
    link = page.locator("#link-value").input_value()
    context.close()

    # The colleague signs up from the link, on their own computer.
    staff = browser.new_context(viewport=TABLET, accept_downloads=True)
    page = staff.new_page()
    page.goto(link)
    page.fill("#display_name", "Nadia El Amrani")
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    _submit(page, "button:has-text('Create my account')")
    assert page.url == f"{live.url}/staff/"

    # 2,000 letters in one action, made by the worker while the page shows progress.
    wave_url = f"{live.url}/staff/waves/{wave_id}"
    page.goto(wave_url)
    for area, n in LETTERS.items():
        page.get_by_label(f"Letters for {area}").fill(str(n))
    _submit(page, "button:has-text('Make codes and letters')")
    assert "/staff/jobs/" in page.url
    job_url = page.url
    page.wait_for_function(
        "() => { const p = document.querySelector('progress');"
        " return p && p.value > 0 && p.value < 2000; }",
        timeout=WAIT_MS,
    )
    assert re.search(r"Laying out the letters: \d+ of 2000", page.content())
    page.reload()  # the progress survives reloading
    page.locator("#download-letters").wait_for(timeout=10 * WAIT_MS)
    with page.expect_download() as got:
        page.locator("#download-letters").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(got.value.path()).read_bytes()))
    pdfs = [n for n in archive.namelist() if n.endswith(".pdf")]
    assert len(pdfs) == 8 and all(archive.read(n).startswith(b"%PDF") for n in pdfs)
    codes_csv = archive.read("codes.csv")
    letters = _rows(codes_csv)
    assert len(letters) == 2000
    assert {a: sum(r["area_name"] == a for r in letters) for a in LETTERS} == LETTERS
    _submit(page, "#confirm-sent")
    assert "Sent on" in page.content()

    # Two paper questionnaires: one sent back with a letter's code, one without.
    page.goto(wave_url)
    page.get_by_role("link", name="Paper and offline answers").click()
    with live.app.app_context():
        found = db.session.get(Wave, wave_id)
        _paper_sheet(page, found, "P-1", code=letters[0]["code"])
        _paper_sheet(page, found, "P-2", area="HIL – Hill")

    # The mail merge back: reminders only for the 1,999 codes not used.
    page.goto(wave_url)
    page.set_input_files(
        "#reminder-file",
        files=[{"name": "merged.csv", "mimeType": "text/csv", "buffer": codes_csv}],
    )
    _submit(page, "button:has-text('Make reminder letters')")
    assert "/staff/jobs/" in page.url and page.url != job_url
    page.locator("#download-letters").wait_for(timeout=10 * WAIT_MS)
    assert "1,999 unused" in page.content() or "1999" in page.content()
    with page.expect_download() as got:
        page.locator("#download-letters").click()
    reminders = zipfile.ZipFile(io.BytesIO(Path(got.value.path()).read_bytes()))
    reminded = {r["code"] for r in _rows(reminders.read("reminders.csv"))}
    assert len(reminded) == 1999 and letters[0]["code"] not in reminded
    _submit(page, "#delete-reminders")

    # A KoboToolbox export of the offline form: one good row, one refused with its reason.
    with live.app.app_context():
        export = kobo_csv(db.session.get(Wave, wave_id), [{}, {"ppltrst": "x"}])
    export = export.replace(b"meta/instanceID", b"area;meta/instanceID", 1)
    export = b"\n".join(
        line if n == 0 else line.replace(b";uuid:", b";HAR;uuid:", 1)
        for n, line in enumerate(export.split(b"\n"))
    )
    page.goto(wave_url)
    page.get_by_role("link", name="Paper and offline answers").click()
    page.set_input_files(
        "#file", files=[{"name": "kobo.csv", "mimeType": "text/csv", "buffer": export}]
    )
    _submit(page, "button:has-text('Import')")
    report = page.locator("#import-report").inner_text()
    assert "imported 1, refused 1" in report and "row 3: ppltrst" in report

    with live.app.app_context():
        channels = dict(
            db.session.execute(
                select(Response.channel, func.count())
                .where(Response.wave_id == wave_id)
                .group_by(Response.channel)
            ).all()
        )
    assert channels == {Channel.PAPER: 2, Channel.OFFLINE_APP: 1}
    staff.close()
