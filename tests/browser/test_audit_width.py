"""The audit log fits a laptop screen (issue 20 item 9: it was wider than 1280 px)."""

from __future__ import annotations

from playwright.sync_api import Browser

from surveyapp.audit import record
from surveyapp.extensions import db
from surveyapp.models import Role

from .conftest import LiveServer

PASSWORD = "correct horse battery"
LAPTOP = {"width": 1280, "height": 800}


def test_the_audit_log_fits_a_laptop_screen(browser: Browser, live_server: LiveServer) -> None:
    live = live_server
    with live.app.app_context():
        make = live.factory()
        wave = make.wave(languages=["en", "fr"])
        city = wave.initiative.city
        long_address = "a.very.long.mailbox.name.for.the.team@" + "x" * 60 + ".example"
        admin = make.user(city, role=Role.ADMIN, email=long_address, password=PASSWORD)
        per_area = {f"AREA-{n:03d}-WITH-A-LONG-CODE": n for n in range(40)}
        record(db.session, admin, city.id, "codes_generated", "wave", wave.id, per_area=per_area)
        record(db.session, admin, city.id, "dataset_downloaded", "wave", wave.id, shape=[9] * 60)
        db.session.commit()
        email, city_id = admin.email, city.id
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.goto(f"{live.url}/staff/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()
    page.goto(f"{live.url}/staff/cities/{city_id}/audit")
    assert "Made invitation codes" in page.locator("table.audit").inner_text()
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
        " > document.documentElement.clientWidth).map(e => e.tagName + '.' + e.className"
        " + ':' + Math.round(e.getBoundingClientRect().right)).slice(0, 12)"
    )
    assert overflow <= 0, (overflow, wide)
    context.close()
