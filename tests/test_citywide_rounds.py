"""City-wide rounds end to end: the console pages of a round, and two initiatives evaluated
from one baseline and one follow-up round over six areas (report, dashboard, dataset, API)."""

from __future__ import annotations

import csv
import io
import math
from datetime import timedelta

import numpy as np
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from surveyapp import designs
from surveyapp.api.tokens import create_token
from surveyapp.db import utcnow
from surveyapp.models import (
    Answer,
    AreaRole,
    Initiative,
    InitiativeArea,
    Invitation,
    Response,
    ResponseStatus,
    Role,
    Wave,
)
from surveyapp.reports import initiative_frame
from tests.letters import letters_zip

from .conftest import ACKNOWLEDGE_DRAFTS, Factory, sign_in

PER_AREA = 30


def _answers(items, rng: np.random.Generator, shift: float) -> list[Answer]:
    """Answers driven by one latent level per response (so the indices hang together)."""
    level = rng.normal(shift, 1.0)
    out = []
    for item in items:
        codes = sorted(option.code for option in item.options)
        if item.type == "number":
            out.append(Answer(item_id=item.id, value_number=float(rng.integers(0, 4))))
        elif item.construct and codes:
            z = 0.7 * level + math.sqrt(0.51) * rng.normal()
            z = -z if item.reverse else z
            if item.type == "yes_no":
                out.append(Answer(item_id=item.id, value_code=int(z > 0.4)))
                continue
            cdf = 0.5 * (1 + math.erf(z / math.sqrt(2)))
            out.append(
                Answer(
                    item_id=item.id, value_code=codes[min(int(cdf * len(codes)), len(codes) - 1)]
                )
            )
        elif codes:
            out.append(Answer(item_id=item.id, value_code=int(rng.choice(codes))))
    return out


def _fill(make: Factory, wave: Wave, areas, shifts: dict[str, float], seed: int) -> None:
    """``PER_AREA`` complete responses in each area, sent in the days after opening."""
    rng = np.random.default_rng(seed)
    sections = make.core.sections_for(["demographics"])
    items = [item for section in sections for item in section.items]
    for area in areas:
        for n in range(PER_AREA):
            day = (wave.opens_at + timedelta(days=1 + n % 5)).date()
            make.session.add(
                Response(
                    wave_id=wave.id,
                    area_id=area.id,
                    language="en",
                    channel="invitation",
                    status=ResponseStatus.COMPLETE,
                    started_on=day,
                    submitted_on=day,
                    duration_seconds=int(rng.integers(300, 600)),
                    started_at=None,
                    idempotency_key=f"round-{wave.id}-{area.code}-{n}-xxxxxxxx",
                    quality_flags=[],
                    answers=_answers(items, rng, shifts.get(area.code, 0.0)),
                )
            )
    make.session.commit()


def _initiative(make: Factory, city, treated, name: str, start) -> Initiative:
    found = Initiative(
        city=city, name=name, pyramid_level=2, target_constructs=["trust"], start_date=start
    )
    found.area_links = [
        InitiativeArea(area=a, city_id=city.id, role=AreaRole.TREATED) for a in treated
    ]
    make.session.add(found)
    make.session.commit()
    return found


@pytest.fixture
def two_initiatives(make: Factory):
    """Six areas; a closed baseline and a later follow-up round over all of them; two
    initiatives that started between the rounds, one in A1-A2, one in A3-A4."""
    city = make.city(name="Roundtown")
    areas = [make.area(city, code=f"A{n}", name=f"District {n}") for n in range(1, 7)]
    now = utcnow()
    baseline = make.citywide_wave(
        city, name="Baseline", status="closed", opens_at=now - timedelta(days=60),
        closes_at=now - timedelta(days=40),
    )  # fmt: skip
    follow_up = make.citywide_wave(
        city,
        name="Follow-up",
        opens_at=now - timedelta(days=12),
        closes_at=now + timedelta(days=20),
    )
    start = (now - timedelta(days=30)).date()
    first = _initiative(make, city, areas[:2], "Street meals", start)
    second = _initiative(make, city, areas[2:4], "Night buses", start)
    _fill(make, baseline, areas, {}, seed=1)
    _fill(make, follow_up, areas, {"A1": 0.8, "A2": 0.8}, seed=2)
    coordinator = make.user(city, role=Role.COORDINATOR)
    return city, areas, (baseline, follow_up), (first, second), coordinator


def test_each_initiative_uses_both_rounds_and_only_its_own_design_rows(
    client: FlaskClient, make: Factory, two_initiatives
) -> None:
    _city, _areas, (baseline, follow_up), (first, second), coordinator = two_initiatives
    for initiative, treated in ((first, {"A1", "A2"}), (second, {"A3", "A4"})):
        # The other initiative's areas are treated in the period: comparison is A5-A6.
        assert [a.code for a in designs.comparison_areas(make.session, initiative)] == ["A5", "A6"]
        assert designs.waves_by_timing(make.session, initiative)["before"] == [baseline]
        assert designs.waves_by_timing(make.session, initiative)["after"] == [follow_up]
        frame = initiative_frame(make.session, initiative)
        assert set(frame["area"]) == treated | {"A5", "A6"}
        assert set(frame["wave"]) == {"1. Baseline", "2. Follow-up"}
        groups = frame.groupby("area")["group"].first().to_dict()
        assert groups == {
            **dict.fromkeys(treated, "treated"),
            "A5": "comparison",
            "A6": "comparison",
        }
        assert len(frame) == 2 * 4 * PER_AREA

    sign_in(client, coordinator)
    page = client.get(f"/staff/initiatives/{first.id}").get_data(as_text=True)
    assert "District 5, District 6" in page and "default: the city" in page
    assert "Baseline" in page and "before the start" in page and "after the start" in page

    # Dataset: both rounds, only A1, A2 (treated) and A5, A6 (comparison).
    sign_in(client, make.user(first.city, role=Role.ANALYST))
    body = client.get(f"/staff/initiatives/{first.id}/dataset?format=csv")
    assert body.status_code == 200
    rows = list(csv.DictReader(io.StringIO(body.get_data(as_text=True).lstrip("\ufeff"))))
    assert {r["area"] for r in rows} == {"A1", "A2", "A5", "A6"}
    assert {r["group"] for r in rows if r["area"] in ("A1", "A2")} == {"treated"}
    assert {r["group"] for r in rows if r["area"] in ("A5", "A6")} == {"comparison"}
    assert len(rows) == 2 * 4 * PER_AREA
    codebook = client.get(f"/staff/initiatives/{first.id}/codebook").get_data(as_text=True)
    assert "City-wide rounds (owned by the city) in this part: Baseline, Follow-up" in codebook

    # Dashboard and report: both rounds, a difference-in-differences between them.
    dashboard = client.get(f"/staff/initiatives/{first.id}/dashboard")
    assert dashboard.status_code == 200
    report = client.get(f"/staff/initiatives/{second.id}/report.json").get_json()
    assert report["waves"] == ["1. Baseline", "2. Follow-up"]
    did = [d for d in report["indices"]["trust"]["did"] if not d.get("skipped")]
    assert did and did[0]["before"] == "1. Baseline" and did[0]["after"] == "2. Follow-up"

    # API: the initiative's waves are the two rounds, with their timing.
    token, _row = create_token(make.session, coordinator, name="t", days=30, actor=coordinator)
    make.session.commit()
    listed = client.get(
        f"/api/v1/initiatives/{first.id}/waves", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    assert [(w["name"], w["citywide"], w["timing"]) for w in listed["waves"]] == [
        ("Baseline", True, "before"),
        ("Follow-up", True, "after"),
    ]


def test_a_coordinator_runs_a_round_from_the_console(
    app, client: FlaskClient, make: Factory
) -> None:
    """Create over chosen areas, open, letters per area, open link, poster, monitoring,
    dataset and API; another city's staff see none of it."""
    city = make.city(name="Pagetown", languages=["en"])
    areas = [make.area(city, code=f"P{n}", name=f"Quarter {n}") for n in range(1, 4)]
    row = make.instrument_row()
    coordinator = make.user(city, role=Role.COORDINATOR)
    analyst = make.user(city, role=Role.ANALYST)
    stranger = make.user(make.city(name="Elsewhere"), role=Role.COORDINATOR)
    sign_in(client, coordinator)
    assert "City-wide rounds" in client.get("/staff/").get_data(as_text=True)
    new = client.post(
        f"/staff/cities/{city.id}/rounds/new",
        data={
            "name": "City round 2027",
            "instrument": str(row.id),
            "languages": ["en"],
            "mode": "both",
            "retention_days": "730",
            "areas": [str(areas[0].id), str(areas[2].id)],
        },
    )
    assert new.status_code == 303, new.get_data(as_text=True)
    wave = make.session.scalars(select(Wave).where(Wave.city_id == city.id)).one()
    assert wave.initiative_id is None
    assert [a.code for a in designs.wave_areas(make.session, wave)] == ["P1", "P3"]
    page = client.get(f"/staff/waves/{wave.id}").get_data(as_text=True)
    assert "Quarter 1, Quarter 3" in page and "City-wide rounds of Pagetown" in page

    assert client.post(f"/staff/waves/{wave.id}/open", data=ACKNOWLEDGE_DRAFTS).status_code == 303
    make.session.expire_all()
    wave = make.session.get(Wave, wave.id)
    assert wave.status == "open" and wave.open_token

    letters_zip(
        client,
        f"/staff/waves/{wave.id}/invitations",
        {f"area-{areas[0].id}": "2", f"area-{areas[2].id}": "1", "language": "en"},
    )
    assert len(make.session.scalars(select(Invitation)).all()) == 3
    refused = client.post(
        f"/staff/waves/{wave.id}/invitations", data={f"area-{areas[1].id}": "2", "language": "en"}
    )
    assert refused.status_code == 303
    assert "this city-wide round covers" in client.get(f"/staff/waves/{wave.id}").get_data(
        as_text=True
    )

    assert client.get(f"/w/{wave.open_token}").status_code in (200, 303)
    poster = client.get(f"/staff/waves/{wave.id}/poster.pdf?language=en")
    assert poster.status_code == 200 and poster.mimetype == "application/pdf"
    assert client.get(f"/staff/waves/{wave.id}/monitor").status_code == 200
    rounds = client.get(f"/staff/cities/{city.id}/rounds").get_data(as_text=True)
    assert "City round 2027" in rounds and "Quarter 1, Quarter 3" in rounds
    sign_in(client, analyst)
    # Read streamed downloads to the end: an open stream keeps its request context.
    download = client.get(f"/staff/waves/{wave.id}/dataset?format=csv")
    assert download.status_code == 200 and download.get_data(as_text=True)
    assert client.get(f"/staff/waves/{wave.id}/codebook").status_code == 200

    token, _row = create_token(make.session, analyst, name="t", days=30, actor=analyst)
    make.session.commit()
    detail = client.get(f"/api/v1/waves/{wave.id}", headers={"Authorization": f"Bearer {token}"})
    assert detail.status_code == 200
    assert detail.get_json()["citywide"] is True and detail.get_json()["initiative_id"] is None
    dataset = client.get(
        f"/api/v1/waves/{wave.id}/dataset", headers={"Authorization": f"Bearer {token}"}
    )
    assert dataset.status_code == 200 and dataset.get_data()

    sign_in(client, coordinator)
    assert client.post(f"/staff/waves/{wave.id}/close").status_code == 303

    outsider = app.test_client()
    sign_in(outsider, stranger)
    home = outsider.get("/staff/").get_data(as_text=True)
    assert "Pagetown" not in home
    for url in (f"/staff/waves/{wave.id}", f"/staff/cities/{city.id}/rounds",
                f"/staff/waves/{wave.id}/monitor"):  # fmt: skip
        assert outsider.get(url).status_code == 404, url


def test_a_round_over_an_unknown_area_is_refused_with_a_reason(
    client: FlaskClient, make: Factory
) -> None:
    city = make.city(name="Checktown", languages=["en"])
    make.area(city)
    row = make.instrument_row()
    sign_in(client, make.user(city, role=Role.COORDINATOR))
    page = client.post(
        f"/staff/cities/{city.id}/rounds/new",
        data={"name": "Bad", "instrument": str(row.id), "languages": ["en"], "mode": "both",
              "retention_days": "730", "areas": ["999999"]},
    )  # fmt: skip
    assert page.status_code == 422
    assert "Choose areas of Checktown only." in page.get_data(as_text=True)
    assert make.session.scalars(select(Wave).where(Wave.city_id == city.id)).all() == []
