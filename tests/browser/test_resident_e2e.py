"""A resident on a phone answers the whole core questionnaire in a real browser.

What the database holds afterwards must be exactly what was clicked, saved once.
"""

from __future__ import annotations

import random
from typing import Any

from playwright.sync_api import Browser, Page
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.instruments.registry import wave_sections
from surveyapp.models import Invitation, PageSubmission, Response
from surveyapp.respond import used_codes
from surveyapp.respond.codes import format_code

from .conftest import LiveServer, new_phone, watch_requests


def _choose(page: Page, section: Any, rng: random.Random, expected: dict[str, int]) -> None:
    """Tap one answer for every question on the page, as a resident would, and note it."""
    for item in section.items:
        if item.show_if is not None:
            continue
        choices = [(o.code, f"q-{item.id}-{o.code}") for o in item.options]
        choices += [(m.code, f"q-{item.id}-m{-m.code}") for m in item.missing_options]
        code, input_id = rng.choice(choices)
        page.locator(f"label[for='{input_id}']").tap()
        expected[item.id] = code


def _submit(page: Page, selector: str) -> None:
    """Tap a button that sends the form and wait for the next page."""
    with page.expect_navigation():
        page.locator(selector).tap()


def _assert_checked(page: Page, section: Any, expected: dict[str, int]) -> None:
    for item in section.items:
        if item.id in expected:
            code = expected[item.id]
            input_id = f"q-{item.id}-{code}" if code >= 0 else f"q-{item.id}-m{-code}"
            assert page.locator(f"#{input_id}").is_checked(), item.id


def _stored(live: LiveServer, wave_id: int) -> tuple[list[Response], dict[str, int], int]:
    with live.app.app_context():
        responses = db.session.scalars(select(Response).where(Response.wave_id == wave_id)).all()
        answers = {a.item_id: a.value_code for r in responses for a in r.answers}
        submissions = db.session.scalar(
            select(func.count())
            .select_from(PageSubmission)
            .join(Response)
            .where(Response.wave_id == wave_id)
        )
        for r in responses:
            db.session.expunge(r)
        return responses, answers, submissions


def test_invitation_in_two_languages_with_a_break_and_a_change_of_mind(
    browser: Browser, live_server: LiveServer
) -> None:
    live = live_server
    with live.app.app_context():
        make = live.factory()
        wave = make.wave(languages=["en", "fr", "ar"])
        code, invitation = make.invitation(wave)
        sections, wave_id, invitation_id = wave_sections(wave), wave.id, invitation.id
    rng = random.Random(2026)
    expected: dict[str, int] = {}

    first = new_phone(browser)
    page = first.new_page()
    foreign = watch_requests(page, live)
    page.goto(live.url + "/")
    page.fill("#code", format_code(code).lower())  # typed from the letter, in lower case
    _submit(page, "button[type=submit]")
    assert "IP address" in page.content()  # the privacy notice comes before any question
    _submit(page, "button[type=submit]")
    for number in (1, 2):
        assert page.url.endswith(f"/i/{code}/{number}")
        _choose(page, sections[number - 1], rng, expected)
        _submit(page, "button[value=next]")
    first.close()  # the resident closes the browser on page 3

    second = new_phone(browser)
    page = second.new_page()
    foreign += watch_requests(page, live)
    page.goto(f"{live.url}/i/{code}")  # the same code, later, on another phone
    assert page.url.endswith(f"/i/{code}/3")
    _choose(page, sections[2], rng, expected)
    _submit(page, "button[name=lang][value=fr]")  # switch language mid-page
    assert page.url.endswith(f"/i/{code}/3")
    assert page.locator("html").get_attribute("lang") == "fr"
    _assert_checked(page, sections[2], expected)  # nothing lost by switching
    _submit(page, "button[value=next]")
    _choose(page, sections[3], rng, expected)
    _submit(page, "button[value=back]")  # back to change an answer on page 3
    assert page.url.endswith(f"/i/{code}/3")
    _assert_checked(page, sections[2], expected)
    changed = sections[2].items[0]
    new_code = next(o.code for o in changed.options if o.code != expected[changed.id])
    page.locator(f"label[for='q-{changed.id}-{new_code}']").tap()
    expected[changed.id] = new_code
    _submit(page, "button[value=next]")
    _assert_checked(page, sections[3], expected)  # page 4 was kept when going back
    _submit(page, "button[value=next]")
    _choose(page, sections[4], rng, expected)
    _submit(page, "button[value=review]")
    _submit(page, "button[value=send]")  # after a look at every answer
    assert page.url.endswith("/thanks")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator("h1").inner_text() == "Merci"
    second.close()

    responses, answers, submissions = _stored(live, wave_id)
    assert len(responses) == 1
    response = responses[0]
    assert response.status == "complete" and response.language == "fr"
    assert response.channel == "invitation" and response.resume_key_hash is None
    assert answers == expected
    assert submissions == 9  # 2 + language switch + next + back + next + next + review + send
    with live.app.app_context():
        assert used_codes.is_used(db.session, db.session.get(Invitation, invitation_id))
    assert foreign == []


def test_open_link_in_arabic_with_a_double_tap_and_the_resume_link(
    browser: Browser, live_server: LiveServer
) -> None:
    live = live_server
    with live.app.app_context():
        wave = live.factory().wave(languages=["en", "fr", "ar"])
        sections, wave_id, token = wave_sections(wave), wave.id, wave.open_token
    rng = random.Random(7)
    expected: dict[str, int] = {}

    first = new_phone(browser, locale="ar")
    page = first.new_page()
    foreign = watch_requests(page, live)
    page.goto(f"{live.url}/w/{token}")
    assert page.locator("html").get_attribute("dir") == "rtl"  # the phone's language
    _submit(page, "button[type=submit]")
    # The wave-wide link asks the neighbourhood first: a radio button like any question.
    assert page.url.endswith("/area") and page.locator("fieldset legend").count() == 1
    page.locator("ul.options label").first.click()  # a tap on the answer's label
    _submit(page, "button[type=submit]")
    _choose(page, sections[0], rng, expected)
    page.locator("button[value=next]").dblclick()  # an impatient double tap
    # The second tap may abort the navigation the first one started (the browser then
    # follows the second): what counts is landing on page 2, with one save (checked below).
    page.wait_for_url("**/2")
    _choose(page, sections[1], rng, expected)
    _submit(page, "button[value=next]")
    resume_link = page.locator("a.resume").inner_text()
    assert resume_link.startswith(live.url + "/r/")
    first.close()

    second = new_phone(browser, locale="en-GB")
    page = second.new_page()
    foreign += watch_requests(page, live)
    page.goto(resume_link)
    assert page.url.endswith("/3")
    assert page.locator("html").get_attribute("lang") == "ar"  # the language chosen before
    _submit(page, "button[value=back]")
    _assert_checked(page, sections[1], expected)
    _submit(page, "button[value=next]")
    for section in sections[2:]:
        _choose(page, section, rng, expected)
        _submit(
            page, "button[value=next]" if section is not sections[-1] else "button[value=review]"
        )
    _submit(page, "button[value=send]")
    assert page.url.endswith("/thanks")
    second.close()

    responses, answers, _submissions = _stored(live, wave_id)
    assert len(responses) == 1
    assert responses[0].status == "complete" and responses[0].language == "ar"
    assert responses[0].channel == "open_link" and responses[0].area_source == "self_reported"
    assert answers == expected
    assert foreign == []
