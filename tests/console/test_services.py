"""Areas and initiatives keep a city's data its own, whoever calls the services."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from surveyapp.console import areas, initiatives
from surveyapp.console.errors import ConsoleError
from surveyapp.models import AuditEvent

from ..conftest import Factory


def test_area_codes_are_unique_in_a_city_without_regard_to_case(make: Factory) -> None:
    city, other = make.city(), make.city()
    first = areas.save_area(make.session, city, code=" N1 ", name="North", actor="test")
    assert first.code == "N1"
    assert areas.code_taken(make.session, city, "n1") and not areas.code_taken(
        make.session, other, "n1"
    )
    assert not areas.code_taken(make.session, city, "n1", first)  # renaming keeps its code
    with pytest.raises(ConsoleError, match="already has an area with the code 'n1'"):
        areas.save_area(make.session, city, code="n1", name="Again", actor="test")
    areas.save_area(make.session, other, code="n1", name="North", actor="test")


def test_an_initiative_never_links_another_citys_area(make: Factory) -> None:
    city = make.city()
    own, foreign = make.area(city), make.area(make.city())
    fields = {
        "name": "Meals",
        "description": "",
        "pyramid_level": 2,
        "target_constructs": ["trust"],
        "comparison": [],
        "start_date": None,
        "actor": "test",
    }
    with pytest.raises(ConsoleError, match="do not belong to this city"):
        initiatives.save_initiative(make.session, city, treated=[own.id, foreign.id], **fields)
    saved = initiatives.save_initiative(make.session, city, treated=[own.id], **fields)
    assert saved.areas_with_role("treated") == [own]
    event = make.session.scalar(select(AuditEvent).where(AuditEvent.action == "initiative_created"))
    assert event.city_id == city.id and event.details == {"pyramid_level": 2}
