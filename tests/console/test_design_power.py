"""The initiative page says what its design can show, before the letters go out."""

from __future__ import annotations

from analysis import plan_design
from surveyapp.models import Initiative, Role

from ..conftest import Factory, sign_in


def test_the_demo_design_can_only_show_large_changes(demo: Initiative, client) -> None:
    from surveyapp.demo import DEMO_EMAIL, DEMO_PASSWORD

    sign_in(client, DEMO_EMAIL, DEMO_PASSWORD)
    html = client.get(f"/staff/initiatives/{demo.id}").get_data(as_text=True)
    plan = plan_design(2, 2, 50, sd=20, icc=0.03)  # 200 answers in the latest wave, 4 areas
    assert "With 2 treated and 2 comparison areas and about 50 answers per area and wave" in html
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
