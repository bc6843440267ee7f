"""Opening a wave in a draft translation (issue 26 item 1), in a real browser: the warning,
the box that must be ticked, and the audit log that records it."""

from __future__ import annotations

from dataclasses import replace

import pytest
from playwright.sync_api import Browser
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.i18n import catalogs
from surveyapp.models import AuditEvent, Response, Role, Wave, WaveStatus

from .conftest import LiveServer

PASSWORD = "correct horse battery"


@pytest.fixture
def french_is_a_draft(monkeypatch: pytest.MonkeyPatch) -> None:
    """French is a draft translation in this test, whatever the list says today."""
    listed = catalogs.languages

    def languages(translations_dir):
        found = listed(translations_dir)
        return found | {"fr": replace(found["fr"], review="draft")}

    monkeypatch.setattr(catalogs, "languages", languages)


def test_opening_a_wave_in_a_draft_language_needs_the_acknowledgement(
    browser: Browser, live_server: LiveServer, french_is_a_draft: None
) -> None:
    live = live_server
    with live.app.app_context():
        make = live.factory()
        wave = make.wave(status=WaveStatus.DRAFT, languages=["en", "fr"], open_token=None)
        admin = make.user(wave.initiative.city, role=Role.ADMIN, password=PASSWORD)
        wave_id, city_id, email = wave.id, wave.city_id, admin.email
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live.url}/staff/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()

    page.goto(f"{live.url}/staff/waves/{wave_id}")
    warning = page.locator("#draft-warning")
    assert "Draft translations: French." in warning.inner_text()
    box = page.get_by_label("I know that French are draft translations")
    assert box.is_visible() and not box.is_checked()

    # Without the tick the wave stays a draft and the page says which box to tick.
    with page.expect_navigation():
        page.get_by_role("button", name="Open now").click()
    alert = page.locator(".flash.error[role=alert]")
    assert "Open in draft translations: tick the box" in alert.inner_text()
    with live.app.app_context():
        assert db.session.get(Wave, wave_id).status == WaveStatus.DRAFT

    page.get_by_label("I know that French are draft translations").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Open now").click()
    with live.app.app_context():
        db.session.expire_all()
        assert db.session.get(Wave, wave_id).status == WaveStatus.OPEN
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "draft_languages_acknowledged")
        )
        assert event is not None and event.details == {"languages": ["fr"]}

    page.goto(f"{live.url}/staff/cities/{city_id}/audit")
    log = page.locator("table.audit").inner_text()
    assert "Acknowledged draft translations before opening a wave" in log
    assert "Languages: French" in log
    context.close()


def test_a_pretest_comment_is_saved_from_its_box_under_the_question(
    browser: Browser, live_server: LiveServer
) -> None:
    """The boxes belong to a form of their own (HTML's form attribute): a real browser
    sends them, and nothing of the residents' form."""
    live = live_server
    with live.app.app_context():
        make = live.factory()
        wave = make.wave(status=WaveStatus.DRAFT, languages=["en", "fr"])
        user = make.user(wave.initiative.city, password=PASSWORD)
        wave_id, email = wave.id, user.email
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live.url}/staff/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()

    page.goto(f"{live.url}/staff/waves/{wave_id}/pretest?language=fr")
    first = page.locator(".pretest-comment textarea").first
    first.fill("Le mot « confiance » est trop formel.")
    with page.expect_navigation():
        page.get_by_role("button", name="Save comments").click()
    assert "Comments saved: 1." in page.locator(".preview-banner").inner_text()
    page.get_by_role("link", name="Pretest comments").click()
    assert "Le mot « confiance » est trop formel." in page.locator("table").inner_text()
    with live.app.app_context():
        assert db.session.scalar(select(Response.id).where(Response.wave_id == wave_id)) is None
    context.close()
