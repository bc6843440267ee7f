"""A resident answers page by page, by open link or invitation code, and never loses an answer."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import func, select

from surveyapp.console.waves import close_wave
from surveyapp.db import utcnow
from surveyapp.instruments.registry import wave_sections
from surveyapp.models import Answer, Invitation, PageSubmission, Response, WaveStatus
from surveyapp.respond import used_codes
from surveyapp.respond.codes import (
    ALPHABET,
    format_code,
    generate_code,
    hash_code,
    normalize_code,
    resume_hash,
)

from ..conftest import TEST_CODE_KEY, Factory, complete_answers
from ..resident import Resident, idempotency_key


def _count(make: Factory, model: Any = Response) -> int:
    make.session.expire_all()
    return make.session.scalar(select(func.count()).select_from(model))


def _response(make: Factory) -> Response:
    make.session.expire_all()
    return make.session.scalar(select(Response))


def _answers(make: Factory) -> dict[str, Any]:
    response = _response(make)
    result = {}
    for a in response.answers:
        result[a.item_id] = next(
            v for v in (a.value_code, a.value_codes, a.value_number, a.value_text) if v is not None
        )
    return result


def _page_answers(section: Any) -> dict[str, str]:
    return complete_answers([section])


def _finish(resident: Resident, sections: Any, start: int = 0) -> None:
    for section in sections[start:]:
        assert f'id="item-{section.items[0].id}"' in resident.text
        assert resident.submit(_page_answers(section)) == 303
    assert resident.url.endswith("/thanks")


def test_open_link_asks_for_consent_with_a_privacy_notice(
    client: FlaskClient, make: Factory
) -> None:
    city = make.city(privacy_contact="dpo@city.example")
    wave = make.wave(make.initiative(city), retention_days=90)
    resident = Resident(client)
    assert resident.open(f"/w/{wave.open_token}") == 200
    text = resident.text
    assert "IP address" in text and "dpo@city.example" in text and "90 days" in text
    assert "ppltrst" not in text  # no question before consent
    assert _count(make) == 0
    key = idempotency_key(resident.html)
    first = client.post(f"/w/{wave.open_token}", data={"idempotency_key": key})
    again = client.post(f"/w/{wave.open_token}", data={"idempotency_key": key})  # double tap
    assert first.status_code == again.status_code == 303
    # A wave-wide open link asks the neighbourhood first.
    assert first.location == again.location and first.location.endswith("/area")
    assert _count(make) == 1
    draft = _response(make)
    assert draft.status == "draft" and draft.channel == "open_link" and draft.answers == []


def test_one_section_per_page_then_thanks(client: FlaskClient, make: Factory) -> None:
    wave = make.wave()
    sections = wave_sections(wave)
    resident = Resident(client)
    resident.open(f"/w/{wave.open_token}")
    resident.consent()
    for number, section in enumerate(sections, start=1):
        text = resident.text
        assert f"Page {number} of {len(sections)}" in text
        assert all(f'id="item-{item.id}"' in text for item in section.items)
        others = [i.id for s in sections if s is not section for i in s.items]
        assert not any(f'id="item-{other}"' in text for other in others)
        assert ("Check my answers" in text) == (number == len(sections))
        assert "Send my answers" not in text
        nav = "review" if number == len(sections) else "next"
        assert resident.submit(_page_answers(section), nav=nav) == 303
    # The review page lists every answer, then sends.
    assert resident.url.endswith(f"/{len(sections) + 1}")
    assert "Check your answers" in resident.text and "Send my answers" in resident.text
    shown = [str(escape(item.text)) for section in sections for item in section.items]
    assert all(text in resident.text for text in shown)
    assert _response(make).status == "draft"
    assert resident.submit({}, nav="send") == 303
    assert resident.url.endswith("/thanks") and "Thank you" in resident.text
    response = _response(make)
    assert response.status == "complete" and response.submitted_on is not None
    assert response.resume_key_hash is None  # no way back from the answers to the link
    assert _answers(make) == {
        k.removeprefix("q-"): int(v) for k, v in complete_answers(sections).items()
    }
    assert _count(make, PageSubmission) == len(sections) + 1


def test_retried_page_post_saves_once_and_never_undoes_a_later_change(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave()
    sections = wave_sections(wave)
    resident = Resident(client)
    resident.open(f"/w/{wave.open_token}")
    page1 = resident.consent()
    stale = {"idempotency_key": idempotency_key(resident.html), "nav": "next"}
    stale |= _page_answers(sections[0]) | {"q-ppltrst": "3"}
    first = client.post(page1, data=stale)
    retry = client.post(page1, data=stale)
    assert first.status_code == retry.status_code == 303
    assert first.location == retry.location and first.location.endswith("/2")
    assert _answers(make)["ppltrst"] == 3
    # Back to page 1, change the answer; an old retry arriving late changes nothing.
    resident.open(first.location)
    assert resident.submit({}, nav="back") == 303 and resident.url.endswith("/1")
    assert re.search(r'id="q-ppltrst-3"[^>]*checked', resident.text)
    assert resident.submit(_page_answers(sections[0]) | {"q-ppltrst": "8"}) == 303
    assert client.post(page1, data=stale).status_code == 303
    assert _answers(make)["ppltrst"] == 8
    assert _count(make, Answer) == len(sections[0].items)


def test_required_answers_left_empty_are_named_and_linked(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave()
    section = wave_sections(wave)[0]
    resident = Resident(client)
    resident.open(f"/w/{wave.open_token}")
    resident.consent()
    answers = _page_answers(section) | {"q-ppltrst": "7"}
    del answers["q-pplfair"]
    assert resident.submit(answers) == 422
    text = resident.text
    assert "Please answer this question." in text
    assert 'href="#q-pplfair-0"' in text and 'id="q-pplfair-0"' in text
    assert 'aria-describedby="err-pplfair"' in text
    assert re.search(r'id="q-ppltrst-7"[^>]*checked', text)  # what was given stays
    assert _count(make, Answer) == 0
    assert resident.submit(_page_answers(section)) == 303 and resident.url.endswith("/2")


def test_back_keeps_a_half_answered_page(client: FlaskClient, make: Factory) -> None:
    wave = make.wave()
    sections = wave_sections(wave)
    resident = Resident(client)
    resident.open(f"/w/{wave.open_token}")
    resident.consent()
    resident.submit(_page_answers(sections[0]))
    assert resident.submit({"q-nbh_help": "2"}, nav="back") == 303
    assert resident.url.endswith("/1")
    assert _answers(make)["nbh_help"] == 2
    assert _response(make).status == "draft"


def test_switching_language_keeps_the_answers_on_the_page(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave(languages=["en", "fr", "ar"])
    resident = Resident(client)
    resident.open(f"/w/{wave.open_token}")
    resident.consent()
    assert '<html lang="en" dir="ltr">' in resident.text
    assert resident.submit({"q-ppltrst": "6"}, lang="ar") == 303
    assert resident.url.endswith("/1")
    assert '<html lang="ar" dir="rtl">' in resident.text
    assert re.search(r'id="q-ppltrst-6"[^>]*checked', resident.text)
    assert _response(make).language == "ar"
    assert resident.submit({}, lang="xx") == 400  # not offered: refused, nothing changes
    assert _response(make).language == "ar"


def test_invitation_resumes_where_the_resident_stopped(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    code, invitation = make.invitation()
    sections = wave_sections(invitation.wave)
    resident = Resident(client)
    typed = format_code(code).lower()  # as a resident might type it from the letter
    entry = client.post("/", data={"code": typed})
    assert entry.status_code == 303 and entry.location.endswith(f"/i/{normalize_code(typed)}")
    resident.open(entry.location)
    resident.consent()
    resident.submit(_page_answers(sections[0]))
    resident.submit(_page_answers(sections[1]))
    # The browser is closed; the resident types the code again on another phone.
    other = Resident(app.test_client())
    assert other.open(f"/i/{code}") == 200
    assert other.url.endswith(f"/i/{code}/3")
    assert f'id="item-{sections[2].items[0].id}"' in other.text
    _finish(other, sections, start=2)
    make.session.expire_all()
    assert used_codes.is_used(make.session, make.session.get(Invitation, invitation.id))
    response = _response(make)
    assert response.channel == "invitation" and response.area_id == invitation.area_id
    assert _count(make) == 1
    used = client.get(f"/i/{code}")
    assert used.status_code == 410 and "already been used" in used.get_data(as_text=True)


def test_open_link_resumes_by_cookie_and_by_link(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    wave = make.wave()
    sections = wave_sections(wave)
    resident = Resident(client)
    resident.open(f"/w/{wave.open_token}")
    resident.consent()
    resident.submit(_page_answers(sections[0]))
    link = re.search(r'class="resume">([^<]+)<', resident.text).group(1)
    assert "/r/" in link
    # Same browser, later: the open link asks, and "Continue it" leads back to page 2.
    again = Resident(client)
    again.open(f"/w/{wave.open_token}")
    assert "Continue or start a new questionnaire?" in again.text
    assert "page 2 of" in again.text
    again.open(re.search(r'<form method="get" action="([^"]+)"', again.text).group(1))
    assert again.url.endswith("/2")
    # Another device, with the link that was shown.
    other = Resident(app.test_client())
    other.open(urlsplit(link).path)
    assert other.url.endswith("/2")
    _finish(other, sections, start=1)
    assert _count(make) == 1 and _response(make).status == "complete"
    # The link no longer leads anywhere once the answers are sent.
    assert app.test_client().get(urlsplit(link).path).status_code == 404


def test_shared_device_asks_before_resuming_and_forgets_on_finish(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    wave = make.wave()
    sections = wave_sections(wave)
    first = Resident(client)
    first.open(f"/w/{wave.open_token}")
    first.consent()
    first.submit(_page_answers(sections[0]))
    link = re.search(r'class="resume">([^<]+)<', first.text).group(1)
    # The next person on the same phone is asked, and sees none of the first one's answers.
    choice = client.get(f"/w/{wave.open_token}")
    assert choice.status_code == 200
    assert 'name="q-' not in choice.get_data(as_text=True)
    second = Resident(client)
    token_form = re.search(r'<form method="post" action="([^"]+)"', choice.get_data(as_text=True))
    fresh = client.post(token_form.group(1), data={})
    assert fresh.status_code == 303 and fresh.location.endswith(f"/w/{wave.open_token}")
    second.open(fresh.location)
    assert 'name="idempotency_key"' in second.text and "I agree" in second.text
    second.consent()
    assert second.url.endswith("/1")
    _finish(second, sections, start=0)
    assert _count(make) == 2
    # Finished: this device no longer offers to continue anything ...
    assert "I agree" in client.get(f"/w/{wave.open_token}").get_data(as_text=True)
    # ... and the first person's unfinished answers are still theirs to continue.
    elsewhere = Resident(app.test_client())
    elsewhere.open(urlsplit(link).path)
    assert elsewhere.url.endswith("/2")


def test_final_submission_retried_lands_on_thanks_once(client: FlaskClient, make: Factory) -> None:
    code, _invitation = make.invitation()
    sections = wave_sections(_invitation.wave)
    resident = Resident(client)
    resident.open(f"/i/{code}")
    resident.consent()
    for section in sections[:-1]:
        resident.submit(_page_answers(section))
    last = {"idempotency_key": idempotency_key(resident.html), "nav": "next"} | _page_answers(
        sections[-1]
    )
    first = client.post(resident.url, data=last)
    retry = client.post(resident.url, data=last)
    assert first.status_code == retry.status_code == 303
    assert first.location.endswith("/thanks") and retry.location.endswith("/thanks")
    assert _count(make) == 1 and _response(make).status == "complete"


def test_skipping_pages_by_url_cannot_send_an_incomplete_questionnaire(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave()
    sections = wave_sections(wave)
    resident = Resident(client)
    resident.open(f"/w/{wave.open_token}")
    page1 = resident.consent()
    resident.open(page1[:-1] + str(len(sections)))
    assert resident.submit(_page_answers(sections[-1])) == 303
    assert resident.url.endswith("/1")  # sent back to the first unanswered page
    assert _response(make).status == "draft"


def test_display_condition_on_the_same_page(client: FlaskClient, make: Factory) -> None:
    wave = make.wave(modules=["victimisation"])
    sections = wave_sections(wave)
    number = next(i for i, s in enumerate(sections, 1) if s.id == "victimisation")
    resident = Resident(client)
    resident.open(f"/w/{wave.open_token}")
    resident.consent()
    for section in sections[: number - 1]:
        resident.submit(_page_answers(section))
    assert "Only if it applies to your previous answer." in resident.text
    # "Yes": the follow-up is required.
    assert resident.submit({"q-crmvct": "1"}) == 422
    assert 'id="err-crmvct_12m"' in resident.text
    # "No": the follow-up is not required, and an answer to it is not stored.
    assert resident.submit({"q-crmvct": "0", "q-crmvct_12m": "1"}) == 303
    answers = _answers(make)
    assert answers["crmvct"] == 0 and "crmvct_12m" not in answers


def test_wave_closing_mid_survey_keeps_the_draft(client: FlaskClient, make: Factory) -> None:
    wave = make.wave()
    sections = wave_sections(wave)
    resident = Resident(client)
    resident.open(f"/w/{wave.open_token}")
    resident.consent()
    resident.submit(_page_answers(sections[0]))
    close_wave(make.session, make.session.get(type(wave), wave.id), actor="test")
    make.session.commit()
    assert resident.submit(_page_answers(sections[1])) == 200
    assert "This survey is closed" in resident.text
    draft = _response(make)
    assert draft.status == "draft" and "wave_closed_while_draft" in draft.quality_flags
    assert set(_answers(make)) == {item.id for item in sections[0].items}


def test_dont_know_is_stored_as_its_missing_code(client: FlaskClient, make: Factory) -> None:
    wave = make.wave()
    resident = Resident(client)
    resident.open(f"/w/{wave.open_token}")
    resident.consent()
    resident.submit(_page_answers(wave_sections(wave)[0]) | {"q-pplhlp": "-1"})
    assert _answers(make)["pplhlp"] == -1


# --- Bad input: a clear 4xx, nothing stored, never a 500 -----------------------------------


@pytest.fixture
def on_page_one(client: FlaskClient, make: Factory) -> Resident:
    wave = make.wave(modules=["demographics"])
    resident = Resident(client)
    resident.open(f"/w/{wave.open_token}")
    resident.consent()
    return resident


@pytest.mark.parametrize(
    ("change", "status", "phrase"),
    [
        ({"q-ppltrst": "11"}, 422, "Please choose one of the answers."),
        ({"q-ppltrst": "abc"}, 422, "Please choose one of the answers."),
        ({"q-household_size": "3"}, 400, "not on this page: household_size"),
        ({"q-no_such_item": "1"}, 400, "not on this page: no_such_item"),
        ({"idempotency_key": ""}, 400, "submission key"),
        ({"idempotency_key": "x" * 200}, 400, "submission key"),
        ({"nav": "jump"}, 400, "Unknown button"),
    ],
)
def test_bad_page_posts_are_refused(
    client: FlaskClient, make: Factory, on_page_one: Resident, change, status, phrase
) -> None:
    section = wave_sections(_response(make).wave)[0]
    data = _page_answers(section) | {"idempotency_key": idempotency_key(on_page_one.html)} | change
    posted = client.post(on_page_one.url, data=data)
    assert posted.status_code == status
    assert phrase in posted.get_data(as_text=True)
    assert _count(make, Answer) == 0 and _count(make, PageSubmission) == 0


def test_oversized_and_malformed_bodies(
    client: FlaskClient, make: Factory, on_page_one: Resident
) -> None:
    huge = client.post(on_page_one.url, data={"q-ppltrst": "1" * 200_000})
    assert huge.status_code == 413 and "Too much was sent" in huge.get_data(as_text=True)
    junk = client.post(
        on_page_one.url, data=b"\x00\xff{not a form", content_type="application/json"
    )
    assert junk.status_code == 400
    assert _count(make, Answer) == 0


def test_forged_links_and_keys(client: FlaskClient, make: Factory, on_page_one: Resident) -> None:
    assert client.get("/r/" + "A" * 32 + "/1").status_code == 404
    assert client.post("/r/" + "A" * 32 + "/1", data={"nav": "next"}).status_code == 404
    assert client.get("/i/ACDEFGHJKM/1").status_code == 404
    assert client.get("/r/short/1").status_code == 404
    # Out-of-range pages go back to where the resident is.
    beyond = client.get(on_page_one.url[:-1] + "99")
    assert beyond.status_code == 303 and beyond.location.endswith("/1")
    # A key already used by another resident's page cannot touch this questionnaire.
    other = Resident(make_client := client.application.test_client())
    other.open(f"/w/{_response(make).wave.open_token}")
    other.consent()
    used_key = idempotency_key(other.html)
    assert other.submit({}, nav="back") == 303
    foreign = make_client.post(
        on_page_one.url,
        data=_page_answers(wave_sections(_response(make).wave)[0]) | {"idempotency_key": used_key},
    )
    assert foreign.status_code == 400
    assert _count(make, Answer) == 0


def test_csrf_is_required_on_resident_posts(app: Flask, client: FlaskClient, make: Factory) -> None:
    wave = make.wave()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        welcome = client.get(f"/w/{wave.open_token}")
        refused = client.post(
            f"/w/{wave.open_token}", data={"idempotency_key": idempotency_key(welcome.data)}
        )
        assert refused.status_code == 400
        assert "This page has expired" in refused.get_data(as_text=True)
        assert _count(make) == 0
        token = re.search(rb'name="csrf_token" value="([^"]+)"', welcome.data).group(1).decode()
        ok = client.post(
            f"/w/{wave.open_token}",
            data={"idempotency_key": idempotency_key(welcome.data), "csrf_token": token},
        )
        assert ok.status_code == 303 and ok.location.endswith("/area")
        assert client.post(ok.location, data={"area": "dont_know"}).status_code == 400
        chosen = client.post(ok.location, data={"area": "dont_know", "csrf_token": token})
        assert chosen.status_code == 303
        page_one = chosen.location
        page = client.get(page_one)
        form = _page_answers(wave_sections(wave)[0]) | {
            "idempotency_key": idempotency_key(page.data)
        }
        assert client.post(page_one, data=form).status_code == 400
        assert _count(make, Answer) == 0
        wrong = client.post(page_one, data=form | {"csrf_token": token[:-4] + "AAAA"})
        assert wrong.status_code == 400
        assert client.post(page_one, data=form | {"csrf_token": token}).status_code == 303
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert _count(make, Answer) == len(wave_sections(wave)[0].items)


# --- Entry points and pages that say no ----------------------------------------------------


def test_unknown_code_and_link(client: FlaskClient, make: Factory) -> None:
    make.wave()
    assert client.get("/i/ACDEFGHJKM").status_code == 404
    assert client.get("/w/no-such-token").status_code == 404
    entry = client.post("/", data={"code": "nothing-like-it"})
    assert entry.status_code == 404
    assert "could not find this code" in entry.get_data(as_text=True)


@pytest.mark.parametrize(
    ("fields", "phrase"),
    [
        ({"status": WaveStatus.CLOSED}, "closed"),
        ({"status": WaveStatus.ARCHIVED}, "closed"),
        ({"opens_at": utcnow() + timedelta(days=3)}, "not started yet"),
        (
            {
                "closes_at": utcnow() - timedelta(minutes=1),
                "opens_at": utcnow() - timedelta(days=9),
            },
            "closed",
        ),
    ],
)
def test_wave_not_accepting_answers(client: FlaskClient, make: Factory, fields, phrase) -> None:
    wave = make.wave(**fields)
    code, _ = make.invitation(wave)
    for url in (f"/w/{wave.open_token}", f"/i/{code}"):
        page = client.get(url)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert phrase in html and "ppltrst" not in html and "privacy" not in html.lower()


def test_unavailable_pages_speak_the_residents_language(client: FlaskClient, make: Factory) -> None:
    wave = make.wave(status=WaveStatus.CLOSED, languages=["en", "fr"])
    page = client.get(f"/w/{wave.open_token}", headers={"Accept-Language": "fr-BE,fr;q=0.9"})
    assert '<html lang="fr"' in page.get_data(as_text=True)


def test_draft_wave_is_invisible(client: FlaskClient, make: Factory) -> None:
    wave = make.wave(status=WaveStatus.DRAFT)
    assert client.get(f"/w/{wave.open_token}").status_code == 404


def test_invitation_only_wave_has_no_open_link(client: FlaskClient, make: Factory) -> None:
    wave = make.wave(mode="invitation")
    assert client.get(f"/w/{wave.open_token}").status_code == 404


def test_resident_pages_load_nothing_from_elsewhere(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    wave = make.wave()
    resident = Resident(client)
    pages = {}
    for url in ("/", f"/w/{wave.open_token}", "/thanks", "/i/ACDEFGHJKM"):
        resident.open(url)
        pages[url] = resident.text
    resident.open(f"/w/{wave.open_token}")
    resident.consent()
    pages["page"] = resident.text
    own = app.config["BASE_URL"].rstrip("/")
    for url, html in pages.items():
        external = re.findall(r'(?:src|href|action)="((?:https?:)?//[^"]*)"', html)
        assert all(link.startswith(own + "/") for link in external), url
        # One script, the app's own file (fingerprinted), never inline code.
        scripts = re.findall(r"<script[^>]*>", html)
        assert all(
            re.fullmatch(r'<script src="/assets/respond\.[0-9a-f]{12}\.js" defer>', s)
            for s in scripts
        ), url


def test_completed_responses_cannot_be_traced_to_their_code(
    client: FlaskClient, make: Factory
) -> None:
    code, invitation = make.invitation()
    resident = Resident(client)
    resident.open(f"/i/{code}")
    resident.consent()
    draft = _response(make)
    assert draft.resume_key_hash == resume_hash(code, TEST_CODE_KEY)  # found by the code
    _finish(resident, wave_sections(invitation.wave))
    response = _response(make)
    stored = {str(getattr(response, c.key)) for c in Response.__table__.columns}
    assert response.resume_key_hash is None
    assert not {code, hash_code(code, TEST_CODE_KEY), resume_hash(code, TEST_CODE_KEY)} & stored


def test_codes_avoid_ambiguous_characters() -> None:
    assert not set("0O1IL") & set(ALPHABET)
    codes = {generate_code() for _ in range(500)}
    assert len(codes) == 500
    code = codes.pop()
    key = TEST_CODE_KEY
    assert hash_code(format_code(code).lower(), key) == hash_code(code, key)
    assert code not in hash_code(code, key)


def test_code_entry_page_offers_every_interface_language(
    client: FlaskClient, make: Factory
) -> None:
    page = client.get("/?lang=ar").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert 'href="?lang=fr"' in page and 'href="?lang=uk"' in page
    # The choice carries on to the questionnaire when the wave offers it.
    code, _invitation = make.invitation(make.wave(languages=["en", "ar"]))
    entered = client.post("/", data={"code": code})
    welcome = client.get(entered.location).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in welcome


def test_page_urls_are_the_ones_url_for_builds(app) -> None:
    """The redirect after a page save is formatted, not built by url_for: the same URLs,
    also for keys that need quoting and for an app mounted under a path."""
    from flask import url_for

    from surveyapp.respond.visits import Visit

    for script_root in ("", "/survey"):
        with app.test_request_context("/", base_url=f"http://localhost{script_root}/"):
            for endpoint in ("respond.invitation_page", "respond.resume_page"):
                for key in ("K7PMQ2XA", "Zq3-_resume_TOKEN0", "a b/ü?#%"):
                    visit = Visit(wave=None, key=key, endpoint=endpoint)
                    for page in (1, 12):
                        assert visit.page_url(page) == url_for(endpoint, key=key, page=page)
                    assert visit.page_url(2).startswith(script_root + "/")
