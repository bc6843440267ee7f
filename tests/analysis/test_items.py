"""Item analysis and structure checks.

KMO and Bartlett on Holzinger & Swineford x1..x9 are compared with factor-analyzer's
``calculate_kmo`` / ``calculate_bartlett_sphericity`` (an independent implementation;
no published psych value was retrieved for this data).
"""

import numpy as np
import pandas as pd
import pytest
from factor_analyzer.factor_analyzer import calculate_bartlett_sphericity, calculate_kmo

from analysis import item_analysis, item_distributions, structure_checks

NINE = [f"x{i}" for i in range(1, 10)]


def test_item_rest_correlation_matches_direct_computation(holzinger) -> None:
    table = item_analysis(holzinger, ["x4", "x5", "x6"])
    rest = holzinger["x5"] + holzinger["x6"]
    assert table.loc["x4", "item_rest_r"] == pytest.approx(holzinger["x4"].corr(rest))
    assert table.loc["x4", "n"] == 301
    assert table.loc["x4", "sd"] == pytest.approx(holzinger["x4"].std())


def test_negative_codes_are_missing() -> None:
    data = pd.DataFrame({"a": [1, 2, -1, 4], "b": [2, 2, 3, 3]})
    table = item_analysis(data, ["a", "b"])
    assert table.loc["a", "n"] == 3
    assert table.loc["a", "missing_share"] == pytest.approx(0.25)
    distribution = item_distributions(data, ["a"])
    assert distribution["share"].sum() == pytest.approx(1.0)
    assert distribution["value"].isna().sum() == 1


def test_structure_checks_match_factor_analyzer(holzinger) -> None:
    checks = structure_checks(holzinger, NINE, n_iter=50)
    assert checks["kmo"] == pytest.approx(calculate_kmo(holzinger[NINE])[1])
    assert round(checks["kmo"], 2) == 0.75
    chi2, _ = calculate_bartlett_sphericity(holzinger[NINE])
    assert checks["bartlett_chi2"] == pytest.approx(chi2)
    assert checks["bartlett_df"] == 36
    assert checks["parallel_analysis"]["n_factors"] == 3


def test_parallel_analysis_finds_no_factor_in_noise() -> None:
    rng = np.random.default_rng(0)
    # Independent answers on a 1-5 scale (negative values would be missing-value codes).
    data = pd.DataFrame(rng.integers(1, 6, size=(500, 6)), columns=list("abcdef"))
    checks = structure_checks(data, list("abcdef"), n_iter=50)
    assert checks["n"] == 500
    assert checks["parallel_analysis"]["n_factors"] == 0


def test_structure_checks_say_why_when_undefined() -> None:
    rng = np.random.default_rng(0)
    data = pd.DataFrame(rng.integers(1, 6, size=(5, 6)), columns=list("abcdef"))
    with pytest.raises(ValueError, match="5 complete response"):
        structure_checks(data, list("abcdef"), n_iter=5)
    data = pd.DataFrame(rng.integers(1, 6, size=(100, 3)), columns=list("abc"))
    data["d"] = data["a"] + data["b"]
    with pytest.raises(ValueError, match="singular"):
        structure_checks(data, list("abcd"), n_iter=5)
