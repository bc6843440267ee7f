"""surveyapp.designs: which waves and areas evaluate an initiative (city-wide rounds)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from surveyapp import designs
from surveyapp.models import (
    AreaRole,
    Initiative,
    InitiativeArea,
    Response,
    ResponseStatus,
    Wave,
    WaveArea,
)

from .conftest import Factory


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def names(areas) -> list[str]:
    return [area.code for area in areas]


@pytest.fixture
def city_with_six(make: Factory):
    city = make.city()
    areas = [make.area(city, code=f"A{n}", name=f"Area {n}") for n in range(1, 7)]
    return city, areas


def initiative(make: Factory, city, treated, comparison=(), **fields) -> Initiative:
    found = Initiative(
        city=city,
        name=fields.pop("name", "Initiative"),
        pyramid_level=1,
        target_constructs=["trust"],
        **fields,
    )
    found.area_links = [
        InitiativeArea(area=a, city_id=city.id, role=AreaRole.TREATED) for a in treated
    ] + [InitiativeArea(area=a, city_id=city.id, role=AreaRole.COMPARISON) for a in comparison]
    make.session.add(found)
    make.session.commit()
    return found


def test_timing_before_after_spanning_and_undated(make: Factory, city_with_six) -> None:
    city, _areas = city_with_six
    start = date(2026, 3, 1)
    cases = {
        ("2026-01-05", "2026-02-01"): designs.BEFORE,
        ("2026-02-01", "2026-03-01"): designs.BEFORE,  # closes at midnight of the start day
        ("2026-03-01", "2026-04-01"): designs.AFTER,  # opens on the start day
        ("2026-02-20", "2026-03-10"): designs.SPANNING,
        ("2026-02-20", None): designs.SPANNING,  # no closing date: cannot say it ended before
    }
    for (opens, closes), expected in cases.items():
        wave = make.citywide_wave(
            city, opens_at=at(opens), closes_at=None if closes is None else at(closes)
        )
        assert designs.timing(wave, start) == expected, (opens, closes)
    undated = make.citywide_wave(city, opens_at=None, closes_at=None, status="draft")
    assert designs.timing(undated, start) == designs.UNDATED
    assert designs.timing(wave, None) == designs.UNDATED


def test_default_comparison_leaves_out_areas_other_initiatives_treat_in_the_period(
    make: Factory, city_with_six
) -> None:
    """Two initiatives treating different areas at different times: each one's default
    comparison areas are those nobody treats while it is evaluated."""
    city, (a1, a2, a3, a4, a5, a6) = city_with_six
    make.citywide_wave(city, opens_at=at("2026-01-05"), closes_at=at("2026-02-01"))
    make.citywide_wave(city, opens_at=at("2027-01-04"), closes_at=at("2027-02-01"))
    early = initiative(make, city, [a1, a2], name="Early", start_date=date(2026, 3, 1))
    late = initiative(make, city, [a3], name="Late", start_date=date(2027, 6, 1))

    # Early is evaluated up to 1 Feb 2027; Late only starts in June 2027: A3 compares.
    assert designs.comparison_is_default(early)
    assert names(designs.comparison_areas(make.session, early)) == ["A3", "A4", "A5", "A6"]
    # Late has no after wave yet (open period): Early's A1 and A2 are treated in it.
    assert names(designs.comparison_areas(make.session, late)) == ["A4", "A5", "A6"]
    assert designs.area_groups(make.session, early) == {
        a1.id: "treated",
        a2.id: "treated",
        a3.id: "comparison",
        a4.id: "comparison",
        a5.id: "comparison",
        a6.id: "comparison",
    }

    # Once Late's follow-up has run, Early (started 2026) still treats A1 and A2 then.
    make.citywide_wave(city, opens_at=at("2028-01-03"), closes_at=at("2028-02-01"))
    assert names(designs.comparison_areas(make.session, late)) == ["A4", "A5", "A6"]
    # ... and Early's period now runs to 2028, when Late treats A3: no longer a comparison.
    assert names(designs.comparison_areas(make.session, early)) == ["A4", "A5", "A6"]


def test_chosen_comparison_areas_win_over_the_default(make: Factory, city_with_six) -> None:
    city, (a1, a2, a3, a4, _a5, _a6) = city_with_six
    chosen = initiative(make, city, [a1], [a4, a2], start_date=date(2026, 3, 1))
    assert not designs.comparison_is_default(chosen)
    assert names(designs.comparison_areas(make.session, chosen)) == ["A2", "A4"]
    assert a3.id not in designs.area_groups(make.session, chosen)


def test_waves_for_initiative_own_waves_and_covering_rounds(make: Factory, city_with_six) -> None:
    city, (a1, a2, _a3, _a4, a5, a6) = city_with_six
    found = initiative(make, city, [a1], [a5], start_date=date(2026, 3, 1))
    own = make.wave(found, opens_at=at("2026-04-01"), closes_at=at("2026-05-01"))
    everywhere = make.citywide_wave(city, opens_at=at("2026-01-05"), closes_at=at("2026-02-01"))
    both = make.citywide_wave(city, [a1, a5], opens_at=at("2027-01-04"), closes_at=None)
    make.citywide_wave(city, [a1, a2], name="No comparison area")
    make.citywide_wave(city, [a5, a6], name="No treated area")
    other = make.city()
    make.citywide_wave(other, [make.area(other)], name="Another city")

    assert designs.waves_for_initiative(make.session, found) == [own, everywhere, both]
    grouped = designs.waves_by_timing(make.session, found)
    assert grouped == {
        "before": [everywhere],
        "after": [own, both],
        "spanning": [],
        "undated": [],
    }
    assert designs.initiatives_for_wave(make.session, everywhere) == [found]
    assert designs.initiatives_for_wave(make.session, own) == [found]
    assert names(designs.wave_areas(make.session, both)) == ["A1", "A5"]
    assert len(designs.wave_areas(make.session, everywhere)) == 6


def test_response_scope_keeps_only_the_designs_areas_of_a_round(
    make: Factory, city_with_six
) -> None:
    city, (a1, a2, a3, _a4, a5, _a6) = city_with_six
    found = initiative(make, city, [a1], [a5], start_date=date(2026, 3, 1))
    own = make.wave(found)
    round_ = make.citywide_wave(city)
    ids = {}
    for n, (wave, area) in enumerate(
        [(own, a1), (own, None), (round_, a1), (round_, a5), (round_, a3), (round_, None)]
    ):
        response = Response(
            wave_id=wave.id,
            area_id=None if area is None else area.id,
            language="en",
            channel="open_link",
            status=ResponseStatus.DRAFT,
            idempotency_key=f"scope-{n}-" + "k" * 20,
        )
        make.session.add(response)
        make.session.flush()
        ids[(wave.id, None if area is None else area.code)] = response.id
    scope = designs.response_scope(make.session, found)
    got = set(
        make.session.scalars(
            select(Response.id).join(Wave, Response.wave_id == Wave.id).where(scope)
        )
    )
    assert got == {
        ids[(own.id, "A1")],
        ids[(own.id, None)],  # an own wave's rows all count, as before
        ids[(round_.id, "A1")],
        ids[(round_.id, "A5")],
    }
    assert a2.id not in designs.area_groups(make.session, found)


def test_citywide_wave_needs_a_city_and_keeps_its_areas_in_it(make: Factory) -> None:
    city, other = make.city(), make.city()
    stranger = make.area(other)
    wave = make.citywide_wave(city, [make.area(city)])
    assert wave.is_citywide and wave.initiative is None and wave.owner_name == city.name
    make.session.add(WaveArea(wave_id=wave.id, area_id=stranger.id, city_id=city.id))
    with pytest.raises(IntegrityError):
        make.session.flush()
    make.session.rollback()


def test_initiative_wave_takes_its_initiatives_city(make: Factory) -> None:
    wave = make.wave()
    assert wave.city_id == wave.initiative.city_id and not wave.is_citywide
    other = make.city()
    wave.city_id = other.id
    with pytest.raises(IntegrityError):
        make.session.flush()
    make.session.rollback()
