"""City staff run their surveys from the console: areas, initiatives, waves, letters, monitoring."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import timedelta

import pypdfium2
import pytest
import zxingcpp
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select

from surveyapp.db import utcnow
from surveyapp.models import (
    Area,
    AuditEvent,
    Initiative,
    Invitation,
    Response,
    Role,
    Wave,
    WaveStatus,
)
from surveyapp.respond.codes import hash_code, normalize_code
from tests.letters import letters_zip

from ..conftest import ACKNOWLEDGE_DRAFTS, TEST_CODE_KEY, Factory, sign_in


def _actions(make: Factory, action: str) -> list[AuditEvent]:
    make.session.expire_all()
    return list(make.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def qr_codes_in_pdf(pdf: bytes, page: int = 0) -> list[str]:
    """Decode every QR code on a PDF page rendered at 200 dpi, as a phone camera would see it."""
    document = pypdfium2.PdfDocument(pdf)
    image = document[page].render(scale=200 / 72).to_pil()
    return [result.text for result in zxingcpp.read_barcodes(image)]


# --- Areas ----------------------------------------------------------------------------------


def test_areas_are_created_and_renamed(client: FlaskClient, make: Factory) -> None:
    city = make.city()
    sign_in(client, make.user(city))
    added = client.post(f"/staff/cities/{city.id}/areas", data={"code": "D1", "name": "Docks"})
    assert added.status_code == 303
    twice = client.post(f"/staff/cities/{city.id}/areas", data={"code": "d1", "name": "Again"})
    assert twice.status_code == 303
    page = client.get(f"/staff/cities/{city.id}/areas").get_data(as_text=True)
    assert "Docks" in page and "already has an area with the code" in page
    area = make.session.scalar(select(Area).where(Area.city_id == city.id))
    client.post(f"/staff/areas/{area.id}", data={"code": "D1", "name": "Old docks"})
    make.session.expire_all()
    assert make.session.get(Area, area.id).name == "Old docks"
    assert len(_actions(make, "area_created")) == 1 and _actions(make, "area_changed")


def test_margins_upload_reports_every_bad_line_and_saves_nothing(
    client: FlaskClient, make: Factory
) -> None:
    area = make.area()
    sign_in(client, make.user(area.city))
    bad = "age_band;gender;population\n16-24;woman;120\n16-24;woman;80\n25-34;;40\n35-44;man;lots\n"
    page = client.post(
        f"/staff/areas/{area.id}/margins",
        data={"file": (io.BytesIO(bad.encode()), "margins.csv")},
        content_type="multipart/form-data",
    )
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert "Line 3" in html and "already given on line 2" in html
    assert "Line 4" in html and "gender is empty" in html
    assert "Line 5" in html and "not a whole number" in html
    make.session.expire_all()
    assert make.session.get(Area, area.id).margins == []
    good = "\ufeffage_band,gender,population\n16-24,woman,120\n16-24,man,110\n"
    saved = client.post(
        f"/staff/areas/{area.id}/margins",
        data={"file": (io.BytesIO(good.encode()), "margins.csv")},
        content_type="multipart/form-data",
    )
    assert saved.status_code == 303
    make.session.expire_all()
    margins = make.session.get(Area, area.id).margins
    # Stored as the questionnaire's codes (Woman 1, Man 2), which weighting matches.
    assert sorted((m.gender, m.population) for m in margins) == [("1", 120), ("2", 110)]


# --- Initiatives ----------------------------------------------------------------------------


def test_initiative_is_registered_and_grouped_by_pyramid_level(
    client: FlaskClient, make: Factory
) -> None:
    city = make.city()
    docks, park, school = (make.area(city, name=n) for n in ("Docks", "Park", "School"))
    sign_in(client, make.user(city))
    created = client.post(
        f"/staff/cities/{city.id}/initiatives/new",
        data={
            "name": "Neighbourhood meals",
            "description": "Monthly shared meals.",
            "pyramid_level": "2",
            "constructs": ["trust", "belonging"],
            "treated": [str(docks.id), str(park.id)],
            "comparison": [str(school.id)],
            "start_date": "2026-03-01",
        },
    )
    assert created.status_code == 303
    initiative = make.session.scalar(select(Initiative).where(Initiative.city_id == city.id))
    assert initiative.pyramid_level == 2 and initiative.target_constructs == ["belonging", "trust"]
    assert {a.name for a in initiative.areas_with_role("treated")} == {"Docks", "Park"}
    home = client.get("/staff/").get_data(as_text=True)
    level2 = home.index("Pyramid level 2")
    assert level2 < home.index("Neighbourhood meals") < home.index("Pyramid level 3")


def test_initiative_cannot_use_another_citys_area(client: FlaskClient, make: Factory) -> None:
    city, other = make.city(), make.city()
    foreign = make.area(other)
    sign_in(client, make.user(city))
    page = client.post(
        f"/staff/cities/{city.id}/initiatives/new",
        data={"name": "X", "pyramid_level": "1", "treated": [str(foreign.id)]},
    )
    assert page.status_code == 422
    assert "do not belong to this city" in page.get_data(as_text=True)
    assert make.session.scalar(select(Initiative)) is None


# --- Waves ----------------------------------------------------------------------------------


def test_wave_is_created_with_complete_languages_only(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    initiative = make.initiative()
    make.instrument_row()
    sign_in(client, make.user(initiative.city))
    form = client.get(f"/staff/initiatives/{initiative.id}/waves/new").get_data(as_text=True)
    assert 'value="ar"' in form and 'value="fr"' in form
    row_id = re.search(r'name="instrument" value="(\d+)"', form).group(1)
    data = {
        "name": "Baseline",
        "instrument": row_id,
        "modules": ["demographics"],
        "languages": ["en", "xx"],
        "mode": "both",
        "opens_at": "2026-12-01",
        "closes_at": "2026-12-31",
        "retention_days": "365",
    }
    refused = client.post(f"/staff/initiatives/{initiative.id}/waves/new", data=data)
    assert refused.status_code == 422
    assert "not fully translated into: xx" in refused.get_data(as_text=True)
    data["languages"] = ["en", "ar"]
    created = client.post(f"/staff/initiatives/{initiative.id}/waves/new", data=data)
    assert created.status_code == 303
    wave = make.session.scalar(select(Wave).where(Wave.initiative_id == initiative.id))
    assert wave.status == WaveStatus.DRAFT and wave.languages == ["en", "ar"]
    assert wave.modules == ["demographics"] and wave.retention_days == 365
    assert wave.closes_at.date().isoformat() == "2026-12-31"


def test_lifecycle_freezes_closes_reopens_archives_with_audit(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave(status=WaveStatus.DRAFT, open_token=None)
    sign_in(client, make.user(wave.initiative.city))
    assert client.post(f"/staff/waves/{wave.id}/open", data=ACKNOWLEDGE_DRAFTS).status_code == 303
    make.session.expire_all()
    wave = make.session.get(Wave, wave.id)
    assert (
        wave.status == WaveStatus.OPEN
        and wave.frozen_instrument_hash == wave.instrument.content_hash
    )
    assert wave.open_token
    # A resident starts; the wave closes; the draft is kept and flagged.
    resident = client.application.test_client()
    welcome = resident.get(f"/w/{wave.open_token}")
    key = re.search(rb'name="idempotency_key" value="([^"]+)"', welcome.data).group(1)
    resident.post(f"/w/{wave.open_token}", data={"idempotency_key": key})
    assert client.post(f"/staff/waves/{wave.id}/close").status_code == 303
    make.session.expire_all()
    draft = make.session.scalar(select(Response).where(Response.wave_id == wave.id))
    assert "wave_closed_while_draft" in draft.quality_flags
    assert client.post(f"/staff/waves/{wave.id}/delete").status_code == 303
    assert "cannot be deleted" in client.get(f"/staff/waves/{wave.id}").get_data(as_text=True)
    client.post(f"/staff/waves/{wave.id}/open", data=ACKNOWLEDGE_DRAFTS)  # reopen
    client.post(f"/staff/waves/{wave.id}/close")
    client.post(f"/staff/waves/{wave.id}/archive")
    make.session.expire_all()
    assert make.session.get(Wave, wave.id).status == WaveStatus.ARCHIVED
    for action in ("wave_opened", "wave_closed", "wave_reopened", "wave_archived"):
        assert _actions(make, action), action


def test_draft_wave_without_responses_can_be_deleted(client: FlaskClient, make: Factory) -> None:
    wave = make.wave(status=WaveStatus.DRAFT)
    sign_in(client, make.user(wave.initiative.city))
    assert client.post(f"/staff/waves/{wave.id}/delete").status_code == 303
    make.session.expire_all()
    assert make.session.get(Wave, wave.id) is None
    assert _actions(make, "wave_deleted")


def test_scheduled_opening_waits_for_its_date(client: FlaskClient, make: Factory) -> None:
    wave = make.wave(
        status=WaveStatus.DRAFT,
        opens_at=utcnow() + timedelta(days=5),
    )
    sign_in(client, make.user(wave.initiative.city))
    assert "Schedule opening" in client.get(f"/staff/waves/{wave.id}").get_data(as_text=True)
    client.post(f"/staff/waves/{wave.id}/open", data=ACKNOWLEDGE_DRAFTS)
    page = client.get(f"/staff/waves/{wave.id}").get_data(as_text=True)
    assert "scheduled: residents can answer from" in page
    resident = client.application.test_client().get(f"/w/{wave.open_token}")
    assert "has not started yet" in resident.get_data(as_text=True)


# --- Invitations ----------------------------------------------------------------------------


def test_letters_have_scannable_qr_codes_and_working_codes(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    wave = make.wave(mode="invitation")
    treated = wave.initiative.areas_with_role("treated")[0]
    comparison = wave.initiative.areas_with_role("comparison")[0]
    sign_in(client, make.user(wave.initiative.city))
    archive = letters_zip(
        client,
        f"/staff/waves/{wave.id}/invitations",
        {f"area-{treated.id}": "3", f"area-{comparison.id}": "2", "language": "fr"},
    )
    rows = list(csv.DictReader(io.StringIO(archive.read("codes.csv").decode("utf-8-sig"))))
    assert len(rows) == 5
    assert sorted(r["area_name"] for r in rows).count(treated.name) == 3
    pdf = archive.read("letters.pdf")
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 5
    first_page_text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert (
        "Madame, Monsieur" in first_page_text
        or "Chère" in first_page_text
        or rows[0]["code"] in first_page_text
    )
    # The QR code on the first letter decodes to that letter's invitation link.
    assert qr_codes_in_pdf(pdf, 0) == [rows[0]["url"]]
    assert (
        rows[0]["url"]
        == f"{app.config['BASE_URL'].rstrip('/')}/i/{normalize_code(rows[0]['code'])}"
    )
    # Only keyed hashes are stored (the plain SHA-256 of a code in the mail-merge CSV
    # matches nothing); each code opens its questionnaire.
    make.session.expire_all()
    stored = {i.code_hash for i in make.session.scalars(select(Invitation))}
    assert {hash_code(r["code"], TEST_CODE_KEY) for r in rows} == stored
    plain = {hashlib.sha256(normalize_code(r["code"]).encode()).hexdigest() for r in rows}
    assert not plain & stored
    assert not any(normalize_code(r["code"]) in h for r in rows for h in stored)
    resident = client.application.test_client().get(rows[4]["url"].split(":5000", 1)[-1])
    assert resident.status_code == 200
    assert _actions(make, "codes_generated") and _actions(make, "letters_downloaded")


def test_bad_letter_requests_are_refused(client: FlaskClient, make: Factory) -> None:
    wave = make.wave(mode="invitation")
    other_area = make.area()
    treated = wave.initiative.areas_with_role("treated")[0]
    sign_in(client, make.user(wave.initiative.city))
    for data, message in (
        ({"area-1": "2", "language": "de"}, "Choose a language of the wave"),
        ({f"area-{other_area.id}": "2", "language": "en"}, "the initiative&#39;s own areas"),
        ({"language": "en"}, "at least one area"),
        ({f"area-{treated.id}": "many", "language": "en"}, f"Letters for {treated.name}:"),
    ):
        page = client.post(f"/staff/waves/{wave.id}/invitations", data=data)
        assert page.status_code == 303
        assert message in client.get(f"/staff/waves/{wave.id}").get_data(as_text=True)
    assert make.session.scalar(select(Invitation)) is None


def test_open_link_poster_has_a_scannable_qr_code(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    wave = make.wave(mode="open_link")
    sign_in(client, make.user(wave.initiative.city))
    poster = client.get(f"/staff/waves/{wave.id}/poster.pdf?language=fr")
    assert poster.status_code == 200 and poster.mimetype == "application/pdf"
    expected = f"{app.config['BASE_URL'].rstrip('/')}/w/{wave.open_token}"
    assert qr_codes_in_pdf(poster.data) == [expected]


# --- Monitoring -----------------------------------------------------------------------------


def _responses(make: Factory, wave: Wave, complete: int, drafts: int, language: str = "en"):
    area = wave.initiative.areas_with_role("treated")[0]
    now = utcnow()
    for i in range(complete + drafts):
        done = i < complete
        make.session.add(
            Response(
                wave_id=wave.id,
                area_id=area.id,
                language=language,
                channel="invitation",
                status="complete" if done else "draft",
                started_at=None if done else now,
                submitted_on=now.date() if done else None,
                idempotency_key=f"k-{wave.id}-{language}-{i}-{'x' * 12}",
                quality_flags=[],
                page=1 if done else 2,
            )
        )
    make.session.commit()


def test_monitoring_masks_small_counts_except_for_admins(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    wave = make.wave()
    _responses(make, wave, complete=12, drafts=3)
    _responses(make, wave, complete=4, drafts=0, language="fr")
    sign_in(client, make.user(wave.initiative.city, role=Role.COORDINATOR))
    page = client.get(f"/staff/waves/{wave.id}/monitor").get_data(as_text=True)
    assert '<dd id="started">19</dd>' in page and '<dd id="completed">16</dd>' in page
    assert "&lt;10" in page  # 3 drafts and 4 French responses are masked
    assert "<svg" in page and "<script" not in page
    admin = app.test_client()
    sign_in(admin, make.user(wave.initiative.city, role=Role.ADMIN))
    exact = admin.get(f"/staff/waves/{wave.id}/monitor").get_data(as_text=True)
    assert "&lt;10" not in exact
    assert re.search(
        r"<td>French</td><td[^>]*>[^<]*</td><td>4</td><td>4</td>", exact
    )  # a name, not "fr"
    assert "1. Trust in people" in exact


def test_monitoring_names_the_pages_in_the_staff_members_language(
    client: FlaskClient, make: Factory
) -> None:
    """Where unfinished questionnaires stopped: the page titles in the console's language."""
    wave = make.wave()
    _responses(make, wave, complete=0, drafts=12)
    sign_in(client, make.user(wave.initiative.city, role=Role.COORDINATOR))
    page = client.get(
        f"/staff/waves/{wave.id}/monitor", headers={"Accept-Language": "fr-BE,fr;q=0.9"}
    ).get_data(as_text=True)
    assert "2. Vos voisins" in page and "1. Confiance envers les gens" in page
    assert "Trust in people" not in page
    assert "<td>Anglais</td>" in page  # the questionnaire languages named in French too


# --- Roles, audit, throttling ---------------------------------------------------------------


def test_analysts_read_but_cannot_change(client: FlaskClient, make: Factory) -> None:
    wave = make.wave(status=WaveStatus.DRAFT)
    city = wave.initiative.city
    sign_in(client, make.user(city, role=Role.ANALYST))
    assert client.get(f"/staff/waves/{wave.id}").status_code == 200
    assert client.get(f"/staff/waves/{wave.id}/monitor").status_code == 200
    assert client.post(f"/staff/waves/{wave.id}/open", data=ACKNOWLEDGE_DRAFTS).status_code == 403
    assert (
        client.post(f"/staff/cities/{city.id}/areas", data={"code": "a", "name": "b"}).status_code
        == 403
    )
    assert client.get(f"/staff/cities/{city.id}/audit").status_code == 403
    make.session.expire_all()
    assert make.session.get(Wave, wave.id).status == WaveStatus.DRAFT


def test_admins_see_the_audit_log(client: FlaskClient, make: Factory) -> None:
    wave = make.wave(status=WaveStatus.DRAFT)
    sign_in(client, make.user(wave.initiative.city, role=Role.ADMIN))
    client.post(f"/staff/waves/{wave.id}/open", data=ACKNOWLEDGE_DRAFTS)
    log = client.get(f"/staff/cities/{wave.initiative.city_id}/audit").get_data(as_text=True)
    assert "Opened a wave" in log and f"Wave “{wave.name}”" in log
    assert "wave_opened" not in log


def test_sign_in_is_throttled_per_account(app: Flask, make: Factory) -> None:
    client = app.test_client()
    user = make.user(make.city(), email="target@city.example")
    for _ in range(5):
        sign_in(client, user, "guess!!", expect=401)
    blocked = sign_in(client, user, expect=429)
    assert "Too many attempts" in blocked.get_data(as_text=True)
    # Other accounts are not affected.
    other = make.user(make.city(), email="other@city.example")
    sign_in(client, other)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.COORDINATOR, Role.ANALYST])
def test_console_pages_render_for_every_role(client: FlaskClient, make: Factory, role) -> None:
    wave = make.wave()
    city = wave.initiative.city
    sign_in(client, make.user(city, role=role))
    area = wave.initiative.areas_with_role("treated")[0]
    for url in (
        "/staff/",
        f"/staff/cities/{city.id}/areas",
        f"/staff/areas/{area.id}",
        f"/staff/initiatives/{wave.initiative_id}",
        f"/staff/waves/{wave.id}",
        f"/staff/waves/{wave.id}/monitor",
    ):
        assert client.get(url).status_code == 200, url
