"""The cleaned dataset: its rows agree with the validation report, chunk size or not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis import CLEANING_FLAGS, score
from surveyapp.designs import waves_for_initiative
from surveyapp.exports.dataset import build_plan
from surveyapp.exports.rows import iter_chunks
from surveyapp.models import Answer, Initiative, Response, ScoringModel, User
from surveyapp.reports import build_initiative_report, initiative_frame

from .conftest import design_rows


def dataset(session: Session, scope: str, obj, **kwargs) -> pd.DataFrame:
    plan = build_plan(session, scope, obj, free_text=kwargs.pop("free_text", False))
    chunks = list(iter_chunks(session, plan, **kwargs))
    return pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(columns=plan.columns)


def test_dataset_matches_the_report_frame_and_cleaning(
    frozen_demo: Initiative, db_session: Session
) -> None:
    """Small chunks give exactly the flags, scores and weights of the whole-data pipeline."""
    from analysis import clean
    from surveyapp.reports import add_area_weights

    initiative = frozen_demo
    # A duplicate of an earlier response in the same wave and area, straddling chunks.
    from surveyapp.designs import area_groups

    in_design = Response.area_id.in_(list(area_groups(db_session, initiative)))
    first = db_session.scalars(select(Response).where(in_design).order_by(Response.id)).first()
    twin = db_session.scalars(
        select(Response).where(
            Response.wave_id == first.wave_id,
            Response.area_id == first.area_id,
            Response.id > first.id + 40,  # more than a chunk of 37 rows later
        )
    ).first()
    assert twin is not None
    answers = {a.item_id: a for a in first.answers}
    for answer in twin.answers:
        source = answers.get(answer.item_id)
        answer.value_code = source.value_code if source else None
        answer.value_number = source.value_number if source else None
    # One sent in a burst from one address (flagged at collection).
    burst = db_session.scalars(select(Response).order_by(Response.id.desc())).first()
    burst.quality_flags = [*(burst.quality_flags or []), "completion_burst"]
    db_session.flush()

    data = dataset(db_session, "initiative", initiative, chunk_size=37)
    assert len(data) == design_rows(db_session, initiative) and data["response_id"].is_unique

    frame = initiative_frame(db_session, initiative).set_index("response_id")
    report = build_initiative_report(db_session, initiative, actor=db_session.scalar(select(User)))
    # Scored with the model frozen at the first report, not one refitted on today's data.
    model = db_session.scalar(select(ScoringModel)).definition
    items = list(model["items"])
    data = data.set_index("response_id").loc[frame.index]
    pd.testing.assert_frame_equal(
        data[items].astype(float), frame[items].astype(float), check_names=False
    )
    blocks = report.content["cleaning"]["parameters"]["mixed_keyed_blocks"]
    expected = clean(
        frame,
        report.content["cleaning"]["parameters"]["items"],
        duration="duration_seconds",
        mixed_keyed_blocks=blocks,
        straightline_min_items=4,
        attention_checks=report.content["cleaning"]["parameters"]["attention_checks"],
        duplicate_keys=["wave", "area"],
        known_duplicates="collection_duplicate",
        known_bursts="collection_burst",
    ).flags
    assert expected["duplicate"].sum() >= 1
    for flag in [*CLEANING_FLAGS, "exclude"]:
        assert (data[f"flag_{flag}"] == expected[flag].astype(int)).all(), flag
    assert data.loc[twin.id, "flag_duplicate"] == 1 and data.loc[first.id, "flag_duplicate"] == 0
    assert data["flag_burst"].sum() == 1 and data.loc[burst.id, "flag_burst"] == 1
    assert data.loc[burst.id, "flag_exclude"] == 1

    scores = score(frame, model)
    for construct in scores.columns:
        np.testing.assert_allclose(data[f"idx_{construct}"], scores[construct])
    assert (data["scoring_model"] == model["hash"][:12]).all()

    weighted, _notes = add_area_weights(db_session, frame.reset_index(), city_id=initiative.city_id)
    np.testing.assert_allclose(
        data["weight"].to_numpy(), weighted.set_index("response_id").loc[data.index, "weight"]
    )
    assert data["weight"].std() > 0.05


def test_dataset_carries_no_personal_data_unless_asked(
    frozen_demo: Initiative, db_session: Session
) -> None:
    initiative = frozen_demo
    response = db_session.scalars(select(Response)).first()
    db_session.add(Answer(response_id=response.id, item_id="home_language", value_text="Tigrinya"))
    db_session.flush()
    data = dataset(db_session, "initiative", initiative)
    assert "home_language" not in data.columns
    forbidden = {"started_at", "submitted_on", "idempotency_key", "resume_key_hash", "code"}
    assert not forbidden & set(data.columns)
    assert data["submitted_date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    with_text = dataset(db_session, "initiative", initiative, free_text=True)
    assert with_text.set_index("response_id").loc[response.id, "home_language"] == "Tigrinya"


@pytest.mark.parametrize("scope", ["wave", "initiative", "city"])
def test_scopes_hold_their_waves_with_stable_variable_names(
    frozen_demo: Initiative, db_session: Session, scope: str
) -> None:
    initiative = frozen_demo
    whole = dataset(db_session, "initiative", initiative)
    rounds = waves_for_initiative(db_session, initiative)
    obj = {"wave": rounds[1], "initiative": initiative, "city": initiative.city}[scope]
    data = dataset(db_session, scope, obj)
    assert list(data.columns) == list(whole.columns)
    city_rows = db_session.scalar(
        select(func.count(Response.id)).where(Response.wave_id.in_([w.id for w in rounds]))
    )
    expected = {
        "wave": len(db_session.scalars(select(Response).where(Response.wave_id == obj.id)).all()),
        "initiative": design_rows(db_session, initiative),
        "city": city_rows,
    }[scope]
    assert len(data) == expected
    if scope == "wave":
        assert set(data["wave_order"]) == {2}
        # The same response has the same values whichever download it came from.
        merged = data.merge(whole, on="response_id", suffixes=("", "_all"))
        for column in ("idx_trust", "weight", "flag_exclude", "ppltrst"):
            np.testing.assert_allclose(merged[column], merged[f"{column}_all"])
    ours = data["initiative_id"] == initiative.id
    assert set(data.loc[ours, "group"]) == {"treated", "comparison"}
    assert (data.loc[ours, "pyramid_level"] == int(initiative.pyramid_level)).all()
    if scope != "initiative":
        # Each answer once: the other initiative's rows, then those outside every design.
        assert data["response_id"].is_unique
        outside = data["initiative"] == ""
        assert outside.any() and set(data.loc[outside, "group"]) == {""}
        assert data.loc[outside, "idx_trust"].notna().any()  # scored all the same


def test_variable_names_stay_across_instrument_versions(
    frozen_demo: Initiative, db_session: Session, tmp_path, client
) -> None:
    """A wave on version 1.1.0 (one question reworded under a new id) joins the same columns."""
    import yaml

    from surveyapp.exports.codebook import version_history
    from surveyapp.instruments import load_instrument
    from surveyapp.instruments.registry import publish
    from surveyapp.models import Wave, WaveStatus

    from ..conftest import CORE_INSTRUMENT

    initiative = frozen_demo
    data = yaml.safe_load(CORE_INSTRUMENT.read_text(encoding="utf-8"))
    data["version"] = "1.1.0"
    for section in data["sections"]:
        for item in section["items"]:
            if item["id"] == "pplfair":
                item["id"] = "pplfair_v2"
                item["text"] = "Most people would try to be fair with me."
    unchanged = [
        item["id"]
        for section in data["sections"]
        for item in section["items"]
        if item["id"] != "pplfair_v2"
    ]
    data["carries_over"] = {"from": "1.0.0", "unchanged_items": unchanged}
    folder = tmp_path / "social-cohesion-safety"
    folder.mkdir()
    (folder / "1.0.0.yaml").write_text(CORE_INSTRUMENT.read_text(encoding="utf-8"))
    (folder / "1.1.0.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    new = load_instrument(folder / "1.1.0.yaml")
    row, _created = publish(db_session, new)
    old_wave = waves_for_initiative(db_session, initiative)[-1]
    wave = Wave(
        initiative=initiative,
        instrument_id=row.id,
        name="One year on",
        modules=["demographics"],
        languages=["en"],
        status=WaveStatus.CLOSED,
        frozen_instrument_hash=row.content_hash,
    )
    db_session.add(wave)
    db_session.flush()
    answered = db_session.scalars(
        select(Response).where(Response.wave_id == old_wave.id).order_by(Response.id)
    ).first()
    copy = Response(
        wave_id=wave.id,
        area_id=answered.area_id,
        language="en",
        channel=answered.channel,
        status=answered.status,
        started_at=None,
        started_on=answered.started_on,
        submitted_on=answered.submitted_on,
        duration_seconds=answered.duration_seconds,
        idempotency_key="v2-copy",
        quality_flags=[],
        answers=[
            Answer(
                item_id="pplfair_v2" if a.item_id == "pplfair" else a.item_id,
                value_code=a.value_code,
                value_number=a.value_number,
            )
            for a in answered.answers
        ],
    )
    db_session.add(copy)
    db_session.flush()

    before = dataset(db_session, "wave", old_wave)
    after = dataset(db_session, "wave", wave)
    whole = dataset(db_session, "initiative", initiative)
    # Each version's download has its own questions; together they keep every name and order.
    assert [c for c in whole.columns if c in before.columns] == list(before.columns)
    assert "pplfair_v2" in after.columns and "pplfair" not in after.columns
    assert "pplfair_v2" in whole.columns and "pplfair" in whole.columns
    row_new = whole.set_index("response_id").loc[copy.id]
    assert row_new["pplfair_v2"] == answered_value(answered, "pplfair")
    assert np.isnan(row_new["pplfair"])
    assert row_new["ppltrst"] == answered_value(answered, "ppltrst")
    assert after["wave_order"].tolist() == [3]
    history = version_history(
        db_session, build_plan(db_session, "initiative", initiative).instruments
    )
    assert [(v["version"], v["added"], v["removed"]) for v in history] == [
        ("1.0.0", [], []),
        ("1.1.0", ["pplfair_v2"], ["pplfair"]),
    ]


def answered_value(response: Response, item_id: str) -> float:
    answer = next(a for a in response.answers if a.item_id == item_id)
    return float(answer.value_code)
