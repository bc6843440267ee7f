"""Issue 17 end to end: a city-wide round serves two initiatives, with area posters and a
panel whose follow-up letters link households, all set up in a real browser."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from playwright.sync_api import Browser, Page
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.instruments.registry import wave_sections
from surveyapp.models import Area, Response, Role, Wave

from ..console.test_views import qr_codes_in_pdf
from .conftest import LiveServer
from .jobs import letters_from_job
from .test_console_e2e import TABLET, _sign_in, _submit

AREAS = ("Harbour", "Hill", "Market", "Mill", "North", "West")


def _initiative(page: Page, live: LiveServer, city_id: int, name: str, treated: tuple) -> str:
    """Create an initiative treating ``treated`` (comparison left to the default)."""
    page.goto(f"{live.url}/staff/cities/{city_id}/initiatives/new")
    page.fill("#name", name)
    page.locator("label[for='level-1']").click()
    page.locator("label[for='construct-trust']").click()
    page.fill("#target_change", "4")
    group = page.get_by_role("group", name="Areas where the initiative takes place")
    for area in treated:
        group.get_by_label(area).check()
    _submit(page, "main form button[type=submit]")
    assert page.locator("h1").inner_text() == name
    return page.url


def _round(page: Page, live: LiveServer, city_id: int, name: str) -> str:
    """Create and open a city-wide panel round over every area; its page URL."""
    page.goto(f"{live.url}/staff/cities/{city_id}/rounds/new")
    page.fill("#name", name)
    page.locator("label[for='mode-both']").click()
    page.locator("label[for='is_panel']").click()
    _submit(page, "main form button[type=submit]")
    assert page.locator("h1").inner_text() == name
    _submit(page, "button:has-text('Open now')")
    return page.url


def _codes(archive: zipfile.ZipFile) -> list[dict]:
    assert archive.read("letters.pdf").startswith(b"%PDF")
    return list(csv.DictReader(io.StringIO(archive.read("codes.csv").decode("utf-8-sig"))))


def _answer(browser: Browser, live: LiveServer, url: str, wave_id: int) -> None:
    """A resident on a phone answers every question from ``url`` and sends."""
    phone = browser.new_context(viewport={"width": 360, "height": 740})
    resident = phone.new_page()
    resident.goto(url)
    _submit(resident, "button[type=submit]")  # consent
    with live.app.app_context():
        sections = wave_sections(db.session.get(Wave, wave_id))
    for section in sections:
        for item in section.items:
            resident.locator(f"label[for='q-{item.id}-{item.options[-1].code}']").click()
        last = section is sections[-1]
        _submit(resident, "button[value=review]" if last else "button[value=next]")
    _submit(resident, "button[value=send]")
    assert resident.url.endswith("/thanks")
    phone.close()


def test_a_city_wide_panel_round_serves_two_initiatives(
    browser: Browser, live_server: LiveServer
) -> None:
    live = live_server
    with live.app.app_context():
        make = live.factory()
        make.instrument_row()
        city = make.city(name="Roundtown", languages=["en"])
        for name in AREAS:
            make.area(city, name=name, code=name.lower())
        email, city_id = make.user(city, role=Role.COORDINATOR).email, city.id

    staff = browser.new_context(viewport=TABLET, accept_downloads=True)
    page = staff.new_page()
    _sign_in(page, live, email)

    # Two initiatives; each compared by default with the two areas nobody treats, and the
    # planner warns, before any letter, that 2 + 2 areas cannot show a 4-point change.
    hosts = _initiative(page, live, city_id, "Hosts", ("Harbour", "Hill"))
    design = page.locator("#design").locator("..").inner_text()
    assert "With 2 treated and 4 comparison areas" in design  # nobody else treats any yet
    walks = _initiative(page, live, city_id, "Walks", ("Market", "Mill"))
    page.goto(hosts)
    design = page.locator("#design").locator("..").inner_text()
    assert "With 2 treated and 2 comparison areas" in design
    assert "No number of letters can show a change of 4 points" in design

    # A city-wide baseline round: letters for Harbour, and Hill's own poster.
    baseline = _round(page, live, city_id, "Baseline round")
    with live.app.app_context():
        # This test's city only: the live server's database also holds other tests' rows.
        areas = {a.name: a.id for a in db.session.scalars(select(Area).filter_by(city_id=city_id))}
        baseline_id = db.session.scalar(
            select(Wave.id).filter_by(name="Baseline round", city_id=city_id)
        )
    page.get_by_label("Letters for Harbour").fill("2")
    first_letters = _codes(letters_from_job(page, "Make codes and letters"))
    assert len(first_letters) == 2 and all(r["letter_reference"] for r in first_letters)
    page.goto(baseline)
    hill_link = page.locator("table.area-links tr", has_text="Hill").locator("td a").first
    hill_url = hill_link.get_attribute("href")
    with page.expect_download() as poster:
        page.locator("table.area-links tr", has_text="Hill").get_by_role("link").nth(1).click()
    assert qr_codes_in_pdf(Path(poster.value.path()).read_bytes()) == [hill_url]

    _answer(browser, live, first_letters[0]["url"], baseline_id)  # a household by letter
    _answer(browser, live, hill_url, baseline_id)  # a passer-by scanning Hill's poster
    page.goto(baseline)
    _submit(page, "button:has-text('Close')")

    # The follow-up round's letters are made from the baseline's batch.
    follow_up = _round(page, live, city_id, "Follow-up round")
    with live.app.app_context():
        follow_id = db.session.scalar(
            select(Wave.id).filter_by(name="Follow-up round", city_id=city_id)
        )
    page.goto(follow_up)
    second_letters = _codes(letters_from_job(page, "Make follow-up codes and letters"))
    assert {r["letter_reference"] for r in second_letters} == {
        r["letter_reference"] for r in first_letters
    }
    same_household = next(
        r for r in second_letters if r["letter_reference"] == first_letters[0]["letter_reference"]
    )
    _answer(browser, live, same_household["url"], follow_id)

    # Answers landed in their areas, with their area source, and the household is a pair.
    with live.app.app_context():
        rows = db.session.execute(
            select(Response.wave_id, Response.area_id, Response.area_source, Response.panel_id)
            .where(
                Response.status == "complete",
                Response.wave_id.in_([baseline_id, follow_id]),  # the live server's database
            )  # also holds other tests' answers
            .order_by(Response.id)
        ).all()
    assert [(r.wave_id, r.area_id, r.area_source) for r in rows] == [
        (baseline_id, areas["Harbour"], "letter"),
        (baseline_id, areas["Hill"], "area_link"),
        (follow_id, areas["Harbour"], "letter"),
    ]
    assert rows[0].panel_id and rows[0].panel_id == rows[2].panel_id
    assert rows[1].panel_id is None

    # Both initiatives are evaluated from both rounds.
    for url in (hosts, walks):
        page.goto(url)
        text = page.locator("main").inner_text()
        assert "Baseline round" in text and "Follow-up round" in text
        page.goto(url + "/dashboard")
        assert page.locator("h1").count() == 1
    staff.close()
