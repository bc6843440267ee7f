"""A named target change becomes answers needed per area, followed on the monitoring page."""

from __future__ import annotations

import re
from types import SimpleNamespace

from flask import Flask
from flask.testing import FlaskClient

from analysis.planning import DEFAULT_ICC, DEFAULT_SD, responses_needed
from surveyapp.cli import main
from surveyapp.console import planner
from surveyapp.db import utcnow
from surveyapp.models import Initiative, Response, Role, Wave

from ..conftest import Factory, sign_in


def _design(make: Factory, treated: int, comparison: int, **fields) -> Initiative:
    city = make.city()
    return make.initiative(
        city,
        treated=[make.area(city, name=f"T{i}") for i in range(treated)],
        comparison=[make.area(city, name=f"C{i}") for i in range(comparison)],
        **fields,
    )


def _answers(make: Factory, wave: Wave, area_id: int, channel: str, count: int) -> None:
    today = utcnow().date()
    for i in range(count):
        make.session.add(
            Response(wave_id=wave.id, area_id=area_id, language="en", channel=channel,
                     status="complete", submitted_on=today, quality_flags=[],
                     idempotency_key=f"t-{wave.id}-{area_id}-{channel}-{i}-{'x' * 8}")
        )  # fmt: skip
    make.session.commit()


def test_the_initiative_page_turns_a_target_into_answers_and_letters(
    client: FlaskClient, make: Factory
) -> None:
    initiative = _design(make, 6, 6, target_change=10.0)
    sign_in(client, make.user(initiative.city))
    html = client.get(f"/staff/initiatives/{initiative.id}").get_data(as_text=True)
    needed = responses_needed(6, 6, 10.0, sd=DEFAULT_SD, icc=DEFAULT_ICC)
    assert needed is not None and 20 < needed < 400
    assert f"To show a change of 10 points, each area needs about {needed} complete" in html
    french = client.get(f"/staff/initiatives/{initiative.id}?lang=fr").get_data(as_text=True)
    assert f"{needed}" in french and "To show a change" not in french


def test_an_unreachable_target_says_more_areas_are_needed(
    client: FlaskClient, make: Factory
) -> None:
    initiative = _design(make, 2, 2, target_change=3.0)
    sign_in(client, make.user(initiative.city))
    html = client.get(f"/staff/initiatives/{initiative.id}").get_data(as_text=True)
    assert "No number of letters can show a change of 3 points with these areas" in html


def test_the_form_takes_a_decimal_comma_and_refuses_nonsense(
    client: FlaskClient, make: Factory
) -> None:
    initiative = _design(make, 2, 2)
    sign_in(client, make.user(initiative.city))
    links = initiative.area_links
    form = {
        "name": "Street meals", "pyramid_level": "1", "constructs": "trust",
        "treated": [str(a.area_id) for a in links if a.role == "treated"],
        "comparison": [str(a.area_id) for a in links if a.role == "comparison"],
    }  # fmt: skip
    url = f"/staff/initiatives/{initiative.id}/edit"
    for bad in ("lots", "0", "250"):
        page = client.post(url, data=form | {"target_change": bad})
        assert page.status_code == 422
        assert "more than 0 and at most 100 points" in page.get_data(as_text=True)
    assert make.session.get(Initiative, initiative.id).target_change is None
    assert client.post(url, data=form | {"target_change": "7,5"}).status_code == 303
    make.session.expire_all()
    assert make.session.get(Initiative, initiative.id).target_change == 7.5


def test_monitoring_follows_each_area_towards_its_target_by_channel(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    initiative = _design(make, 6, 6, target_change=10.0)
    wave = make.wave(initiative)
    needed = responses_needed(6, 6, 10.0, sd=DEFAULT_SD, icc=DEFAULT_ICC)
    first = initiative.areas_with_role("treated")[0]
    _answers(make, wave, first.id, "invitation", 25)
    _answers(make, wave, first.id, "open_link", 4)
    sign_in(client, make.user(initiative.city, role=Role.COORDINATOR))
    page = client.get(f"/staff/waves/{wave.id}/monitor").get_data(as_text=True)
    assert "Fieldwork targets" in page
    targets = page.split('id="targets"')[1]
    row = re.search(r"<tr><td>T0</td>(.*?)</tr>", targets).group(1)
    # 4 open-link answers are masked, and so is the letter count they could be told from.
    assert f"<td>{needed}</td>" in row and "&lt;10" in row and "25" not in row
    assert f"{round(100 * 29 / needed)}%" in row
    admin = app.test_client()
    sign_in(admin, make.user(initiative.city, role=Role.ADMIN))
    exact = admin.get(f"/staff/waves/{wave.id}/monitor").get_data(as_text=True)
    exact = exact.split('id="targets"')[1]
    assert re.search(rf"<tr><td>T0</td><td>{needed}</td><td>25</td><td>4</td>", exact)
    assert len(re.findall(rf"<td>{needed}</td>", exact)) == 12  # every area of the design


def test_without_a_target_monitoring_says_where_to_set_one(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave(_design(make, 2, 2))
    sign_in(client, make.user(wave.initiative.city))
    page = client.get(f"/staff/waves/{wave.id}/monitor").get_data(as_text=True)
    assert "names no change to plan for" in page and "<meter" not in page


def test_components_from_earlier_waves_replace_the_defaults(make: Factory, monkeypatch) -> None:
    """With enough area-waves in the latest report, the plan uses their spread."""
    initiative = _design(make, 4, 4, target_change=8.0, target_constructs=["trust"])

    report = SimpleNamespace(content={"indices": {
        "trust": {"label": "Trust", "variance": {"sd": 15.0, "icc": 0.002, "df": 7}},
        "belonging": {"label": "Belonging", "variance": {"sd": 30.0, "icc": 0.2, "df": 7}},
    }})  # fmt: skip
    monkeypatch.setattr(planner, "fresh_report", lambda session, initiative: report)
    plan = planner.design_plan(make.session, initiative, [], {"trust": "Trust"})
    (trust,) = plan.indices  # only the index the initiative targets
    assert trust.estimated and trust.sd == 15.0
    assert trust.icc == planner.MIN_ICC  # an implausibly quiet estimate is floored
    assert plan.needed == responses_needed(4, 4, 8.0, sd=15.0, icc=planner.MIN_ICC)
    report.content["indices"]["trust"]["variance"]["df"] = 3  # too few area-waves
    assert not planner.design_plan(make.session, initiative, [], {}).indices[0].estimated


def test_the_cli_registers_a_target(runner, make: Factory) -> None:
    city = make.city()
    for code in ("a", "b", "c", "d"):
        make.area(city, code=code)
    result = runner.invoke(main, ["initiatives", "add", city.slug, "--name", "Hosts",
                                 "--level", "1", "--treated", "a,b", "--comparison", "c,d",
                                 "--target-change", "6"])  # fmt: skip
    assert result.exit_code == 0, result.output
    found = make.session.query(Initiative).filter_by(name="Hosts").one()
    assert found.target_change == 6.0
    bad = runner.invoke(main, ["initiatives", "add", city.slug, "--name", "X", "--level", "1",
                              "--treated", "a", "--target-change", "0"])  # fmt: skip
    assert bad.exit_code != 0 and "target-change" in bad.output


def test_the_wave_forms_say_what_the_design_can_show(client: FlaskClient, make: Factory) -> None:
    """Before any letter: the new-wave form of an initiative, and the city-wide round form
    for every initiative of the city, give the smallest change the design can show."""
    initiative = _design(make, 2, 2, target_change=3.0)
    sign_in(client, make.user(initiative.city))
    form = client.get(f"/staff/initiatives/{initiative.id}/waves/new").get_data(as_text=True)
    found = make.session.get(Initiative, initiative.id)  # read again after a request
    mdc = planner.initiative_plan(make.session, found).indices[0].mdc
    assert f"can only show changes larger than {mdc:.1f} points" in form
    assert "No number of letters can show a change of 3 points" in form
    rounds = client.get(f"/staff/cities/{initiative.city_id}/rounds/new").get_data(as_text=True)
    assert f"can only show changes larger than {mdc:.1f} points" in rounds
    assert "<h3>" not in rounds  # one initiative: no heading per initiative
