"""The planner's minimum detectable change (issue 17 item 4): formula and simulation.

Done when: for designs from 2 + 2 to 20 + 20 areas, with data drawn from the planner's own
sd and icc, the project's difference-in-differences finds a true change equal to the planned
MDC in 75-85% of replications (2,000 each: Monte Carlo SE 0.89 points at 80%).
"""

import math

import numpy as np
import pytest
from scipy import stats

from analysis import difference_in_differences, plan_design, responses_needed
from analysis.did import area_contrast
from analysis.planning import simulate_design, simulated_responses

SD, ICC, M = 20.0, 0.03, 80


def test_mdc_by_hand_for_two_plus_two_areas() -> None:
    plan = plan_design(2, 2, 100, sd=20, icc=0.02)
    # Var of an area's change: 2 * (0.02 * 400 + 0.98 * 400 / 100) = 23.84
    se = math.sqrt(23.84 * (1 / 2 + 1 / 2))
    assert plan["df"] == 2 and plan["se"] == pytest.approx(se)
    # At the MDC a two-sided 5% t test on 2 df has 80% power (noncentral t).
    crit = stats.t.ppf(0.975, 2)
    delta = plan["mdc"] / se
    assert stats.nct.sf(crit, 2, delta) + stats.nct.cdf(-crit, 2, delta) == pytest.approx(0.8)
    assert plan["mdc"] == pytest.approx(5.6535 * se, rel=1e-4)
    assert "2 degrees of freedom" in plan["caution"]
    assert plan["mdc_unlimited"] == pytest.approx(5.6535 * math.sqrt(2 * 8), rel=1e-4)


def test_many_areas_approach_the_normal_formula() -> None:
    plan = plan_design(400, 400, 50, sd=20, icc=0.02)
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    assert plan["multiplier"] == pytest.approx(z, rel=0.01) and plan["caution"] is None


def test_panel_and_more_letters_lower_the_mdc_but_areas_matter_most() -> None:
    base = plan_design(5, 5, 100, sd=20, icc=0.03)["mdc"]
    assert plan_design(5, 5, 100, sd=20, icc=0.03, panel_correlation=0.5)["mdc"] < base
    assert plan_design(5, 5, 400, sd=20, icc=0.03)["mdc"] > plan_design(10, 10, 100, sd=20,
                                                                       icc=0.03)["mdc"]  # fmt: skip


def test_responses_needed_reaches_the_target() -> None:
    plan = plan_design(10, 10, 50, sd=20, icc=0.02, target_change=6.0)
    m = plan["responses_per_area_needed"]
    assert m == responses_needed(10, 10, 6.0, sd=20, icc=0.02)
    assert plan_design(10, 10, m, sd=20, icc=0.02)["mdc"] <= 6.0
    assert plan_design(10, 10, m - 1, sd=20, icc=0.02)["mdc"] > 6.0
    # Below the floor set by the area-by-wave variation no number of letters is enough.
    assert responses_needed(2, 2, 10.0, sd=20, icc=0.05) is None


def test_bad_designs_are_errors() -> None:
    with pytest.raises(ValueError, match="2 areas"):
        plan_design(1, 5, 100, sd=20, icc=0.02)
    with pytest.raises(ValueError, match="icc"):
        plan_design(2, 2, 100, sd=20, icc=1.2)


@pytest.mark.parametrize(("gt", "gc"), [(2, 2), (3, 3), (5, 5), (10, 10), (20, 20), (3, 10)])
def test_the_planned_mdc_is_found_four_times_in_five(gt: int, gc: int) -> None:
    plan = plan_design(gt, gc, M, sd=SD, icc=ICC)
    t, c = simulate_design(
        gt, gc, M, sd=SD, icc=ICC, effect=plan["mdc"], replications=2000, seed=gt * 31 + gc
    )
    found = float((area_contrast(t, c)["pvalue"] < 0.05).mean())
    assert 0.75 <= found <= 0.85


@pytest.mark.parametrize(("areas", "r"), [(2, 0.5), (5, 0.5), (10, 0.3)])
def test_the_planned_mdc_of_a_panel_is_found_four_times_in_five(areas: int, r: float) -> None:
    plan = plan_design(areas, areas, M, sd=SD, icc=ICC, panel_correlation=r)
    assert plan["mdc"] < plan_design(areas, areas, M, sd=SD, icc=ICC)["mdc"]
    t, c = simulate_design(
        areas, areas, M, sd=SD, icc=ICC, effect=plan["mdc"], panel_correlation=r,
        replications=2000, seed=areas,
    )  # fmt: skip
    assert 0.75 <= float((area_contrast(t, c)["pvalue"] < 0.05).mean()) <= 0.85


def test_simulated_panel_has_the_planned_correlation() -> None:
    data = simulated_responses(np.random.default_rng(9), 2, 2, 2000, sd=SD, icc=0.0,
                               panel_correlation=0.6)  # fmt: skip
    wide = data.pivot(index="person", columns="wave", values="y")
    assert wide[0].corr(wide[1]) == pytest.approx(0.6, abs=0.02)


@pytest.mark.slow
@pytest.mark.parametrize("areas", [2, 5])
def test_the_whole_function_finds_the_planned_mdc(areas: int) -> None:
    """1,000 replications through difference_in_differences (MC SE 1.3 points)."""
    plan = plan_design(areas, areas, M, sd=SD, icc=ICC)
    rng = np.random.default_rng(areas)
    pvalues = [
        difference_in_differences(
            simulated_responses(rng, areas, areas, M, sd=SD, icc=ICC, effect=plan["mdc"]),
            "y", "wave", "area", "treated", 0, 1,
        )["pvalue"]
        for _ in range(1000)
    ]  # fmt: skip
    assert 0.75 <= float(np.mean(np.array(pvalues) < 0.05)) <= 0.85
