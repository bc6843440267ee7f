"""Every resident page type passes axe-core at a phone viewport, in English and in Arabic.

Also checked in the real browser: nothing scrolls sideways at 320 px, buttons and answer
rows are at least 44 px tall, and no request leaves the site.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from surveyapp.models import WaveStatus

from .conftest import AXE_OPTIONS, LiveServer, new_phone, watch_requests

AXE = Axe()


@pytest.fixture(scope="module")
def site(live_server: LiveServer) -> dict[str, str]:
    """A wave with every item type, a closed wave, a used code and an unused one."""
    with live_server.app.app_context():
        make = live_server.factory()
        wave = make.wave(
            languages=["en", "ar"], modules=["demographics", "victimisation", "attention_check"]
        )
        closed = make.wave(status=WaveStatus.CLOSED, languages=["en", "ar"])
        # One code per language: a resumed draft keeps the language it was started in.
        code_en, _ = make.invitation(wave)
        code_ar, _ = make.invitation(wave)
        used, invitation = make.invitation(wave)
        make.use(invitation)
        from surveyapp.instruments.registry import wave_sections

        demographics = 1 + [s.id for s in wave_sections(wave)].index("demographics")
        return {
            "token": wave.open_token,
            "closed": closed.open_token,
            "code-en": code_en,
            "code-ar": code_ar,
            "used": used,
            "demographics": str(demographics),
            "review": str(len(wave_sections(wave)) + 1),
        }


def lang(page: Page) -> str:
    """The phone's language ("en" or "ar"), which picks the invitation code to use."""
    return page.evaluate("navigator.language")[:2]


def _start(page: Page, live: LiveServer, site: dict[str, str]) -> None:
    page.goto(f"{live.url}/i/{site['code-' + lang(page)]}")
    if "/i/" in page.url and page.url.rstrip("/").endswith(site["code-" + lang(page)]):
        with page.expect_navigation():
            page.locator("button[type=submit]").click()


def _submit(page: Page, selector: str) -> None:
    with page.expect_navigation():
        page.locator(selector).click()


# Each page type, reached as a resident reaches it.
PAGES: dict[str, Callable[[Page, LiveServer, dict[str, str]], None]] = {
    "code entry": lambda p, live, s: p.goto(live.url + "/"),
    "code entry, unknown code": lambda p, live, s: (
        p.goto(live.url + "/"),
        p.fill("#code", "ZZZZ-ZZZZ"),
        _submit(p, "button[type=submit]"),
    ),
    "consent": lambda p, live, s: p.goto(f"{live.url}/w/{s['token']}"),
    "neighbourhood question": lambda p, live, s: (
        p.goto(f"{live.url}/w/{s['token']}"),
        _submit(p, "button[type=submit]"),
    ),
    "neighbourhood question unanswered": lambda p, live, s: (
        p.goto(f"{live.url}/w/{s['token']}"),
        _submit(p, "button[type=submit]"),
        _submit(p, "button[type=submit]"),
    ),
    "question page": lambda p, live, s: _start(p, live, s),
    "question page with errors": lambda p, live, s: (
        _start(p, live, s),
        _submit(p, "button[value=next]"),
    ),
    "number and text questions": lambda p, live, s: (
        _start(p, live, s),
        p.goto(f"{live.url}/i/{s['code-' + lang(p)]}/{s['demographics']}"),
    ),
    "review": lambda p, live, s: (
        _start(p, live, s),
        p.goto(f"{live.url}/i/{s['code-' + lang(p)]}/{s['review']}"),
    ),
    "open link question page": lambda p, live, s: (
        p.goto(f"{live.url}/w/{s['token']}"),
        _submit(p, "button[type=submit]"),
        p.locator("label[for=area-dont_know]").click(),
        _submit(p, "button[type=submit]"),
    ),
    "thanks": lambda p, live, s: p.goto(live.url + "/thanks"),
    "closed survey": lambda p, live, s: p.goto(f"{live.url}/w/{s['closed']}"),
    "code already used": lambda p, live, s: p.goto(f"{live.url}/i/{s['used']}"),
    "unknown link": lambda p, live, s: p.goto(f"{live.url}/w/no-such-survey"),
    "page not found": lambda p, live, s: p.goto(f"{live.url}/nothing/here"),
}


@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize("kind", list(PAGES))
def test_resident_page_is_accessible_on_a_phone(
    browser: Browser, live_server: LiveServer, site: dict[str, str], kind: str, language: str
) -> None:
    context = new_phone(browser, locale=language)
    try:
        page = context.new_page()
        foreign = watch_requests(page, live_server)
        PAGES[kind](page, live_server, site)
        html = page.locator("html")
        assert html.get_attribute("lang") == language
        assert html.get_attribute("dir") == ("rtl" if language == "ar" else "ltr")

        results = AXE.run(page, options=AXE_OPTIONS)
        assert results.violations_count == 0, results.generate_report()

        page.set_viewport_size({"width": 320, "height": 640})
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{kind} scrolls sideways by {overflow}px at 320px"
        small = page.evaluate(
            """() => [...document.querySelectorAll('button, .options li, input:not([type=hidden])')]
                .filter(e => !['radio', 'checkbox'].includes(e.type))
                .filter(e => e.getClientRects().length > 0)
                .filter(e => e.getBoundingClientRect().height < 44)
                .map(e => e.outerHTML.slice(0, 80))"""
        )
        assert small == [], small
        assert foreign == []
    finally:
        context.close()


def test_the_axe_check_does_catch_a_broken_page(
    browser: Browser, live_server: LiveServer, site: dict[str, str]
) -> None:
    """Guards the test above: axe runs on our pages and does report a real violation."""
    context = new_phone(browser)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/w/{site['token']}")
        page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<input>')")
        results = AXE.run(page, options=AXE_OPTIONS)
        rules = {v["id"] for v in results.response["violations"]}
        assert "label" in rules
    finally:
        context.close()
