"""An area for every answer: per-area open links and posters, and the neighbourhood step.

Issue 17 item 2, driven like a resident's and a coordinator's browser.
"""

from __future__ import annotations

import re
from typing import Any

import pypdfium2
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from surveyapp.console.area_links import area_links
from surveyapp.instruments.registry import wave_sections
from surveyapp.models import AreaLink, Initiative, Response, WaveStatus
from surveyapp.reports import initiative_frame

from ..conftest import Factory, complete_answers, sign_in
from ..resident import Resident


def _responses(make: Factory) -> list[Response]:
    make.session.expire_all()
    return list(make.session.scalars(select(Response).order_by(Response.id)))


def _finish(resident: Resident, wave: Any) -> None:
    for section in wave_sections(wave):
        assert resident.submit(complete_answers([section])) == 303
    assert resident.url.endswith("/thanks")


def _city_wave(make: Factory, **fields: Any):
    city = make.city(languages=["en", "fr", "ar"])
    zuid, noord, centrum = (make.area(city, name=n) for n in ("Zuid", "Noord", "Centrum"))
    initiative = make.initiative(city, treated=[noord], comparison=[zuid])
    wave = make.wave(initiative, languages=["en", "fr", "ar"], **fields)
    return wave, {"Zuid": zuid, "Noord": noord, "Centrum": centrum}


def _link(make: Factory, wave: Any, area: Any) -> str:
    links = area_links(make.session, wave, "http://x")
    make.session.commit()
    return next(link.token for link in links if link.area.id == area.id)


def test_an_area_link_answer_lands_in_its_area(client: FlaskClient, make: Factory) -> None:
    wave, areas = _city_wave(make)
    token = _link(make, wave, areas["Noord"])
    resident = Resident(client)
    assert resident.open(f"/w/{token}") == 200
    assert "which neighbourhood that is" in resident.text  # said in the privacy notice
    assert resident.consent(area=None).endswith("/1")  # no neighbourhood question
    _finish(resident, wave)
    (sent,) = _responses(make)
    assert (sent.status, sent.area_id, sent.area_source) == (
        "complete",
        areas["Noord"].id,
        "area_link",
    )
    assert sent.channel == "open_link" and sent.area_reply is None
    frame = initiative_frame(make.session, make.session.get(Initiative, wave.initiative_id))
    assert list(frame["group"]) == ["treated"]  # it enters the comparison


def test_wave_wide_link_asks_the_neighbourhood_first(client: FlaskClient, make: Factory) -> None:
    wave, areas = _city_wave(make)
    resident = Resident(client)
    resident.open(f"/w/{wave.open_token}")
    area_url = resident.consent(area=None)
    assert area_url.endswith("/area")
    html = resident.text
    assert "<fieldset" in html and "<legend>Which neighbourhood do you live in?</legend>" in html
    labels = re.findall(r'<label for="area-[^"]+"[^>]*>([^<]+)</label>', html)
    assert labels == ["Centrum", "Noord", "Zuid", "Outside the city", "Don't know"]
    assert "<script" not in html and len(resident.html) <= 30_000
    # Nothing chosen: the question is named, no 500, nothing stored.
    assert resident.choose_area("") == 422
    assert "Please choose one of the answers." in resident.text
    assert resident.choose_area("999999") == 422  # not one of the offered areas
    assert _responses(make)[0].area_source is None
    # Resumable: the resume link and page URLs come back to the question until answered.
    key = area_url.split("/")[-2]
    assert client.get(f"/r/{key}").location.endswith("/1")
    assert client.get(f"/r/{key}/1").location.endswith(f"/r/{key}/area")
    assert resident.choose_area(str(areas["Zuid"].id)) == 303 and resident.url.endswith("/1")
    # Going back to the question shows the choice, which can still be changed.
    resident.open(area_url)
    assert re.search(rf'value="{areas["Zuid"].id}" checked', resident.text)
    resident.choose_area(str(areas["Noord"].id))
    _finish(resident, wave)
    (sent,) = _responses(make)
    assert (sent.area_id, sent.area_source, sent.area_reply) == (
        areas["Noord"].id,
        "self_reported",
        None,
    )
    # Sent: the question can no longer change it.
    assert client.post(area_url, data={"area": str(areas["Zuid"].id)}).status_code in (303, 404)
    assert _responses(make)[0].area_id == areas["Noord"].id


def test_dont_know_and_outside_are_kept_without_an_area(client: FlaskClient, make: Factory) -> None:
    wave, _areas = _city_wave(make)
    for reply in ("dont_know", "outside_city"):
        resident = Resident(client)
        client.post(f"/w/{wave.open_token}/new")  # the next person on this device
        resident.open(f"/w/{wave.open_token}")
        resident.consent(area=reply)
        _finish(resident, wave)
    sent = _responses(make)
    assert [(r.area_id, r.area_source, r.area_reply) for r in sent] == [
        (None, "self_reported", "dont_know"),
        (None, "self_reported", "outside_city"),
    ]
    frame = initiative_frame(make.session, make.session.get(Initiative, wave.initiative_id))
    assert len(frame) == 2 and set(frame["group"]) == {""}  # kept, outside the comparison


def test_neighbourhood_question_in_arabic_is_right_to_left(
    client: FlaskClient, make: Factory
) -> None:
    wave, _areas = _city_wave(make)
    resident = Resident(client)
    resident.open(f"/w/{wave.open_token}?lang=ar")
    resident.consent(area=None)
    assert 'dir="rtl"' in resident.text and 'lang="ar"' in resident.text
    assert "Which neighbourhood do you live in?" not in resident.text  # translated


def test_unknown_and_closed_area_links_say_so_kindly(client: FlaskClient, make: Factory) -> None:
    wave, areas = _city_wave(make)
    token = _link(make, wave, areas["Zuid"])
    unknown = client.get("/w/" + "x" * 22)
    assert unknown.status_code == 404 and "<html" in unknown.get_data(as_text=True)
    make.session.get(type(wave), wave.id).status = WaveStatus.CLOSED
    make.session.commit()
    closed = client.get(f"/w/{token}")
    assert closed.status_code == 200 and "closed" in closed.get_data(as_text=True).lower()
    assert client.get("/r/" + "y" * 30 + "/area").status_code == 404
    invitation_only, _ = _city_wave(make, mode="invitation")
    assert area_links(make.session, invitation_only, "http://x") == []


def test_wave_page_lists_area_links_and_area_posters_render(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    from ..console.test_views import qr_codes_in_pdf

    wave, areas = _city_wave(make, mode="open_link")
    sign_in(client, make.user(wave.initiative.city))
    page = client.get(f"/staff/waves/{wave.id}").get_data(as_text=True)
    assert "Open links and posters per area" in page
    links = make.session.scalars(select(AreaLink).where(AreaLink.wave_id == wave.id)).all()
    assert len(links) == 3 and len({link.token for link in links}) == 3
    assert all(len(link.token) >= 20 for link in links)
    again = client.get(f"/staff/waves/{wave.id}").get_data(as_text=True)
    assert make.session.scalar(select(func.count(AreaLink.id))) == 3  # the same links
    for link in links:
        assert f"/w/{link.token}" in page and f"/w/{link.token}" in again
    zuid = areas["Zuid"]
    for language in ("en", "fr", "ar"):
        poster = client.get(
            f"/staff/waves/{wave.id}/areas/{zuid.id}/poster.pdf?language={language}"
        )
        assert poster.status_code == 200 and poster.mimetype == "application/pdf"
        document = pypdfium2.PdfDocument(poster.data)
        assert len(document) == 1  # one A4 page
        assert "Zuid" in document[0].get_textpage().get_text_range()
        token = next(link.token for link in links if link.area_id == zuid.id)
        assert qr_codes_in_pdf(poster.data) == [f"{app.config['BASE_URL'].rstrip('/')}/w/{token}"]
    other_city_area = make.area()
    refused = client.get(f"/staff/waves/{wave.id}/areas/{other_city_area.id}/poster.pdf")
    assert refused.status_code == 303


def test_cli_lists_links_and_writes_an_area_poster(runner, make: Factory, tmp_path) -> None:
    import json

    from surveyapp.cli import main

    wave, areas = _city_wave(make, mode="both")
    listed = runner.invoke(main, ["waves", "links", str(wave.id), "--json"])
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.output)
    assert data["wave"].endswith(f"/w/{wave.open_token}")
    assert [a["name"] for a in data["areas"]] == ["Centrum", "Noord", "Zuid"]
    out = tmp_path / "poster.pdf"
    args = ["invitations", "poster", str(wave.id), "--language", "en", "--out", str(out)]
    made = runner.invoke(main, [*args, "--area", areas["Noord"].code])
    assert made.exit_code == 0, made.output
    assert len(pypdfium2.PdfDocument(out.read_bytes())) == 1
    assert runner.invoke(main, [*args, "--area", "nope"]).exit_code != 0
