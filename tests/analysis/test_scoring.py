"""Frozen scoring model: POMP indices, reverse coding, missing-item rule, hash."""

import json

import numpy as np
import pandas as pd
import pytest

from analysis import freeze_scoring_model, score, verify_scoring_model

CONSTRUCTS = {"trust": ["t1", "t2", "t3"]}
SCALE = {"t1": (1, 5), "t2": (1, 5), "t3": (0, 10)}


@pytest.fixture
def reference() -> pd.DataFrame:
    return pd.DataFrame({"t1": [1, 3, 5, 4], "t2": [5, 3, 1, 2], "t3": [0, 5, 10, 8]})


@pytest.fixture
def model(reference) -> dict:
    return freeze_scoring_model(
        reference, CONSTRUCTS, SCALE, reverse=["t2"], version="2026.1",
        instrument="core@1", reference_label="wave-0",
    )  # fmt: skip


def test_pomp_with_reverse_coding(model) -> None:
    data = pd.DataFrame({"t1": [5, 1, 3], "t2": [1, 5, 3], "t3": [10, 0, 5]})
    # Row 1: all at the positive end -> 100; row 2: the negative end -> 0; row 3: midpoints.
    np.testing.assert_allclose(score(data, model)["trust"], [100.0, 0.0, 50.0])


def test_two_thirds_rule_and_negative_codes(model) -> None:
    data = pd.DataFrame({"t1": [5, 5, -1, 5], "t2": [np.nan, -9, -2, 11], "t3": [10, -1, 10, 10]})
    scores = score(data, model)["trust"]
    assert scores.iloc[0] == 100.0  # 2 of 3 answered: scored on the answered items
    assert np.isnan(scores.iloc[1])  # 1 of 3 answered (negative codes are missing)
    assert np.isnan(scores.iloc[2])
    assert scores.iloc[3] == 100.0  # 11 is outside 1..5: missing, 2 of 3 remain


def test_model_is_json_serialisable_and_hash_is_stable(model) -> None:
    assert model["version"] == "2026.1"
    assert model["instrument"] == "core@1"
    assert len(model["hash"]) == 64
    restored = json.loads(json.dumps(model))
    verify_scoring_model(restored)
    assert restored["hash"] == model["hash"]
    assert model["reference"]["constructs"]["trust"]["n_scored"] == 4
    assert model["items"]["t2"]["reverse"] is True
    assert model["missing_rule"]["min_answered_fraction"] == pytest.approx(2 / 3)


def test_tampered_model_is_rejected(model) -> None:
    tampered = json.loads(json.dumps(model))
    tampered["items"]["t2"]["reverse"] = False
    with pytest.raises(ValueError, match="hash does not match"):
        score(pd.DataFrame({"t1": [1], "t2": [1], "t3": [1]}), tampered)


def test_later_wave_is_scored_with_frozen_reference(model, reference) -> None:
    """Scoring a different wave does not change the model or refit anything."""
    before = json.dumps(model, sort_keys=True)
    later = reference.assign(t1=5)
    score(later, model)
    assert json.dumps(model, sort_keys=True) == before
    assert score(reference, model)["trust"].mean() == pytest.approx(
        model["reference"]["constructs"]["trust"]["mean"]
    )


def test_weights_are_used(reference) -> None:
    weighted = freeze_scoring_model(
        reference, CONSTRUCTS, SCALE, weights={"trust": {"t1": 3.0, "t2": 1.0, "t3": 1.0}}
    )
    data = pd.DataFrame({"t1": [5], "t2": [1], "t3": [0]})
    assert score(data, weighted)["trust"].iloc[0] == pytest.approx(100 * 3 / 5)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"scale": {"t1": (1, 5), "t2": (1, 5)}}, "no \\(min, max\\)"),
        ({"scale": {**SCALE, "t1": (5, 5)}}, "empty range"),
        ({"reverse": ["zz"]}, "not in any construct"),
        ({"min_answered_fraction": 0}, "min_answered_fraction"),
    ],
)
def test_invalid_definitions(reference, kwargs, message) -> None:
    arguments = {"scale": SCALE, **kwargs}
    with pytest.raises(ValueError, match=message):
        freeze_scoring_model(reference, CONSTRUCTS, **arguments)


def test_factor_score_weights_from_a_cfa(holzinger, hs_model) -> None:
    """Optional factor-score weights: higher for items with more common variance."""
    from analysis import factor_score_weights, fit_cfa

    cfa = fit_cfa(holzinger, hs_model)
    weights = factor_score_weights(cfa.loadings, cfa.unique_variances)
    assert set(weights) == set(hs_model)
    visual = weights["visual"]
    assert np.mean(list(visual.values())) == pytest.approx(1.0)
    # x1 (loading .772) outweighs x2 (loading .424).
    assert visual["x1"] > visual["x2"]
    scale = {item: (0, 10) for items in hs_model.values() for item in items}
    frozen = freeze_scoring_model(holzinger, hs_model, scale, weights=weights)
    assert frozen["constructs"]["visual"]["weights"] == visual
