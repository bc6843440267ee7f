"""The demo: a realistic city whose effective initiative shows a change and the other none."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import func, select

from surveyapp import designs
from surveyapp.demo import EFFECTIVE, INEFFECTIVE, population
from surveyapp.models import City, Initiative, Response, Wave

from ..conftest import Factory


def test_latent_levels_move_the_answers_as_designed(core_instrument) -> None:
    """Synthetic residents answer higher when their latent levels shift up, as designed.

    Checked on 2,000 simulated residents per condition so that sampling noise cannot decide.
    """
    items = [i for s in core_instrument.sections_for(["demographics"]) for i in s.items]
    rng = np.random.default_rng(7)
    profile = population.AreaProfile(5000, np.zeros(4), 0.0)

    def means(shift: float) -> dict[str, float]:
        values: dict[str, list[int]] = {"nbh_help": [], "nbh_not_get_along": []}
        for _ in range(2000):
            _own, latent = population.latent_levels(profile, 0, {"trust": shift}, 3, True, rng)
            for answer in population.answers(items, latent, 3, True, rng):
                if answer.item_id in values and (answer.value_code or 0) > 0:
                    values[answer.item_id].append(answer.value_code)
        return {item_id: float(np.mean(v)) for item_id, v in values.items()}

    before, after = means(0.0), means(0.8)
    # A positively worded trust item rises, a reverse-worded one falls.
    assert after["nbh_help"] - before["nbh_help"] > 0.4
    assert after["nbh_not_get_along"] - before["nbh_not_get_along"] < -0.4


def test_the_demo_is_a_city_wide_design_with_every_channel(demo: Initiative, make: Factory):
    session = make.session
    city = session.get(City, demo.city_id)
    rounds = session.scalars(select(Wave).where(Wave.city_id == city.id)).all()
    assert len(city.areas) == 12 and len(rounds) == 2
    assert all(w.initiative_id is None for w in rounds)
    for name, treated in ((EFFECTIVE, 4), (INEFFECTIVE, 3)):
        initiative = session.scalar(
            select(Initiative).where(Initiative.name == name, Initiative.city_id == city.id)
        )
        assert len(initiative.areas_with_role("treated")) == treated
        # Compared, by default, with the five areas no initiative treats.
        assert designs.comparison_is_default(initiative)
        assert len(designs.comparison_areas(session, initiative)) == 5
        assert [w.id for w in designs.waves_for_initiative(session, initiative)] == [
            w.id for w in rounds
        ]
    sources = dict(session.execute(
        select(Response.area_source, func.count()).group_by(Response.area_source)
    ).all())  # fmt: skip
    assert set(sources) == {"letter", "area_link", "self_reported"}
    no_area = session.scalar(select(func.count()).where(Response.area_id.is_(None)))
    assert 0 < no_area < sources["self_reported"]
    pairs = session.scalar(
        select(func.count(func.distinct(Response.panel_id))).where(
            Response.panel_id.in_(
                select(Response.panel_id).join(Wave).where(Wave.id == rounds[-1].id)
            ),
            Response.wave_id == rounds[0].id,
        )
    )
    assert pairs >= 50  # households that answered both rounds


@pytest.mark.slow
def test_the_effective_initiative_shows_a_change_and_the_other_none(
    demo: Initiative, make: Factory
) -> None:
    """The report finds the designed effect of "Neighbourhood hosts" on trust and belonging
    against the five comparison areas, and no clear change for "Safety walks"."""
    from surveyapp.reports import build_initiative_report

    session = make.session
    actor = make.user(demo.city)
    effective = build_initiative_report(session, demo, actor=actor).content
    other = session.scalar(
        select(Initiative).where(Initiative.name == INEFFECTIVE, Initiative.city_id == demo.city_id)
    )
    ineffective = build_initiative_report(session, other, actor=actor).content
    for cid in ("trust", "belonging"):
        (did,) = effective["indices"][cid]["did"]
        assert did["withheld"] is None and did["ci_lower"] > 0, (cid, did)
    for cid, entry in ineffective["indices"].items():
        (did,) = entry["did"]
        assert did["withheld"] or did["ci_lower"] < 0 < did["ci_upper"], (cid, did)
    answers = {a["index"]: a["direction"] for a in effective["answer"]}
    assert answers["trust"] == answers["belonging"] == "up"
    assert all(a["direction"] != "up" for a in ineffective["answer"] if "direction" in a)
