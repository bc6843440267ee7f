"""The dataset's panel_pair column: households linked across the dataset's waves."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.designs import area_groups, waves_for_initiative
from surveyapp.exports.dataset import build_plan
from surveyapp.models import Initiative, Response

from .test_dataset import dataset


def test_panel_pair_marks_pseudonyms_answering_two_waves(
    frozen_demo: Initiative, db_session: Session
) -> None:
    first, second = waves_for_initiative(db_session, frozen_demo)[:2]
    design = list(area_groups(db_session, frozen_demo))

    def answers(wave, count):
        return db_session.scalars(
            select(Response)
            .where(Response.wave_id == wave.id, Response.area_id.in_(design))
            .order_by(Response.id)
        ).all()[:count]

    ones, twos = answers(first, 4), answers(second, 3)
    for i, response in enumerate(ones):
        response.panel_id = f"household-{i}"  # households 0-2 answer again, 3 does not
    for i, response in enumerate(twos):
        response.panel_id = f"household-{i}"
    db_session.flush()

    data = dataset(db_session, "initiative", frozen_demo).set_index("response_id")
    # The demo's own panel: letter households that answered both rounds in the design areas.
    waves_of = data[data["panel_id"] != ""].groupby("panel_id")["wave_id"].nunique()
    demo_panel = set(data.index[data["panel_id"].isin(waves_of.index[waves_of == 2])])
    linked = {r.id for r in ones[:3] + twos}
    assert linked <= demo_panel and len(demo_panel - linked) > 0
    assert set(data.index[data["panel_pair"] == 1]) == demo_panel
    assert data.loc[ones[3].id, "panel_pair"] == 0 and data.loc[ones[3].id, "panel_id"]
    assert (data.loc[data["panel_id"] == "", "panel_pair"] == 0).all()
    # One wave's download holds no pair: the linked answer is not in it.
    assert (dataset(db_session, "wave", first)["panel_pair"] == 0).all()
    (variable,) = [
        v for v in build_plan(db_session, "initiative", frozen_demo).variables
        if v.name == "panel_pair"
    ]  # fmt: skip
    assert variable.type == "integer" and variable.value_labels[1] == "linked across waves"
