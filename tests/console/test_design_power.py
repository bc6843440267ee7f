"""The initiative page says what its design can show, before the letters go out."""

from __future__ import annotations

from sqlalchemy import func, select

from analysis import plan_design
from surveyapp.models import Initiative, Response, Role

from ..conftest import Factory, sign_in


def test_the_demo_design_can_only_show_large_changes(
    demo: Initiative, client, make: Factory
) -> None:
    from surveyapp import designs
    from surveyapp.demo import DEMO_EMAIL, DEMO_PASSWORD

    sign_in(client, DEMO_EMAIL, DEMO_PASSWORD)
    html = client.get(f"/staff/initiatives/{demo.id}").get_data(as_text=True)
    # 4 treated areas and the 5 that no initiative treats; answers per area: the latest
    # round's complete answers in those 9 areas.
    areas = list(designs.area_groups(make.session, demo))
    latest = designs.waves_for_initiative(make.session, demo)[-1]
    answered = make.session.scalar(
        select(func.count()).where(
            Response.wave_id == latest.id, Response.area_id.in_(areas),
            Response.status == "complete",
        )
    )  # fmt: skip
    per_area = round(answered / 9)
    plan = plan_design(4, 5, per_area, sd=20, icc=0.03)
    assert (
        f"With 4 treated and 5 comparison areas and about {per_area} answers per area and wave"
        in html
    )
    assert f"can only show changes larger than {plan['mdc']:.1f} points" in html
    assert f"not below {plan['mdc_unlimited']:.1f} points" in html
    french = client.get(f"/staff/initiatives/{demo.id}?lang=fr").get_data(as_text=True)
    assert "Ce que ce dispositif peut montrer" in french


def test_too_few_areas_are_said_before_any_letter(client, make: Factory) -> None:
    city = make.city()
    initiative = make.initiative(city)
    sign_in(client, make.user(city, role=Role.COORDINATOR))
    html = client.get(f"/staff/initiatives/{initiative.id}").get_data(as_text=True)
    assert "no change can be attributed to the initiative: add areas" in html
