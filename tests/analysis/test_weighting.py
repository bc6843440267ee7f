"""Raking to area margins, trimming and the design effect."""

import numpy as np
import pandas as pd
import pytest

from analysis import design_effect, rake


@pytest.fixture
def sample() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "age": rng.choice(["18-34", "35-64", "65+"], 2000, p=[0.2, 0.5, 0.3]),
            "gender": rng.choice(["f", "m"], 2000, p=[0.6, 0.4]),
        }
    )


def _shares(data, weights, column):
    return weights.groupby(data[column]).sum() / weights.sum()


def test_raking_matches_separate_margins(sample) -> None:
    age = pd.Series({"18-34": 0.3, "35-64": 0.45, "65+": 0.25})
    gender = pd.Series({"f": 0.52, "m": 0.48})
    result = rake(sample, {"age": age, "gender": gender}, trim=None)
    assert result.converged
    np.testing.assert_allclose(_shares(sample, result.weights, "age"), age, atol=1e-5)
    np.testing.assert_allclose(_shares(sample, result.weights, "gender"), gender, atol=1e-5)
    assert result.weights.sum() == pytest.approx(len(sample))
    assert result.design_effect > 1
    assert result.effective_n == pytest.approx(len(sample) / result.design_effect)


def test_joint_age_by_gender_table(sample) -> None:
    cells = pd.MultiIndex.from_product([["18-34", "35-64", "65+"], ["f", "m"]])
    population = pd.Series([100, 120, 200, 210, 90, 60], index=cells)
    result = rake(sample, {("age", "gender"): population})
    joint = result.weights.groupby([sample["age"], sample["gender"]]).sum() / len(sample)
    np.testing.assert_allclose(joint.to_numpy(), population / population.sum(), atol=1e-6)


def test_trimming_bounds_weights_and_is_reported(sample) -> None:
    age = pd.Series({"18-34": 0.7, "35-64": 0.2, "65+": 0.1})
    result = rake(sample, {"age": age}, trim=(0.5, 2.0))
    relative = result.weights / result.weights.mean()
    assert relative.max() <= 2.0 + 1e-9 and relative.min() >= 0.5 - 1e-9
    assert result.n_trimmed > 0
    assert result.parameters["trim"] == [0.5, 2.0]


def test_kish_design_effect_by_hand() -> None:
    # Weights 1, 1, 2, 4: n * sum(w^2) / sum(w)^2 = 4 * 22 / 64 = 1.375.
    deff, n_eff = design_effect([1, 1, 2, 4])
    assert deff == pytest.approx(1.375)
    assert n_eff == pytest.approx(64 / 22)


def test_errors_for_unmatched_categories(sample) -> None:
    with pytest.raises(ValueError, match="no population target"):
        rake(sample, {"age": pd.Series({"18-34": 1, "35-64": 1})})
    with pytest.raises(ValueError, match="no respondents"):
        rake(sample, {"gender": pd.Series({"f": 1, "m": 1, "x": 1})})
