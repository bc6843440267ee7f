"""Change estimates: CIs by hand, disclosure control, and simulation checks.

Simulation tests as issue 6 asks: 95% CIs of change cover the true value in 93-97%
of at least 500 replications; difference-in-differences on data without an effect
rejects at about the nominal 5%.
"""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import (
    difference_in_differences,
    panel_change,
    wave_change,
    wave_means,
    weighted_mean_ci,
)


def test_unweighted_mean_ci_is_the_t_interval() -> None:
    values = np.arange(40, dtype=float)
    estimate = weighted_mean_ci(values)
    se = values.std(ddof=1) / np.sqrt(40)
    assert estimate["mean"] == pytest.approx(19.5)
    assert estimate["se"] == pytest.approx(se)
    assert estimate["ci_upper"] == pytest.approx(19.5 + stats.t.ppf(0.975, 39) * se)


def test_small_cells_are_withheld_with_a_reason() -> None:
    estimate = weighted_mean_ci(np.ones(29))
    assert np.isnan(estimate["mean"])
    assert "n = 29 < 30" in estimate["withheld"]
    data = pd.DataFrame({"y": np.r_[np.ones(50), np.ones(10)], "wave": [0] * 50 + [1] * 10})
    table = wave_means(data, "y", "wave")
    assert table["withheld"].isna().tolist() == [True, False]
    change = wave_change(data, "y", "wave", 0, 1)
    assert np.isnan(change["change"]) and "change withheld" in change["withheld"]


def test_wave_means_by_arm_and_weights() -> None:
    data = pd.DataFrame(
        {
            "y": np.r_[np.full(30, 10.0), np.full(30, 20.0), np.full(40, 50.0)],
            "w": np.r_[np.full(30, 3.0), np.full(30, 1.0), np.full(40, 1.0)],
            "wave": ["w0"] * 60 + ["w1"] * 40,
            "arm": ["t"] * 100,
        }
    )
    table = wave_means(data, "y", "wave", weight="w", by=["arm"])
    assert table["mean"].tolist() == pytest.approx([12.5, 50.0])
    assert table["n"].tolist() == [60, 40]


def test_change_coverage_in_500_replications() -> None:
    """Weighted means of two independent waves; true change 3 points."""
    rng = np.random.default_rng(2026)
    covered = 0
    replications = 500
    for _ in range(replications):
        y0 = rng.normal(50, 10, 120)
        y1 = rng.normal(53, 10, 150)
        data = pd.DataFrame(
            {
                "y": np.r_[y0, y1],
                "wave": [0] * 120 + [1] * 150,
                "w": rng.uniform(0.5, 2.0, 270),
            }
        )
        change = wave_change(data, "y", "wave", 0, 1, weight="w")
        covered += change["ci_lower"] <= 3.0 <= change["ci_upper"]
    assert 0.93 <= covered / replications <= 0.97


def test_change_effect_size() -> None:
    rng = np.random.default_rng(3)
    data = pd.DataFrame(
        {"y": np.r_[rng.normal(50, 10, 4000), rng.normal(52, 10, 4000)], "wave": [0, 1] * 4000}
    )
    data["wave"] = [0] * 4000 + [1] * 4000
    change = wave_change(data, "y", "wave", 0, 1)
    assert change["effect_size"] == pytest.approx(0.2, abs=0.05)


def _did_data(rng: np.random.Generator, effect: float = 0.0) -> pd.DataFrame:
    """20 areas (10 treated), 40 respondents per area and wave, area and area x wave shocks."""
    n_areas, n_per = 20, 40
    treated = np.arange(n_areas) < n_areas // 2
    area_effect = rng.normal(0, 3, n_areas)
    frames = []
    for wave in (0, 1):
        shock = rng.normal(0, 2, n_areas)
        area = np.repeat(np.arange(n_areas), n_per)
        y = (
            50 + area_effect[area] + shock[area] + rng.normal(0, 15, area.size)
            + effect * wave * treated[area]
        )  # fmt: skip
        frames.append(pd.DataFrame({"y": y, "wave": wave, "area": area,
                                    "treated": treated[area]}))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def test_did_without_effect_rejects_at_about_five_percent() -> None:
    rng = np.random.default_rng(5)
    replications = 500
    rejected = sum(
        difference_in_differences(_did_data(rng), "y", "wave", "area", "treated", 0, 1)["pvalue"]
        < 0.05
        for _ in range(replications)
    )
    assert 0.03 <= rejected / replications <= 0.075


def test_did_recovers_an_effect_and_reports_cells() -> None:
    rng = np.random.default_rng(8)
    data = pd.concat([_did_data(rng, effect=5.0) for _ in range(4)], ignore_index=True)
    result = difference_in_differences(data, "y", "wave", "area", "treated", 0, 1)
    assert result["ci_lower"] <= 5.0 <= result["ci_upper"]
    assert result["did"] > 0 and result["pvalue"] < 0.05
    assert result["n_areas_treated"] == 10
    assert result["cells"]["treated_after"]["n"] == 1600
    assert result["effect_size"] == pytest.approx(result["did"] / 15.5, rel=0.2)


def test_cluster_bootstrap_without_effect() -> None:
    rng = np.random.default_rng(13)
    replications = 100
    rejected = 0
    for seed in range(replications):
        result = difference_in_differences(
            _did_data(rng), "y", "wave", "area", "treated", 0, 1,
            method="bootstrap", n_boot=199, seed=seed,
        )  # fmt: skip
        rejected += not result["ci_lower"] <= 0.0 <= result["ci_upper"]
    assert rejected / replications <= 0.12


def test_did_withheld_for_small_cells_or_one_area() -> None:
    rng = np.random.default_rng(1)
    data = _did_data(rng)
    one_area = data[(~data["treated"]) | (data["area"] == 0)]
    assert (
        "fewer than 2 areas"
        in difference_in_differences(one_area, "y", "wave", "area", "treated", 0, 1)["withheld"]
    )
    tiny = data.groupby(["wave", "treated"]).head(20)
    assert (
        "< 30" in difference_in_differences(tiny, "y", "wave", "area", "treated", 0, 1)["withheld"]
    )


def test_panel_change_is_paired() -> None:
    rng = np.random.default_rng(4)
    base = rng.normal(50, 10, 200)
    data = pd.DataFrame(
        {
            "y": np.r_[base, base + 2 + rng.normal(0, 1, 200)],
            "wave": [0] * 200 + [1] * 200,
            "pid": np.r_[np.arange(200), np.arange(200)],
        }
    )
    result = panel_change(data, "y", "wave", "pid", 0, 1)
    assert result["n_pairs"] == 200
    assert result["ci_lower"] <= 2.0 <= result["ci_upper"]
    assert result["ci_upper"] - result["ci_lower"] < 0.5  # pairing removes the person SD
    assert result["effect_size"] == pytest.approx(2.0, abs=0.4)


def test_clustered_change_is_the_one_sample_t_of_area_changes() -> None:
    from analysis.planning import simulated_responses

    data = simulated_responses(np.random.default_rng(6), 3, 0, 60, sd=20, icc=0.03, messy=True)
    change = wave_change(data, "y", "wave", 0, 1, weight="w", cluster="area")
    data["wy"] = data["w"] * data["y"]
    sums = data.groupby(["area", "wave"])[["w", "wy"]].sum()
    means = (sums["wy"] / sums["w"]).unstack("wave")
    by_hand = stats.ttest_1samp(means[1] - means[0], 0.0)
    assert change["change"] == pytest.approx((means[1] - means[0]).mean())
    assert change["mean_after"] - change["mean_before"] == pytest.approx(change["change"])
    assert change["pvalue"] == pytest.approx(by_hand.pvalue)
    assert (change["ci_lower"], change["ci_upper"]) == pytest.approx(
        tuple(by_hand.confidence_interval(0.95))
    )
    assert change["df"] == 2 and change["n_clusters"] == 3
    one = data[data["area"] != 0]
    one = one[~((one["area"] == 1) & (one["wave"] == 1))]
    assert "1 cluster(s)" in wave_change(one, "y", "wave", 0, 1, cluster="area")["withheld"]


@pytest.mark.parametrize("areas", [2, 3, 5, 10])
def test_clustered_change_holds_its_size_with_few_areas(areas: int) -> None:
    """2,000 messy replications of one arm without change (MC SE 0.49 points at 5%)."""
    from analysis.planning import simulate_design, simulated_responses

    changes, _ = simulate_design(
        areas, 0, 80, sd=20, icc=0.03, messy=True, replications=2000, seed=areas
    )
    pvalues = stats.ttest_1samp(changes, 0.0, axis=1).pvalue
    assert 0.025 <= float((pvalues < 0.05).mean()) <= 0.075
    # ... and that is what wave_change computes on the same surveys.
    rng = np.random.default_rng(areas)
    for k in range(5):
        data = simulated_responses(rng, areas, 0, 80, sd=20, icc=0.03, messy=True)
        result = wave_change(data, "y", "wave", 0, 1, weight="w", cluster="area")
        assert result["pvalue"] == pytest.approx(pvalues[k], rel=1e-9)
