"""Residents on a real street: a connection that drops, only a keyboard, a last look before
sending. Each test drives Debian's Chromium and checks what the database holds afterwards.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.instruments.registry import wave_sections
from surveyapp.models import Response

from .conftest import LiveServer, new_phone, watch_requests


def _open_link_wave(live: LiveServer) -> tuple[Any, str, int]:
    with live.app.app_context():
        wave = live.factory().wave(languages=["en", "ar"])
        return wave_sections(wave), wave.open_token, wave.id


def _answers(live: LiveServer, wave_id: int) -> tuple[str | None, dict[str, int]]:
    """The status of the wave's one questionnaire and its answers (option codes)."""
    with live.app.app_context():
        response = db.session.scalars(select(Response).where(Response.wave_id == wave_id)).one()
        found = response.status, {a.item_id: a.value_code for a in response.answers}
        db.session.rollback()
        return found


def _tap(page: Page, section: Any, choice: int = 0) -> dict[str, int]:
    """Tap the ``choice``-th option of every question on the page; the codes tapped."""
    tapped = {}
    for item in section.items:
        if item.show_if is None:
            option = item.options[choice % len(item.options)]
            page.locator(f"label[for='q-{item.id}-{option.code}']").click()
            tapped[item.id] = option.code
    return tapped


def _submit(page: Page, selector: str) -> None:
    with page.expect_navigation():
        page.locator(selector).click()


def _start(page: Page, live: LiveServer, token: str) -> None:
    """Consent, then answer the wave-wide link's neighbourhood question ("Don't know")."""
    page.goto(f"{live.url}/w/{token}")
    _submit(page, "button[type=submit]")
    if page.url.endswith("/area"):
        page.locator("label[for=area-dont_know]").click()
        _submit(page, "button[type=submit]")


def test_next_offline_then_back_keeps_the_answers_and_saves_them_when_online(
    browser: Browser, live_server: LiveServer
) -> None:
    live = live_server
    sections, token, wave_id = _open_link_wave(live)
    context = new_phone(browser)
    page = context.new_page()
    foreign = watch_requests(page, live)
    _start(page, live, token)
    _tap(page, sections[0])
    _submit(page, "button[value=next]")
    assert page.url.endswith("/2")
    given = _tap(page, sections[1], choice=2)

    context.set_offline(True)  # the connection drops, unnoticed, and Next is pressed
    page.locator("button[value=next]").click()
    status = page.locator("#connection")
    status.wait_for(state="visible")
    assert "You are offline" in status.inner_text()
    assert page.url.endswith("/2")  # no browser error page: the page and its answers stay
    page.locator("button[value=back]").click()  # then Back, still offline
    page.wait_for_timeout(300)
    assert page.url.endswith("/2")
    assert all(page.locator(f"#q-{i}-{c}").is_checked() for i, c in given.items())

    with page.expect_navigation():
        context.set_offline(False)  # the connection returns: Back is sent by itself
    assert page.url.endswith("/1")
    status_now, stored = _answers(live, wave_id)
    assert status_now == "draft" and {k: stored[k] for k in given} == given

    _submit(page, "button[value=next]")
    assert all(page.locator(f"#q-{i}-{c}").is_checked() for i, c in given.items())
    assert foreign == []
    context.close()


def test_a_send_lost_on_the_way_is_restored_after_back_and_saved_once(
    browser: Browser, live_server: LiveServer
) -> None:
    live = live_server
    sections, token, wave_id = _open_link_wave(live)
    context = new_phone(browser)
    page = context.new_page()
    _start(page, live, token)
    given = _tap(page, sections[0], choice=3)

    # The browser believes it is online, but the request never arrives.
    def drop(route):
        if route.request.method == "POST":
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page_one = page.url
    page.route("**/r/*/1", drop)
    page.locator("button[value=next]").click()
    page.wait_for_url("chrome-error://**")  # the browser's "No internet" page
    page.unroute("**/r/*/1")
    # Back, and the resident comes to the page again (Chromium's Back from the error page
    # skips the page that failed): the server has nothing of it, the tab has.
    page.go_back()
    page.goto(page_one)
    assert page.url.endswith("/1")
    assert all(page.locator(f"#q-{i}-{c}").is_checked() for i, c in given.items())
    _submit(page, "button[value=next]")
    assert page.url.endswith("/2")
    _status, stored = _answers(live, wave_id)
    assert {k: stored[k] for k in given} == given
    # Accepted by the server: nothing of page 1 is kept in the tab any more.
    kept = page.evaluate("Object.keys(sessionStorage).filter(k => k.startsWith('answers:'))")
    assert not any(key.endswith("/1") for key in kept)
    context.close()


def _focused(page: Page) -> dict[str, Any]:
    return page.evaluate(
        """() => { const e = document.activeElement; return {tag: e.tagName, type: e.type,
            name: e.name || '', value: e.value || '', checked: !!e.checked,
            cls: e.className || ''}; }"""
    )


def _keyboard_page(page: Page, button: str) -> None:
    """With Tab, Space and Enter only: choose the first option of every question on the
    page, then press the button whose value is ``button``."""
    for _ in range(150):
        page.keyboard.press("Tab")
        now = _focused(page)
        if now["type"] == "radio" and not now["checked"]:
            page.keyboard.press("Space")
        elif now["tag"] == "BUTTON" and now["value"] == button:
            with page.expect_navigation():
                page.keyboard.press("Enter")
            return
    raise AssertionError(f"no {button} button reached with Tab")


def test_keyboard_only_from_the_code_to_thanks(browser: Browser, live_server: LiveServer) -> None:
    live = live_server
    with live.app.app_context():
        make = live.factory()
        wave = make.wave(languages=["en", "ar"])
        code, _invitation = make.invitation(wave)
        sections, wave_id = wave_sections(wave), wave.id
    context = new_phone(browser)
    page = context.new_page()
    page.goto(live.url + "/")
    for _ in range(20):
        page.keyboard.press("Tab")
        if _focused(page)["name"] == "code":
            break
    page.keyboard.type(code)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    _keyboard_page(page, "")  # the consent button (no value)
    assert page.url.endswith(f"/i/{code}/1")

    # Next with nothing answered: the error summary takes the focus, the title says so.
    for _ in range(60):
        page.keyboard.press("Tab")
        if _focused(page)["value"] == "next":
            break
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.title().startswith("Error: ")
    assert "error-summary" in _focused(page)["cls"]
    page.keyboard.press("Tab")
    assert _focused(page)["tag"] == "A"  # the first question to fix is one Tab away

    for number in range(1, len(sections) + 1):
        _keyboard_page(page, "review" if number == len(sections) else "next")
    assert "Check your answers" in page.locator("h1").inner_text()
    _keyboard_page(page, "send")
    assert page.url.endswith("/thanks")
    with live.app.app_context():
        response = db.session.scalars(select(Response).where(Response.wave_id == wave_id)).one()
        assert response.status == "complete"
        assert len(response.answers) == sum(len(s.items) for s in sections)
    context.close()


def test_the_review_page_changes_an_answer(browser: Browser, live_server: LiveServer) -> None:
    live = live_server
    sections, token, wave_id = _open_link_wave(live)
    context = new_phone(browser)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
    page = context.new_page()
    foreign = watch_requests(page, live)
    _start(page, live, token)

    # The resume link: a copy button (with the script), never broken inside a word.
    link = page.locator("a.resume")
    assert page.evaluate("getComputedStyle(document.querySelector('a.resume')).whiteSpace") == (
        "nowrap"
    )
    page.locator("button[data-copy]").click()
    expect(page.locator("#copy-done")).to_have_text("Link copied.")  # once the copy is done
    assert page.evaluate("navigator.clipboard.readText()") == link.inner_text()

    expected: dict[str, int] = {}
    for number, section in enumerate(sections, start=1):
        expected |= _tap(page, section)
        _submit(page, "button[value=review]" if number == len(sections) else "button[value=next]")
    assert page.locator("h1").inner_text() == "Check your answers"
    assert page.locator("h2").all_inner_texts() == [s.title for s in sections]

    changed = sections[1].items[0]
    option = changed.options[-1]
    _submit(page, f"a[href*='#item-{changed.id}']")
    assert "from=review" in page.url and page.url.split("?")[0].endswith("/2")
    page.locator(f"label[for='q-{changed.id}-{option.code}']").click()
    _submit(page, "button[value=change]")
    assert page.locator("h1").inner_text() == "Check your answers"  # back on the review
    row = page.locator(".review-row", has=page.locator(f"a[href*='#item-{changed.id}']"))
    assert option.label in row.inner_text()
    expected[changed.id] = option.code

    _submit(page, "button[value=send]")
    assert page.url.endswith("/thanks")
    assert page.evaluate("sessionStorage.length") == 0  # nothing of the answers stays behind
    status, stored = _answers(live, wave_id)
    assert status == "complete" and stored == expected
    assert foreign == []
    context.close()
