"""The scoring model is provisional while its reference wave collects, then frozen for good.

Before, the first report froze the model on whatever part of the first wave had come in
(three answers, if that is when a coordinator looked): downloads scored with that model for
ever, while each later report refitted its own, so the report and the dataset carried
different model hashes and the codebook's reference n, means and SDs described the first
few residents only.
"""

from __future__ import annotations

import csv
import io

import pandas as pd
from flask.testing import FlaskClient
from sqlalchemy import func, select

from analysis import score
from surveyapp.api.services import indices
from surveyapp.auth.services import create_user
from surveyapp.demo import EFFECTIVE, build_demo
from surveyapp.designs import response_scope, waves_for_initiative
from surveyapp.models import (
    Initiative,
    Response,
    ResponseStatus,
    Role,
    ScoringModel,
    Wave,
    WaveStatus,
)
from surveyapp.reports import build_initiative_report, initiative_frame

from .conftest import STAFF_PASSWORD, Factory, sign_in


def _hosts(make: Factory, per_area: int) -> Initiative:
    """A demo city of about ``per_area`` answers per area and round; its effective initiative."""
    info = build_demo(make.session, make.instrument_row(), make.core, per_area=per_area)
    make.session.commit()
    return make.session.scalars(
        select(Initiative).where(Initiative.city_id == info.city.id, Initiative.name == EFFECTIVE)
    ).one()


def _collecting(make: Factory, per_area: int = 10) -> tuple[Initiative, Wave, list[Response]]:
    """The demo initiative with its reference wave still open and half its answers not in yet.

    The reference wave is the first wave that evaluates the initiative: the city-wide
    baseline round (the demo's initiatives have no waves of their own).
    """
    initiative = _hosts(make, per_area)
    baseline = waves_for_initiative(make.session, initiative)[0]
    assert baseline.initiative_id is None and baseline.name == "Baseline round"
    baseline.status = WaveStatus.OPEN
    answers = make.session.scalars(
        select(Response)
        .join(Wave)
        .where(response_scope(make.session, initiative), Response.wave_id == baseline.id)
        .order_by(Response.id)
    ).all()
    later = answers[len(answers) // 2 :]
    for response in later:
        response.status = ResponseStatus.DRAFT  # still answering
    make.session.commit()
    return initiative, baseline, list(later)


def _complete_in(make_session, initiative: Initiative, wave: Wave) -> int:
    """Complete responses of ``wave`` in the initiative's treated and comparison areas."""
    return make_session.scalar(
        select(func.count(Response.id))
        .join(Wave)
        .where(
            response_scope(make_session, initiative),
            Response.wave_id == wave.id,
            Response.status == ResponseStatus.COMPLETE,
        )
    )


def _stored(make: Factory) -> list[ScoringModel]:
    make.session.expire_all()
    return list(make.session.scalars(select(ScoringModel)).all())


def test_model_follows_the_reference_wave_until_it_closes_then_never_changes(
    make: Factory,
) -> None:
    initiative, baseline, later = _collecting(make)
    coordinator = make.user(initiative.city)

    first = build_initiative_report(make.session, initiative, actor=coordinator)
    make.session.commit()
    [model] = _stored(make)
    assert model.frozen_at is None
    assert model.content_hash == first.content["scoring_model"]["hash"]
    # Fitted on the half that is in (at most: the published sample moves in tens per area).
    first_n = model.definition["reference"]["n"]
    assert 0 < first_n <= _complete_in(make.session, initiative, baseline)
    assert "Baseline" in first.content["scoring_model_provisional"]
    assert first.content["scoring_model_status"] == "provisional"
    api = indices(make.session, initiative, first.to_json())["scoring_model"]
    assert api["status"] == "provisional" and "still collecting" in api["note"]
    assert api["hash"] == model.content_hash
    assert "Provisional." in first.to_html()

    # The rest of the baseline comes in: the next report refits the provisional model.
    for response in later:
        response.status = ResponseStatus.COMPLETE
    make.session.commit()
    second = build_initiative_report(make.session, initiative, actor=coordinator)
    make.session.commit()
    [model] = _stored(make)
    assert model.frozen_at is None and model.version == 1
    assert model.content_hash == second.content["scoring_model"]["hash"]
    assert model.content_hash != first.content["scoring_model"]["hash"]
    assert model.definition["reference"]["n"] > first_n
    assert model.definition["reference"]["n"] <= _complete_in(make.session, initiative, baseline)
    # What the provisional notes promise: the index values do not move with the model.
    frame = initiative_frame(make.session, initiative)
    for item in model.definition["items"]:
        if item not in frame.columns:
            frame[item] = float("nan")
    pd.testing.assert_frame_equal(
        score(frame, first.content["scoring_model"]), score(frame, model.definition)
    )

    # The baseline closes: the first report after that freezes the model.
    baseline.status = WaveStatus.CLOSED
    make.session.commit()
    third = build_initiative_report(make.session, initiative, actor=coordinator)
    make.session.commit()
    [model] = _stored(make)
    assert model.frozen_at is not None
    assert model.content_hash == third.content["scoring_model"]["hash"]
    assert "scoring_model_provisional" not in third.content
    assert third.content["scoring_model_status"] == "frozen"
    assert "Provisional." not in third.to_html()
    frozen = (model.content_hash, model.frozen_at, model.definition)

    # Answers of the reference wave change after that (a resident asked for theirs to be
    # removed): the report keeps scoring with the frozen model, which is not refitted.
    # (All the reference-wave answers of its largest area, so that its published whole
    # tens surely drop: which answers cleaning keeps is the report's business.)
    by_area: dict[int, list[Response]] = {}
    for response in make.session.scalars(
        select(Response)
        .join(Wave)
        .where(
            response_scope(make.session, initiative),
            Response.wave_id == baseline.id,
            Response.status == ResponseStatus.COMPLETE,
        )
        .order_by(Response.id)
    ):
        by_area.setdefault(response.area_id, []).append(response)
    for response in max(by_area.values(), key=len):
        response.status = ResponseStatus.DRAFT
    make.session.commit()
    fourth = build_initiative_report(make.session, initiative, actor=coordinator)
    make.session.commit()
    [model] = _stored(make)
    assert (model.content_hash, model.frozen_at, model.definition) == frozen
    assert fourth.content["scoring_model"]["hash"] == model.content_hash
    assert fourth.content["scoring_model_status"] == "frozen"
    # Each area that lost answers drops to its last whole ten (disclosure control).
    fewer = third.content["cleaning"]["n_responses"] - fourth.content["cleaning"]["n_responses"]
    assert fewer > 0 and fewer % 10 == 0


def test_a_download_while_the_baseline_collects_matches_the_report_and_says_provisional(
    make: Factory, client: FlaskClient
) -> None:
    initiative, baseline, later = _collecting(make)
    initiative_id, baseline_id = initiative.id, baseline.id
    later = [r.id for r in later]
    create_user(
        make.session,
        email="analyst@city.example",
        password=STAFF_PASSWORD,
        display_name="Analyst",
        city=initiative.city,
        role=Role.ANALYST,
    )
    make.session.commit()
    sign_in(client, "analyst@city.example")
    early = client.get(f"/staff/initiatives/{initiative_id}/report.json").get_json()

    # (Each request ends the shared test session: objects are fetched again after one.)
    for response_id in later:
        make.session.get(Response, response_id).status = ResponseStatus.COMPLETE
    make.session.commit()
    response = client.get(f"/staff/initiatives/{initiative_id}/dataset?format=csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    now = client.get(f"/staff/initiatives/{initiative_id}/report.json").get_json()
    assert now["scoring_model"]["hash"] != early["scoring_model"]["hash"]
    # The dataset is scored with the model the report shows now, not the early one.
    assert {row["scoring_model"] for row in rows} == {now["scoring_model"]["hash"][:12]}
    assert sum(1 for row in rows if row["idx_trust"]) > 100

    codebook = client.get(f"/staff/initiatives/{initiative_id}/codebook").get_data(as_text=True)
    assert "provisional, fitted so far" in codebook and "Provisional." in codebook
    assert "still collecting answers" in codebook

    bundle = client.get(f"/staff/initiatives/{initiative_id}/dataset?format=zip")
    assert bundle.status_code == 200
    import json
    import zipfile

    with zipfile.ZipFile(io.BytesIO(bundle.get_data())) as archive:
        package = json.loads(archive.read("datapackage.json"))
    assert package["surveyapp:scoring_model_status"] == {str(initiative_id): "provisional"}

    # Once the baseline has closed, the next download freezes the model and says so.
    make.session.get(Wave, baseline_id).status = WaveStatus.CLOSED
    make.session.commit()
    codebook = client.get(f"/staff/initiatives/{initiative_id}/codebook").get_data(as_text=True)
    models = codebook.split('id="indices"')[1].split('id="cleaning"')[0].split("<h3>")[1]
    assert "frozen on wave" in models and "provisional" not in models.lower()
    [model] = _stored(make)
    assert model.frozen_at is not None


def test_a_module_asked_later_by_every_wave_leaves_the_frozen_model_alone(make: Factory) -> None:
    """The waves now all ask a module nobody has answered yet: the report still builds (it
    stopped with "Item column(s) missing"), fits a model for itself and says so, and the
    frozen model that downloads use stays as it was."""
    # About 10 per area: reports see whole tens of answers per wave and area.
    initiative = _hosts(make, per_area=10)
    coordinator = make.user(initiative.city)
    first = build_initiative_report(make.session, initiative, actor=coordinator)
    make.session.commit()
    [model] = _stored(make)
    assert model.frozen_at is not None  # the demo's baseline has closed
    frozen = (model.content_hash, model.definition)

    for wave in waves_for_initiative(make.session, initiative):
        wave.modules = [*wave.modules, "institutional_trust"]
    make.session.commit()
    later = build_initiative_report(make.session, initiative, actor=coordinator)
    make.session.commit()
    assert later.content["scoring_model_status"] == "refitted"
    assert "institutional_trust" in later.content["scoring_model"]["constructs"]
    assert later.content["scoring_model"]["hash"] != first.content["scoring_model"]["hash"]
    assert any("Downloads keep the frozen model" in note for note in later.content["notes"])
    assert "Fitted for this report" in later.to_html()
    [model] = _stored(make)
    assert (model.content_hash, model.definition) == frozen
