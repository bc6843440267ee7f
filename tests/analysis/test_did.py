"""Few-area difference-in-differences: checks against SciPy, a hand-derived Bell-McCaffrey
example, and simulations of its size (issue 18 item 1).

Size: on messy survey data with no effect (stable area effects, area-by-wave shocks whose SD
differs between areas, unequal and area-dependent response counts, weights, scores bounded
to 0-100; :func:`analysis.planning.simulated_responses`), a 5% test must reject in 2.5-7.5%
of 2,000 replications for 2 + 2, 3 + 3, 5 + 5 and 10 + 10 areas. The Monte Carlo standard
error of a 5% rate over 2,000 replications is 0.49 points, so the band is +-5 of them.
The fast tests run the function's own inference (:func:`analysis.did.area_contrast`) on
area changes computed with numpy; a test checks that this equals
:func:`analysis.difference_in_differences` on the same data, and a slow test runs the
whole function.
"""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import difference_in_differences
from analysis.did import area_contrast, bell_mccaffrey_df, detectable_multiplier
from analysis.planning import simulate_design, simulated_responses

SD, ICC, M = 20.0, 0.03, 80


def test_equal_arms_give_scipys_pooled_t_test() -> None:
    rng = np.random.default_rng(1)
    t, c = rng.normal(2, 3, 4), rng.normal(0, 3, 4)
    result = area_contrast(t, c)
    scipy_result = stats.ttest_ind(t, c)
    assert result["df"] == 6
    assert result["did"] == pytest.approx(t.mean() - c.mean())
    assert result["did"] / result["se"] == pytest.approx(scipy_result.statistic)
    assert result["pvalue"] == pytest.approx(scipy_result.pvalue)
    low, high = scipy_result.confidence_interval(0.95)
    assert (result["ci_lower"], result["ci_upper"]) == pytest.approx((low, high))


def _bell_mccaffrey_by_hand(g_treated: int, g_comparison: int) -> float:
    """Bell & McCaffrey (2002) from the matrices: regress the area changes on [1, treated].

    The CR2 variance of the contrast is u'Bu, B = (I - H) A (I - H), A = diag(a_g^2 /
    (1 - h_gg)), a = X (X'X)^-1 c; with u ~ N(0, s^2 I) its mean is s^2 tr B and its
    variance 2 s^4 tr B^2, so Satterthwaite's degrees of freedom are (tr B)^2 / tr B^2.
    """
    treated = np.r_[np.ones(g_treated), np.zeros(g_comparison)]
    x = np.column_stack([np.ones_like(treated), treated])
    bread = np.linalg.inv(x.T @ x)
    hat = x @ bread @ x.T
    a = x @ bread @ np.array([0.0, 1.0])
    b = (np.eye(len(a)) - hat) @ np.diag(a**2 / (1 - np.diag(hat))) @ (np.eye(len(a)) - hat)
    return float(np.trace(b) ** 2 / np.trace(b @ b))


@pytest.mark.parametrize(("gt", "gc"), [(2, 2), (3, 6), (2, 9), (10, 10), (4, 15)])
def test_bell_mccaffrey_df_matches_the_matrix_formula(gt: int, gc: int) -> None:
    assert bell_mccaffrey_df(gt, gc) == pytest.approx(_bell_mccaffrey_by_hand(gt, gc))


def test_unequal_arms_use_the_welch_standard_error() -> None:
    """CR2 of a two-group contrast is Welch's SE; the df are Bell-McCaffrey's, not Welch's."""
    rng = np.random.default_rng(2)
    t, c = rng.normal(0, 2, 3), rng.normal(0, 5, 6)
    result = area_contrast(t, c)
    welch = stats.ttest_ind(t, c, equal_var=False)
    assert result["did"] / result["se"] == pytest.approx(welch.statistic)
    # 9^2 * 2 * 5 / (3^2 * 2 + 6^2 * 5) = 810 / 198
    assert result["df"] == pytest.approx(810 / 198)
    assert result["pvalue"] == pytest.approx(2 * stats.t.sf(abs(welch.statistic), 810 / 198))


def test_function_is_the_area_level_t_test_of_weighted_area_changes() -> None:
    data = simulated_responses(np.random.default_rng(3), 3, 3, 60, sd=SD, icc=ICC, messy=True)
    result = difference_in_differences(data, "y", "wave", "area", "treated", 0, 1, weight="w")
    data["wy"] = data["w"] * data["y"]
    sums = data.groupby(["area", "wave"])[["w", "wy"]].sum()
    means = (sums["wy"] / sums["w"]).unstack("wave")
    change = means[1] - means[0]
    treated = data.groupby("area")["treated"].first()
    by_hand = stats.ttest_ind(change[treated], change[~treated])
    assert result["did"] == pytest.approx(change[treated].mean() - change[~treated].mean())
    assert result["pvalue"] == pytest.approx(by_hand.pvalue)
    assert (result["ci_lower"], result["ci_upper"]) == pytest.approx(
        tuple(by_hand.confidence_interval(0.95))
    )
    assert result["df"] == 4 and result["method"] == "area"


def test_vectorised_simulation_is_the_function() -> None:
    """The fast simulations below run exactly what difference_in_differences runs."""
    t, c = simulate_design(3, 3, M, sd=SD, icc=ICC, messy=True, replications=15, seed=4)
    fast = area_contrast(t, c)["pvalue"]
    rng = np.random.default_rng(4)
    slow = [
        difference_in_differences(
            simulated_responses(rng, 3, 3, M, sd=SD, icc=ICC, messy=True),
            "y", "wave", "area", "treated", 0, 1, weight="w",
        )["pvalue"]
        for _ in range(15)
    ]  # fmt: skip
    np.testing.assert_allclose(fast, slow, rtol=1e-9)


@pytest.mark.parametrize("areas", [2, 3, 5, 10])
def test_true_null_is_rejected_at_about_five_percent(areas: int) -> None:
    t, c = simulate_design(
        areas, areas, M, sd=SD, icc=ICC, messy=True, replications=2000, seed=areas
    )
    rate = float((area_contrast(t, c)["pvalue"] < 0.05).mean())
    assert 0.025 <= rate <= 0.075


@pytest.mark.parametrize(("gt", "gc"), [(2, 6), (3, 10)])
def test_unequal_arms_hold_their_size(gt: int, gc: int) -> None:
    """Unequal arms: never above 7.5%; conservative with 2 + 6 (1.4%, 1.7 df), see the docs."""
    t, c = simulate_design(gt, gc, M, sd=SD, icc=ICC, messy=True, replications=2000, seed=gt)
    rate = float((area_contrast(t, c)["pvalue"] < 0.05).mean())
    assert 0.01 <= rate <= 0.075


@pytest.mark.slow
@pytest.mark.parametrize("areas", [2, 3, 5, 10])
def test_the_whole_function_holds_its_size(areas: int) -> None:
    """1,000 replications through difference_in_differences (MC SE 0.69 points)."""
    rng = np.random.default_rng(100 + areas)
    pvalues = [
        difference_in_differences(
            simulated_responses(rng, areas, areas, M, sd=SD, icc=ICC, messy=True),
            "y", "wave", "area", "treated", 0, 1, weight="w",
        )["pvalue"]
        for _ in range(1000)
    ]  # fmt: skip
    assert 0.025 <= float(np.mean(np.array(pvalues) < 0.05)) <= 0.075


def test_small_designs_say_so_and_one_area_is_withheld() -> None:
    rng = np.random.default_rng(5)
    small = simulated_responses(rng, 2, 2, M, sd=SD, icc=ICC)
    result = difference_in_differences(small, "y", "wave", "area", "treated", 0, 1)
    assert result["df"] == 2
    assert "only show large changes" in result["caution"]
    mdc = detectable_multiplier(2) * result["se"]
    assert f"about {mdc:.0f} points" in result["caution"]
    one = small[small["area"] != 0]
    withheld = difference_in_differences(one, "y", "wave", "area", "treated", 0, 1)
    assert "fewer than 2 areas" in withheld["withheld"] and np.isnan(withheld["did"])
    # An area answered in one wave only has no change: it does not count.
    gap = small[~((small["area"] == 1) & (small["wave"] == 1))]
    assert (
        "1 treated"
        in difference_in_differences(gap, "y", "wave", "area", "treated", 0, 1)["withheld"]
    )
    large = simulated_responses(rng, 5, 5, M, sd=SD, icc=ICC)
    assert difference_in_differences(large, "y", "wave", "area", "treated", 0, 1)["caution"] is None


def test_unknown_method_is_an_error() -> None:
    data = pd.DataFrame({"y": [1.0], "wave": [0], "area": [0], "treated": [True]})
    with pytest.raises(ValueError, match="method"):
        difference_in_differences(data, "y", "wave", "area", "treated", 0, 1, method="wild")
