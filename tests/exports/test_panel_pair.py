"""The dataset's panel_pair column: households linked across the dataset's waves."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.exports.dataset import build_plan
from surveyapp.models import Initiative, Response

from .test_dataset import dataset


def test_panel_pair_marks_pseudonyms_answering_two_waves(
    frozen_demo: Initiative, db_session: Session
) -> None:
    first, second = frozen_demo.waves[:2]
    ones = db_session.scalars(select(Response).where(Response.wave_id == first.id)).all()[:4]
    twos = db_session.scalars(select(Response).where(Response.wave_id == second.id)).all()[:3]
    for i, response in enumerate(ones):
        response.panel_id = f"household-{i}"  # households 0-2 answer again, 3 does not
    for i, response in enumerate(twos):
        response.panel_id = f"household-{i}"
    db_session.flush()

    data = dataset(db_session, "initiative", frozen_demo).set_index("response_id")
    linked = {r.id for r in ones[:3] + twos}
    assert set(data.index[data["panel_pair"] == 1]) == linked
    assert data.loc[ones[3].id, "panel_pair"] == 0 and data.loc[ones[3].id, "panel_id"]
    assert (data.loc[data["panel_id"] == "", "panel_pair"] == 0).all()
    # One wave's download holds no pair: the linked answer is not in it.
    assert (dataset(db_session, "wave", first)["panel_pair"] == 0).all()
    (variable,) = [
        v for v in build_plan(db_session, "initiative", frozen_demo).variables
        if v.name == "panel_pair"
    ]  # fmt: skip
    assert variable.type == "integer" and variable.value_labels[1] == "linked across waves"
