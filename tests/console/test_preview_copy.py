"""Preview a wave as residents see it, and copy a wave's settings for the next round."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from markupsafe import escape
from sqlalchemy import func, select

from surveyapp.cli import main
from surveyapp.i18n import translations_dir
from surveyapp.i18n.instrument import translated_sections
from surveyapp.models import (
    Answer,
    AuditEvent,
    Invitation,
    PageSubmission,
    Response,
    Role,
    UsedInvitations,
    Wave,
    WaveMode,
    WaveStatus,
)

from ..conftest import Factory, sign_in

# Page 1 of the core questionnaire: ESS ppltrst's top answer, as residents read it.
TRUST_EN = "Most people can be trusted"
TRUST_FR = "On peut faire confiance aux gens"  # ESS France's end label (round 6, A3)


def _counts(make: Factory) -> tuple[int, ...]:
    make.session.expire_all()
    return tuple(
        make.session.scalar(select(func.count()).select_from(model))
        for model in (Response, Answer, PageSubmission, Invitation, UsedInvitations, AuditEvent)
    )


def test_preview_shows_the_questions_in_each_language_of_the_wave(
    client: FlaskClient, make: Factory
) -> None:
    city = make.city()
    wave = make.wave(make.initiative(city), languages=["en", "fr"], status=WaveStatus.DRAFT)
    sign_in(client, make.user(city))
    english = client.get(f"/staff/waves/{wave.id}/preview/1?language=en").get_data(as_text=True)
    french = client.get(f"/staff/waves/{wave.id}/preview/1?language=fr").get_data(as_text=True)
    assert TRUST_EN in english and TRUST_FR not in english
    assert TRUST_FR in french and TRUST_EN not in french
    assert '<html lang="fr" dir="ltr">' in french
    assert "Preview of Baseline" in french  # the banner stays in the staff member's language
    # The page's buttons cannot send: a resident's page would have them enabled.
    assert 'value="next" disabled' in french and "data-keep" not in french


def test_arabic_preview_reads_right_to_left_with_arabic_questions(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    city = make.city()
    wave = make.wave(make.initiative(city), languages=["en", "ar"])
    sign_in(client, make.user(city, role=Role.ANALYST))
    page = client.get(f"/staff/waves/{wave.id}/preview/1?language=ar")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in text
    with app.app_context():
        first = make.core.sections_for([])[0]
        arabic = translated_sections(make.core, [first], "ar", translations_dir())[0]
    assert arabic.items[0].text != first.items[0].text
    assert str(escape(arabic.items[0].text)) in text
    assert '<aside class="preview-banner" role="note" lang="en" dir="ltr"' in text


def test_previewing_every_page_stores_nothing(client: FlaskClient, make: Factory) -> None:
    city = make.city()
    wave = make.wave(
        make.initiative(city), languages=["en", "fr"], modules=["neighbourhood_disorder"]
    )
    make.invitation(wave)
    sign_in(client, make.user(city))
    before = _counts(make)
    pages = len(make.core.sections_for(["neighbourhood_disorder"]))
    wave_page = client.get(f"/staff/waves/{wave.id}").get_data(as_text=True)
    assert f"/staff/waves/{wave.id}/preview" in wave_page
    welcome = client.get(f"/staff/waves/{wave.id}/preview")
    assert welcome.status_code == 200
    assert "I agree, start the survey" in welcome.get_data(as_text=True)
    # The welcome page's resident language links stay in the preview, banner unchanged.
    french = client.get(f"/staff/waves/{wave.id}/preview?lang=fr", follow_redirects=True)
    assert "J'accepte et je commence l'enquête" in french.get_data(as_text=True)
    assert "Preview of Baseline" in french.get_data(as_text=True)
    for language in ("en", "fr"):
        for page in range(1, pages + 2):  # the questions, then the review page
            shown = client.get(f"/staff/waves/{wave.id}/preview/{page}?language={language}")
            assert shown.status_code == 200, (language, page)
    assert 'value="send" disabled' in shown.get_data(as_text=True)  # "Envoyer mes réponses"
    assert client.get(f"/staff/waves/{wave.id}/preview/{pages + 2}").status_code == 404
    # Nothing can be sent from the preview, not even by hand.
    assert client.post(f"/staff/waves/{wave.id}/preview/1", data={"nav": "next"}).status_code == 405
    assert _counts(make) == before


def test_preview_of_a_city_wide_round(client: FlaskClient, make: Factory) -> None:
    city = make.city()
    make.area(city)
    wave = make.citywide_wave(city, status=WaveStatus.DRAFT)
    sign_in(client, make.user(city))
    assert TRUST_EN in client.get(f"/staff/waves/{wave.id}/preview/1").get_data(as_text=True)


def test_another_citys_staff_cannot_preview_or_copy(client: FlaskClient, make: Factory) -> None:
    city = make.city()
    wave = make.wave(make.initiative(city), name="Secret wave")
    sign_in(client, make.user(make.city(), role=Role.ADMIN))
    before = _counts(make)
    for url in ("preview", "preview/1?language=fr", "copy"):
        answer = client.get(f"/staff/waves/{wave.id}/{url}")
        assert answer.status_code == 404 and "Secret wave" not in answer.get_data(as_text=True)
    assert client.post(f"/staff/waves/{wave.id}/copy", data={"name": "Mine"}).status_code == 404
    assert _counts(make) == before


def test_copy_form_is_filled_in_with_the_waves_settings(client: FlaskClient, make: Factory) -> None:
    city = make.city()
    wave = make.wave(
        make.initiative(city),
        languages=["en", "fr"],
        modules=["neighbourhood_disorder"],
        retention_days=400,
    )
    sign_in(client, make.user(city))
    assert "Copy for the next round" in client.get(f"/staff/waves/{wave.id}").get_data(as_text=True)
    form = client.get(f"/staff/waves/{wave.id}/copy").get_data(as_text=True)
    assert 'value="Baseline (copy)"' in form
    assert (
        'id="module-neighbourhood_disorder" name="modules" value="neighbourhood_disorder" checked'
        in form
    )
    assert 'id="language-fr" name="languages" value="fr" checked' in form
    assert 'id="mode-both" name="mode" value="both" checked' in form
    assert 'id="mode-invitation" name="mode" value="invitation">' in form
    assert 'name="retention_days" min="1" max="3650" value="400"' in form
    assert 'id="opens_at" name="opens_at" value=""' in form


def test_copy_makes_a_draft_with_the_same_settings_and_no_responses(
    client: FlaskClient, make: Factory
) -> None:
    city = make.city()
    initiative = make.initiative(city)
    wave = make.wave(
        initiative,
        languages=["en", "fr"],
        modules=["neighbourhood_disorder"],
        mode=WaveMode.INVITATION,
        is_panel=True,
        retention_days=400,
        status=WaveStatus.CLOSED,
    )
    make.invitation(wave)
    coordinator = make.user(city)
    sign_in(client, coordinator)
    data = {
        "name": "Follow-up 2027",
        "instrument": str(wave.instrument_id),
        "modules": ["neighbourhood_disorder"],
        "languages": ["en", "fr"],
        "mode": "invitation",
        "retention_days": "400",
        "is_panel": "y",
    }
    answer = client.post(f"/staff/waves/{wave.id}/copy", data=data)
    assert answer.status_code == 303
    copy = make.session.scalars(select(Wave).where(Wave.name == "Follow-up 2027")).one()
    assert answer.headers["Location"].endswith(f"/staff/waves/{copy.id}")
    assert copy.id != wave.id and copy.status == WaveStatus.DRAFT
    assert (copy.initiative_id, copy.city_id, copy.instrument_id) == (
        initiative.id,
        city.id,
        make.session.get(Wave, wave.id).instrument_id,
    )
    assert (copy.modules, copy.languages, copy.mode) == (
        ["neighbourhood_disorder"],
        ["en", "fr"],
        "invitation",
    )
    assert copy.is_panel and copy.retention_days == 400
    assert copy.opens_at is None and copy.closes_at is None and copy.open_token is None
    assert copy.frozen_instrument_hash is None
    assert not copy.responses and not copy.invitations
    event = make.session.scalars(select(AuditEvent).where(AuditEvent.action == "wave_copied")).one()
    assert (event.object_id, event.details["copied_from"]) == (str(copy.id), wave.id)
    assert event.user_id == coordinator.id


def test_copy_of_a_city_wide_round_keeps_its_areas(client: FlaskClient, make: Factory) -> None:
    city = make.city()
    north, south, _east = make.area(city), make.area(city), make.area(city)
    wave = make.citywide_wave(city, [north, south])
    sign_in(client, make.user(city))
    form = client.get(f"/staff/waves/{wave.id}/copy").get_data(as_text=True)
    assert f'name="areas" value="{north.id}" checked' in form
    assert f'name="areas" value="{_east.id}">' in form
    data = {
        "name": "City round 2027",
        "instrument": str(wave.instrument_id),
        "languages": ["en", "fr"],
        "mode": "both",
        "retention_days": "730",
        "areas": [str(north.id), str(south.id)],
    }
    assert client.post(f"/staff/waves/{wave.id}/copy", data=data).status_code == 303
    copy = make.session.scalars(select(Wave).where(Wave.name == "City round 2027")).one()
    assert copy.initiative_id is None and copy.city_id == city.id
    assert sorted(link.area_id for link in copy.area_links) == sorted([north.id, south.id])
    assert copy.status == WaveStatus.DRAFT


def test_analysts_cannot_copy(client: FlaskClient, make: Factory) -> None:
    city = make.city()
    wave = make.wave(make.initiative(city))
    sign_in(client, make.user(city, role=Role.ANALYST))
    assert client.get(f"/staff/waves/{wave.id}/copy").status_code == 403


def test_cli_copies_a_city_wide_round_with_its_areas(runner: FlaskCliRunner, make: Factory) -> None:
    city = make.city()
    north, _south = make.area(city), make.area(city)
    wave = make.citywide_wave(
        city, [north], languages=["en", "fr"], mode=WaveMode.OPEN_LINK, retention_days=90
    )
    result = runner.invoke(main, ["waves", "copy", str(wave.id), "--name", "Round 2"])
    assert result.exit_code == 0, result.output
    copy = make.session.scalars(select(Wave).where(Wave.name == "Round 2")).one()
    assert f"a copy of wave {wave.id}" in result.output
    assert copy.status == WaveStatus.DRAFT and copy.initiative_id is None
    assert (copy.languages, copy.mode, copy.retention_days) == (["en", "fr"], "open_link", 90)
    assert [link.area_id for link in copy.area_links] == [north.id]
    assert copy.opens_at is None and copy.open_token is None
