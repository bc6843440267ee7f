"""Console forms refuse bad input with messages in the staff member's language."""

from __future__ import annotations

import io
import re

from babel.numbers import format_decimal
from flask.testing import FlaskClient
from sqlalchemy import select

from surveyapp.console.letter_jobs import MAX_JOB_LETTERS
from surveyapp.models import Area, Initiative, Invitation, Wave, WaveStatus

from ..conftest import Factory, sign_in

FRENCH = {"Accept-Language": "fr-FR,fr;q=0.9"}


def _page(client: FlaskClient, url: str, headers: dict | None = None) -> str:
    return client.get(url, headers=headers or {}).get_data(as_text=True)


def test_a_french_coordinator_reads_area_errors_in_french(
    client: FlaskClient, make: Factory
) -> None:
    city = make.city()
    make.area(city, code="D1")
    sign_in(client, make.user(city))
    areas = f"/staff/cities/{city.id}/areas"
    empty = client.post(areas, data={"code": " ", "name": "Docks"}, headers=FRENCH)
    assert empty.status_code == 303
    assert "Indiquez le code du secteur." in _page(client, areas, FRENCH)
    client.post(areas, data={"code": "d1", "name": "Encore"}, headers=FRENCH)
    page = _page(client, areas, FRENCH)
    assert "La ville a déjà un secteur avec le code &#39;d1&#39;." in page
    assert "already has an area" not in page
    assert make.session.scalars(select(Area).where(Area.city_id == city.id)).all()[1:] == []


def test_margin_file_problems_are_listed_in_french(client: FlaskClient, make: Factory) -> None:
    area = make.area()
    sign_in(client, make.user(area.city))
    bad = "age_band,gender,population\n16-24,woman,-3\n16-24,woman,4\n"
    page = client.post(
        f"/staff/areas/{area.id}/margins",
        data={"file": (io.BytesIO(bad.encode()), "margins.csv")},
        content_type="multipart/form-data",
        headers=FRENCH,
    )
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert "Ligne 2, colonne 3" in html and "la population ne peut pas être négative" in html
    assert "Ligne 3" not in html  # the negative line is refused, so 16-24 x woman is new here


def test_initiative_form_keeps_treated_and_comparison_apart(
    client: FlaskClient, make: Factory
) -> None:
    city = make.city()
    docks = make.area(city)
    sign_in(client, make.user(city))
    page = client.post(
        f"/staff/cities/{city.id}/initiatives/new",
        data={
            "name": "Meals",
            "pyramid_level": "2",
            "treated": [str(docks.id)],
            "comparison": [str(docks.id)],
        },
    )
    assert page.status_code == 422
    assert "cannot be both treated and a comparison area" in page.get_data(as_text=True)
    assert 'value="Meals"' in page.get_data(as_text=True)  # what was typed stays
    assert make.session.scalar(select(Initiative)) is None


def test_initiative_form_names_every_missing_field(client: FlaskClient, make: Factory) -> None:
    city = make.city()
    sign_in(client, make.user(city))
    page = client.post(f"/staff/cities/{city.id}/initiatives/new", data={}, headers=FRENCH)
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "Donnez un nom à l&#39;initiative." in html
    assert "Choisissez un niveau de la pyramide de prévention (0 à 4)." in html
    assert "Choisissez au moins un secteur où l&#39;initiative a lieu." in html


def test_wave_form_refuses_backward_dates_and_a_zero_retention(
    client: FlaskClient, make: Factory
) -> None:
    initiative = make.initiative()
    make.instrument_row()
    sign_in(client, make.user(initiative.city))
    url = f"/staff/initiatives/{initiative.id}/waves/new"
    row_id = re.search(r'name="instrument" value="(\d+)"', _page(client, url)).group(1)
    data = {
        "name": "Baseline",
        "instrument": row_id,
        "languages": ["en"],
        "mode": "invitation",
        "opens_at": "2027-03-01",
        "closes_at": "2027-02-01",
        "retention_days": "0",
    }
    page = client.post(url, data=data, headers=FRENCH)
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "La date de clôture doit être postérieure à la date d&#39;ouverture." in html
    assert "La durée de conservation doit être comprise entre 1 et 3650 jours." in html
    data |= {"closes_at": "2027-03-01", "retention_days": "30"}  # one day is a whole day
    assert client.post(url, data=data).status_code == 303
    wave = make.session.scalar(select(Wave).where(Wave.initiative_id == initiative.id))
    assert wave.retention_days == 30 and wave.closes_at > wave.opens_at


def test_letter_requests_are_checked_before_any_code_is_made(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave(mode="invitation")
    area = wave.initiative.areas_with_role("treated")[0]
    other = wave.initiative.areas_with_role("comparison")[0]
    sign_in(client, make.user(wave.initiative.city))
    here = f"/staff/waves/{wave.id}"
    most = format_decimal(MAX_JOB_LETTERS, locale="fr")
    named = f"Lettres pour {area.name} : indiquez un nombre entier de 0 à {most}."
    for counts, message in (
        (("-2", "0"), named),
        ((str(MAX_JOB_LETTERS + 1), "0"), named),
        (("15000", "5001"), f"Au maximum {most} lettres à la fois ici"),
    ):
        data = {f"area-{area.id}": counts[0], f"area-{other.id}": counts[1], "language": "en"}
        refused = client.post(f"{here}/invitations", data=data, headers=FRENCH)
        assert refused.status_code == 303
        assert message in _page(client, here, FRENCH)
    assert make.session.scalar(select(Invitation)) is None


def test_a_refused_lifecycle_step_is_explained_in_french(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave(status=WaveStatus.DRAFT)
    sign_in(client, make.user(wave.initiative.city))
    refused = client.post(f"/staff/waves/{wave.id}/archive", headers=FRENCH)
    assert refused.status_code == 303
    assert "Seule une vague clôturée peut être archivée." in _page(
        client, f"/staff/waves/{wave.id}", FRENCH
    )
    make.session.expire_all()
    assert make.session.get(Wave, wave.id).status == WaveStatus.DRAFT
