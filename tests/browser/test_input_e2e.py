"""Typing as residents do, in a real browser: an Arabic-Indic code; a Belgian phone in Dutch."""

from __future__ import annotations

from playwright.sync_api import Browser

from surveyapp.respond.codes import format_code

from .conftest import PHONE, LiveServer, new_phone

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def test_a_code_typed_in_arabic_indic_digits_opens_the_questionnaire(
    browser: Browser, live_server: LiveServer
) -> None:
    with live_server.app.app_context():
        make = live_server.factory()
        wave = make.wave(languages=["en", "ar"])
        code, _invitation = make.invitation(wave)
        while not any(c.isdigit() for c in code):  # a code may hold letters only
            code, _invitation = make.invitation(wave)
    typed = format_code(code).translate(ARABIC_INDIC)
    assert typed != format_code(code)  # codes may contain digits (3, 4, 6, 7, 9)
    phone = new_phone(browser, locale="ar")
    page = phone.new_page()
    page.goto(live_server.url + "/")
    page.locator("#code").press_sequentially(typed)  # key by key, as on an Arabic keyboard
    with page.expect_navigation():
        page.locator("button[type=submit]").tap()
    assert page.url.endswith(f"/i/{code}")
    assert page.locator("html").get_attribute("lang") == "ar"
    assert page.locator("form input[name=idempotency_key]").count() == 1  # the consent form
    phone.close()


def test_a_belgian_phone_gets_dutch_when_the_wave_offers_it(
    browser: Browser, live_server: LiveServer
) -> None:
    with live_server.app.app_context():
        make = live_server.factory()
        token = make.wave(languages=["en", "fr", "nl"]).open_token
    for header in ("nl-BE,fr;q=0.5", None):  # the header; Chromium's own for nl-BE
        phone = browser.new_context(
            viewport=PHONE,
            is_mobile=True,
            has_touch=True,
            locale="nl-BE",
            extra_http_headers={"Accept-Language": header} if header else None,
        )
        page = phone.new_page()
        page.goto(f"{live_server.url}/w/{token}")
        assert page.locator("html").get_attribute("lang") == "nl", header
        phone.close()
