"""Variance components for planning, recovered from data generated with known ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import plan_design, variance_components
from analysis.planning import simulated_responses


def _survey(seed: int, areas: int, waves: int, icc: float, sd: float = 20.0) -> pd.DataFrame:
    """A messy city: stable area levels (SD 8), area-by-wave shocks, unequal counts."""
    rng = np.random.default_rng(seed)
    level = rng.normal(50, 8, areas)
    frames = []
    for w in range(waves):
        shocks = rng.normal(0, np.sqrt(icc) * sd, areas)
        for a in range(areas):
            n = int(rng.integers(30, 160))
            y = level[a] + shocks[a] + rng.normal(0, np.sqrt(1 - icc) * sd, n)
            frames.append(pd.DataFrame({"y": y, "wave": w, "area": f"a{a}"}))
    return pd.concat(frames, ignore_index=True)


def test_recovers_the_planners_components_on_average():
    """Averaged over many cities, the estimates hit the true sd and icc, although stable
    area differences (which a DiD removes) are three times as large as the shocks."""
    estimates = [
        variance_components(_survey(s, 12, 3, 0.04), "y", "wave", "area") for s in range(200)
    ]
    assert np.mean([e["sd"] for e in estimates]) == pytest.approx(20.0, abs=0.3)
    assert np.mean([e["icc"] for e in estimates]) == pytest.approx(0.04, abs=0.006)
    assert all(not e["upper_bound"] and e["df"] == 22 for e in estimates)


def test_planner_own_model_round_trip():
    """Data drawn by the planner's own simulator give back its inputs."""
    rng = np.random.default_rng(3)
    iccs = []
    for _ in range(150):
        frame = simulated_responses(rng, 6, 6, 120, sd=18.0, icc=0.05)
        iccs.append(variance_components(frame, "y", "wave", "area")["icc"])
    assert np.mean(iccs) == pytest.approx(0.05, abs=0.008)


def test_one_wave_gives_a_safe_upper_bound():
    """Stable area differences cannot be told from shocks in one wave: the estimate then
    includes them, so a plan made from it promises less, never more."""
    survey = _survey(1, 12, 1, 0.02)
    one = variance_components(survey, "y", "wave", "area")
    assert one["upper_bound"] and one["icc"] > 2 * 0.02  # stable SD 8 on top
    two = variance_components(_survey(1, 12, 2, 0.02), "y", "wave", "area")
    mdc = lambda e: plan_design(6, 6, 100, sd=e["sd"], icc=e["icc"])["mdc"]  # noqa: E731
    assert mdc(one) > mdc(two)


def test_too_little_data_gives_none_and_small_cells_are_left_out():
    survey = _survey(2, 3, 2, 0.03)
    assert variance_components(survey[survey["area"] == "a0"], "y", "wave", "area") is None
    tiny = pd.DataFrame({"y": [1.0, 2.0, 3.0] * 2, "wave": 0, "area": ["x"] * 3 + ["z"] * 3})
    assert variance_components(tiny, "y", "wave", "area") is None
    # A cell of 5 answers is ignored: the result is that of the other areas alone.
    extra = pd.DataFrame({"y": [99.0] * 5, "wave": 0, "area": "odd"})
    both = variance_components(pd.concat([survey, extra]), "y", "wave", "area")
    assert both == variance_components(survey, "y", "wave", "area")
