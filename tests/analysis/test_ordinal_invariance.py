"""Multi-group WLSMV (ordered items) against lavaan 0.6-14.

Reference: ``tests/analysis/lavaan_ordinal_invariance.R`` (run once; it wrote
``data/hs_ordinal.csv`` and ``lavaan_ordinal_invariance.py``): Holzinger & Swineford's nine
tests cut into four ordered categories, 5% of the answers blanked, grouped by school,
``cfa(..., ordered = TRUE, estimator = "WLSMV", missing = "pairwise", group = "school")``
configural, ``group.equal = "loadings"``, ``c("loadings", "thresholds")`` and the partial
model with the thresholds of x3 and x7 free; ``lavTestLRT`` (method ``"satorra.2000"``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import index_comparability, measurement_invariance
from analysis.cfa import loading_pattern, model_items
from analysis.invariance import partial_scalar_fit
from analysis.ordinal_invariance import (
    collapse_categories,
    difference_test,
    fit_ordinal_level,
    ordinal_groups,
)
from analysis.verdicts import level_holds
from tests.analysis import lavaan_ordinal_invariance as ref

DATA = Path(__file__).parent / "data" / "hs_ordinal.csv"
MODEL = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]}


@pytest.fixture(scope="module")
def hs() -> pd.DataFrame:
    return pd.read_csv(DATA)


@pytest.fixture(scope="module")
def table(hs) -> pd.DataFrame:
    return measurement_invariance(hs, MODEL, "school", estimator="WLSMV")


@pytest.fixture(scope="module")
def fits(hs) -> dict:
    items = model_items(MODEL)
    prepared = ordinal_groups(hs, items, "school", loading_pattern(MODEL, hs), len(items) + 1)
    out = {
        level: fit_ordinal_level(prepared, level) for level in ("configural", "metric", "scalar")
    }
    out["partial"] = fit_ordinal_level(prepared, "scalar", frozenset({2, 6}))  # x3, x7
    out["prepared"] = prepared
    return out


def test_fit_of_each_level_matches_lavaan(table) -> None:
    for level in ("configural", "metric", "scalar"):
        expected = ref.MODELS[level]
        row = table.loc[level]
        assert row["chi2"] == pytest.approx(expected["chisq.scaled"], abs=5e-4), level
        assert row["df"] == expected["df.scaled"]
        assert row["pvalue"] == pytest.approx(expected["pvalue.scaled"], abs=5e-4)
        assert row["cfi"] == pytest.approx(expected["cfi.scaled"], abs=5e-4), level
        assert row["tli"] == pytest.approx(expected["tli.scaled"], abs=5e-4), level
        assert row["rmsea"] == pytest.approx(expected["rmsea.scaled"], abs=5e-4), level
        assert row["converged"]
    assert table.attrs["estimator"] == "WLSMV"
    assert table.attrs["groups"] == ref.GROUPS


def test_unscaled_statistics_match_lavaan(fits) -> None:
    for level in ("configural", "metric", "scalar", "partial"):
        row, _ = fits[level]
        assert row["chi2_unscaled"] == pytest.approx(ref.MODELS[level]["chisq"], abs=5e-4)


def test_difference_tests_match_lavtestlrt(table, fits) -> None:
    for level in ("metric", "scalar"):
        expected = ref.LRT[level]
        assert expected["method"] == "satorra.2000"
        assert table.loc[level, "delta_chi2"] == pytest.approx(expected["chisq_diff"], abs=5e-4)
        assert table.loc[level, "delta_df"] == expected["df_diff"]
        assert table.loc[level, "delta_pvalue"] == pytest.approx(expected["pvalue"], abs=5e-4)
    partial = difference_test(fits["prepared"], fits["metric"][1], fits["partial"][1])
    assert partial["delta_chi2"] == pytest.approx(ref.LRT["partial"]["chisq_diff"], abs=5e-4)
    assert partial["delta_df"] == ref.LRT["partial"]["df_diff"]


def test_verdict_uses_the_scaled_indices(table) -> None:
    # Metric: CFI rises (.967 -> .970), RMSEA falls: holds. Scalar: CFI -.038: fails.
    assert table["holds"].tolist() == [True, True, False]
    assert table.loc["scalar", "delta_cfi"] == pytest.approx(
        ref.MODELS["scalar"]["cfi.scaled"] - ref.MODELS["metric"]["cfi.scaled"], abs=1e-3
    )


@pytest.mark.parametrize("level", ["configural", "metric", "scalar", "partial"])
def test_loadings_and_thresholds_match_lavaan(fits, level) -> None:
    _, fit = fits[level]
    np.testing.assert_allclose(fit.loadings().ravel(), ref.MODELS[level]["loadings"], atol=5e-4)
    thresholds = np.concatenate(fit.thresholds())
    np.testing.assert_allclose(thresholds, ref.MODELS[level]["thresholds"], atol=5e-4)


def test_partial_scalar_fit_frees_the_named_items_thresholds(hs) -> None:
    row = partial_scalar_fit(hs, MODEL, "school", ["x3", "x7"], estimator="WLSMV")
    expected = ref.MODELS["partial"]
    assert row["chi2"] == pytest.approx(expected["chisq.scaled"], abs=5e-4)
    assert row["df"] == expected["df.scaled"]
    assert row["cfi"] == pytest.approx(expected["cfi.scaled"], abs=5e-4)
    assert row["rmsea"] == pytest.approx(expected["rmsea.scaled"], abs=5e-4)


def test_missing_answers_are_used_pairwise(hs, table) -> None:
    # 5% of answers are blank: listwise deletion would keep about 63% of the children.
    assert hs[model_items(MODEL)].notna().all(axis=1).sum() < 200
    assert table.attrs["group_sizes"] == [156, 145]
    assert ref.MODELS["configural"]["ntotal"] == 301


def test_a_category_nobody_chose_in_a_group_is_merged_towards_the_middle(hs) -> None:
    data = hs.copy()
    data.loc[(data["school"] == "Pasteur") & (data["x5"] == 4), "x5"] = 3
    table = measurement_invariance(data, MODEL, "school", estimator="WLSMV")
    # x5's top answer (4) is empty at Pasteur: 3 and 4 are one answer in both schools,
    # so x5 has two thresholds, not three, and the test runs.
    assert table.attrs["collapsed"] == {"x5": ["3 and 4"]}
    merged = data.assign(x5=data["x5"].clip(upper=3))
    expected = measurement_invariance(merged, MODEL, "school", estimator="WLSMV")
    assert table["chi2"].to_numpy() == pytest.approx(expected["chi2"].to_numpy(), rel=1e-9)
    assert expected.attrs["collapsed"] == {}
    # One threshold fewer per school, one shared threshold fewer in the scalar model.
    assert table.loc["configural", "df"] == ref.MODELS["configural"]["df.scaled"]
    assert table.loc["scalar", "df"] == ref.MODELS["scalar"]["df.scaled"] - 1


def test_collapsing_merges_each_empty_category_with_its_inner_neighbour() -> None:
    # Rows: groups; columns: categories 0..4 of one item.
    assert collapse_categories(np.array([[5, 3, 0, 4, 6], [5, 3, 2, 4, 6]])) == [
        [0], [1, 2], [3], [4]
    ]  # fmt: skip
    # Empty ends merge inwards (0 with 1, 4 with 3), whichever group lacks them.
    assert collapse_categories(np.array([[0, 3, 4, 4, 6], [5, 3, 2, 4, 0]])) == [
        [0, 1], [2], [3, 4]
    ]  # fmt: skip
    # A 0-10 item answered 7-10 in one group: 0-7 become one answer.
    counts = np.array([[0, 0, 0, 0, 0, 0, 0, 4, 6, 1, 2], [0, 0, 0, 1, 0, 0, 2, 4, 6, 1, 1]])
    assert collapse_categories(counts) == [[0, 1, 2, 3, 4, 5, 6, 7], [8], [9], [10]]


def test_an_item_left_with_one_answer_in_a_group_is_named(hs) -> None:
    data = hs.copy()
    data.loc[data["school"] == "Pasteur", "x5"] = 2
    with pytest.raises(ValueError, match=r"Item 'x5' has fewer than two answers chosen in every"):
        measurement_invariance(data, MODEL, "school", estimator="WLSMV")


def test_unknown_estimator_is_refused(hs) -> None:
    with pytest.raises(ValueError, match="Unknown estimator"):
        measurement_invariance(hs, MODEL, "school", estimator="GLS")


def _ordinal_waves(drift: float, seed: int, n: int = 400) -> pd.DataFrame:
    """Five 5-point items of one factor; in wave 2 items i1, i2 are answered higher."""
    rng = np.random.default_rng(seed)
    cuts = np.array([-1.2, -0.4, 0.4, 1.2])
    frames = []
    for wave in ("1", "2"):
        eta = rng.normal(size=n)
        latent = 0.75 * eta[:, None] + np.sqrt(1 - 0.75**2) * rng.normal(size=(n, 5))
        if wave == "2":
            latent[:, :2] += drift
        answers = 1.0 + (latent[:, :, None] > cuts).sum(axis=2)
        answers[rng.random(answers.shape) < 0.1] = np.nan  # 10% skipped questions
        frame = pd.DataFrame(answers, columns=[f"i{k}" for k in range(1, 6)])
        frames.append(frame.assign(wave=wave))
    return pd.concat(frames, ignore_index=True)


def test_gate_on_ordered_items_names_the_drifting_items() -> None:
    items = [f"i{k}" for k in range(1, 6)]
    stable = _ordinal_waves(0.0, seed=11)
    check = index_comparability(stable, items, stable["wave"], what="waves", estimator="WLSMV")
    assert check["status"] == "comparable", check
    drifting = _ordinal_waves(0.8, seed=11)
    check = index_comparability(drifting, items, drifting["wave"], what="waves", estimator="WLSMV")
    # Freeing the thresholds of the two drifting items restores the fit: the index is
    # partially comparable, with those items named (0.8 SD drift, 400 per wave).
    assert check["status"] == "partial", check
    assert sorted(check["freed"]) == ["i1", "i2"]
    assert "thresholds of i1, i2" in check["reason"]


def test_wlsmv_gate_needs_a_significant_difference_test_as_well() -> None:
    """Invariant data: the scaled CFI/RMSEA changes of a five-item index cross the
    cut-offs by chance (bench/bench_gates.py: in 10-20% of runs); the rule withholds only
    when the scaled difference test agrees. Drifting items are still caught."""
    items = [f"i{k}" for k in range(1, 6)]
    outcomes = []
    for seed in range(4):
        data = _ordinal_waves(0.0, seed=100 + seed, n=500)
        check = index_comparability(data, items, data["wave"], what="waves", estimator="WLSMV")
        outcomes.append(check["status"])
        if check["status"] == "comparable":
            assert check["delta_pvalue"] > 0.05 or (
                check["delta_cfi"] >= -0.01 and check["delta_rmsea"] <= 0.015
            )
    assert outcomes.count("comparable") >= 3, outcomes
    for seed in range(2):
        data = _ordinal_waves(0.5, seed=200 + seed, n=500)
        check = index_comparability(data, items, data["wave"], what="waves", estimator="WLSMV")
        assert check["status"] in ("partial", "not_comparable"), check
        assert check["status"] == "not_comparable" or set(check["freed"]) <= {"i1", "i2"}


def test_level_holds_by_cutoffs_or_a_non_significant_test() -> None:
    assert level_holds(-0.005, 0.010)
    assert not level_holds(-0.020, 0.010)
    assert not level_holds(-0.020, 0.010, 0.40)  # ML: the test is not consulted
    assert level_holds(-0.020, 0.030, 0.40, alpha=0.05)
    assert not level_holds(-0.020, 0.030, 0.01, alpha=0.05)
    assert not level_holds(-0.020, 0.030, float("nan"), alpha=0.05)


def test_merged_answers_are_named_in_the_gate() -> None:
    items = [f"i{k}" for k in range(1, 6)]
    data = _ordinal_waves(0.0, seed=11, n=150)
    data.loc[(data["wave"] == "2") & (data["i3"] == 5), "i3"] = 4
    check = index_comparability(data, items, data["wave"], what="waves", estimator="WLSMV")
    assert check["status"] != "unchecked", check
    assert check["collapsed"] == {"i3": ["4 and 5"]}
    assert "i3: 4 and 5" in check["reason"]
