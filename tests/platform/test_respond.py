"""A resident answers the questionnaire by open link or invitation code."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from surveyapp.db import utcnow
from surveyapp.models import Invitation, Response, WaveStatus
from surveyapp.respond.codes import ALPHABET, format_code, generate_code, hash_code, normalize_code
from surveyapp.respond.services import wave_sections

from ..conftest import Factory, complete_answers


def _key(page: bytes) -> str:
    match = re.search(rb'name="idempotency_key" value="([^"]+)"', page)
    assert match, "questionnaire has no idempotency key"
    return match.group(1).decode()


def _count(make: Factory) -> int:
    return make.session.scalar(select(func.count(Response.id)))


def test_open_link_shows_every_core_question(client: FlaskClient, make: Factory) -> None:
    wave = make.wave()
    page = client.get(f"/w/{wave.open_token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for section in wave_sections(wave):
        for item in section.items:
            assert f'id="item-{item.id}"' in html
    assert "Don&#39;t know" in html or "Don't know" in html
    assert '<html lang="en" dir="ltr">' in html


def test_complete_submission_is_saved_once(client: FlaskClient, make: Factory) -> None:
    wave = make.wave()
    key = _key(client.get(f"/w/{wave.open_token}").data)
    form = complete_answers(wave_sections(wave)) | {"idempotency_key": key}
    first = client.post(f"/w/{wave.open_token}", data=form)
    assert first.status_code == 303 and first.location.endswith("/thanks")
    assert client.get("/thanks").status_code == 200
    # A double tap or a retried POST with the same key adds nothing.
    retry = client.post(f"/w/{wave.open_token}", data=form)
    assert retry.status_code == 303
    response = make.session.scalar(select(Response))
    assert _count(make) == 1
    assert response.status == "complete" and response.channel == "open_link"
    assert response.submitted_at is not None and response.language == "en"
    answered = {a.item_id: a.value_code for a in response.answers}
    assert answered["ppltrst"] == 0 and answered["nbh_help"] == 5
    assert len(answered) == sum(len(s.items) for s in wave_sections(wave))


def test_missing_required_answers_are_named_and_nothing_is_lost(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave()
    key = _key(client.get(f"/w/{wave.open_token}").data)
    form = complete_answers(wave_sections(wave)) | {"idempotency_key": key}
    del form["q-pplfair"]
    form["q-ppltrst"] = "7"
    page = client.post(f"/w/{wave.open_token}", data=form)
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert 'href="#item-pplfair"' in html
    assert 'aria-describedby="err-pplfair"' in html
    # The answer already given is still selected.
    assert re.search(r'id="q-ppltrst-7" name="q-ppltrst" value="7" checked', html)
    assert _count(make) == 0


def test_invalid_codes_and_numbers_are_refused(client: FlaskClient, make: Factory) -> None:
    wave = make.wave(modules=["demographics"])
    key = _key(client.get(f"/w/{wave.open_token}").data)
    form = complete_answers(wave_sections(wave)) | {"idempotency_key": key}
    form["q-ppltrst"] = "11"
    form["q-household_size"] = "500"
    page = client.post(f"/w/{wave.open_token}", data=form)
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert 'id="err-ppltrst"' in html and 'id="err-household_size"' in html
    assert _count(make) == 0


def test_dont_know_is_stored_as_its_missing_code(client: FlaskClient, make: Factory) -> None:
    wave = make.wave()
    key = _key(client.get(f"/w/{wave.open_token}").data)
    form = complete_answers(wave_sections(wave)) | {"idempotency_key": key, "q-pplhlp": "-1"}
    assert client.post(f"/w/{wave.open_token}", data=form).status_code == 303
    response = make.session.scalar(select(Response))
    assert {a.item_id: a.value_code for a in response.answers}["pplhlp"] == -1


def test_invitation_code_works_once(client: FlaskClient, make: Factory) -> None:
    code, invitation = make.invitation()
    sections = wave_sections(invitation.wave)
    typed = format_code(code).lower()  # as a resident might type it from the letter
    entry = client.post("/", data={"code": typed})
    assert entry.status_code == 303 and entry.location.endswith(f"/i/{normalize_code(typed)}")
    key = _key(client.get(f"/i/{code}").data)
    form = complete_answers(sections) | {"idempotency_key": key}
    assert client.post(f"/i/{code}", data=form).status_code == 303
    make.session.expire_all()
    assert make.session.get(Invitation, invitation.id).used_at is not None
    response = make.session.scalar(select(Response))
    assert response.channel == "invitation" and response.area_id == invitation.area_id
    used = client.get(f"/i/{code}")
    assert used.status_code == 410
    assert "already been used" in used.get_data(as_text=True)
    # A second submission with a fresh key cannot reuse the code.
    form["idempotency_key"] = "another-key-" + "x" * 20
    assert client.post(f"/i/{code}", data=form).status_code == 410
    assert _count(make) == 1


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
    page = client.get(f"/w/{wave.open_token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert phrase in html and "ppltrst" not in html


def test_draft_wave_is_invisible(client: FlaskClient, make: Factory) -> None:
    wave = make.wave(status=WaveStatus.DRAFT)
    assert client.get(f"/w/{wave.open_token}").status_code == 404


def test_invitation_only_wave_has_no_open_link(client: FlaskClient, make: Factory) -> None:
    wave = make.wave(mode="invitation")
    assert client.get(f"/w/{wave.open_token}").status_code == 404


def test_csrf_is_required_on_resident_posts(client: FlaskClient, make: Factory, app) -> None:
    wave = make.wave()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = client.get(f"/w/{wave.open_token}")
        form = complete_answers(wave_sections(wave)) | {"idempotency_key": _key(page.data)}
        assert client.post(f"/w/{wave.open_token}", data=form).status_code == 400
        token = re.search(rb'name="csrf_token" value="([^"]+)"', page.data).group(1).decode()
        ok = client.post(f"/w/{wave.open_token}", data=form | {"csrf_token": token})
        assert ok.status_code == 303
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert _count(make) == 1


def test_resident_pages_load_nothing_from_elsewhere(client: FlaskClient, make: Factory) -> None:
    wave = make.wave()
    for url in ("/", f"/w/{wave.open_token}", "/thanks"):
        html = client.get(url).get_data(as_text=True)
        assert not re.search(r'(src|href)="(https?:)?//', html), url
        assert "<script" not in html


def test_codes_avoid_ambiguous_characters() -> None:
    assert not set("0O1IL") & set(ALPHABET)
    codes = {generate_code() for _ in range(500)}
    assert len(codes) == 500
    code = codes.pop()
    assert hash_code(format_code(code).lower()) == hash_code(code)
    assert code not in hash_code(code)
