"""Margins written with the questionnaire's labels are weighted; anything else is refused."""

from __future__ import annotations

import io

import pandas as pd
from flask.testing import FlaskClient

from surveyapp.models import Area
from surveyapp.reports import add_area_weights

from ..conftest import Factory, sign_in

LABELLED = (
    "age_band;gender;population\n"
    "16-24;Femme;1200\n"  # French label of the wave (fr)
    "16-24;man;800\n"  # English label, any case
    "2;1;3000\n"  # codes
    "25-34;Man;1000\n"
)


def _upload(client: FlaskClient, area: Area, text: str):
    return client.post(
        f"/staff/areas/{area.id}/margins",
        data={"file": (io.BytesIO(text.encode()), "margins.csv")},
        content_type="multipart/form-data",
    )


def test_labelled_margins_are_saved_as_codes_and_weighted(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave(languages=["fr", "en"], modules=["demographics"])
    area = wave.initiative.areas_with_role("treated")[0]
    sign_in(client, make.user(area.city))
    assert _upload(client, area, LABELLED).status_code == 303
    make.session.expire_all()
    margins = make.session.get(Area, area.id).margins
    stored = sorted((m.age_band, m.gender, m.population) for m in margins)
    assert stored == [("1", "1", 1200), ("1", "2", 800), ("2", "1", 3000), ("2", "2", 1000)]
    # Ten respondents per cell: each weighs a tenth of its cell's population.
    frame = pd.DataFrame(
        {
            "wave": ["Baseline"] * 40,
            "area": [area.code] * 40,
            "age_band": [1] * 20 + [2] * 20,
            "gender": ([1] * 10 + [2] * 10) * 2,
        }
    )
    weighted, notes = add_area_weights(make.session, frame, city_id=area.city_id)
    assert notes == []
    assert weighted["weight"].iloc[::10].tolist() == [120.0, 80.0, 300.0, 100.0]


def test_values_weighting_cannot_use_are_refused_with_line_and_column(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave(modules=["demographics"])
    area = wave.initiative.areas_with_role("treated")[0]
    sign_in(client, make.user(area.city))
    bad = "age_band,gender,population\n16-24,female,1200\n15-19,Woman,50\n1,2,7\n16-24,man,8\n"
    page = _upload(client, area, bad)
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert "Line 2, column 2" in html and "gender 'female' is not one of" in html
    assert "1 (Woman), 2 (Man)" in html
    assert "Line 3, column 1" in html and "age_band '15-19'" in html
    assert "Line 5, column 1" in html and "already given on line 4" in html
    make.session.expire_all()
    assert make.session.get(Area, area.id).margins == []
