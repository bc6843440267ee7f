"""Cronbach's alpha and McDonald's omega total with bootstrap intervals."""

import numpy as np
import pandas as pd
import pytest

from analysis import cronbach_alpha, omega_total, reliability


def test_alpha_by_hand() -> None:
    """Two items, variances 2.5 and 2.5, covariance 2.0 (divisor n - 1).

    alpha = k/(k-1) * (1 - (2.5 + 2.5) / (2.5 + 2.5 + 2 * 2.0)) = 2 * (1 - 5/9) = 8/9.
    """
    values = np.array([[1, 2], [2, 1], [3, 4], [4, 3], [5, 5]], dtype=float)
    assert cronbach_alpha(values) == pytest.approx(8 / 9)


def test_identical_items_have_alpha_and_omega_near_one() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal(200)
    values = np.column_stack([x, x + 1e-3 * rng.standard_normal(200), 2 * x])
    assert cronbach_alpha(values[:, :2]) == pytest.approx(1.0, abs=1e-3)
    assert omega_total(values) == pytest.approx(1.0, abs=1e-3)


def _congeneric(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    loadings = np.array([0.8, 0.7, 0.6, 0.5])
    f = rng.standard_normal(n)
    noise = rng.standard_normal((n, 4)) * np.sqrt(1 - loadings**2)
    return pd.DataFrame(f[:, None] * loadings + noise, columns=["q1", "q2", "q3", "q4"])


def test_population_values_are_recovered() -> None:
    """Congeneric items, loadings .8 .7 .6 .5 and unit variances.

    omega = 2.6^2 / (2.6^2 + 2.26) = 0.7494; alpha = 4/3 * (1 - 4 / 9.02) = 0.7420.
    """
    result = reliability(_congeneric(20000, 3), ["q1", "q2", "q3", "q4"], n_boot=0)
    assert result.omega == pytest.approx(6.76 / 9.02, abs=0.01)
    assert result.alpha == pytest.approx(4 / 3 * (1 - 4 / 9.02), abs=0.01)
    # Alpha is a lower bound of omega for congeneric items.
    assert result.alpha < result.omega


def test_bootstrap_intervals_are_seeded_and_bracket_the_estimate(holzinger) -> None:
    first = reliability(holzinger, ["x4", "x5", "x6"], n_boot=100, seed=5)
    again = reliability(holzinger, ["x4", "x5", "x6"], n_boot=100, seed=5)
    assert first == again
    assert first.alpha_ci[0] < first.alpha < first.alpha_ci[1]
    assert first.omega_ci[0] < first.omega < first.omega_ci[1]
    assert first.n == 301 and first.n_boot == 100
    series = first.to_series()
    assert series["alpha"] == first.alpha


def test_two_items_give_alpha_but_no_omega(holzinger) -> None:
    result = reliability(holzinger, ["x4", "x5"], n_boot=20)
    assert np.isfinite(result.alpha)
    assert np.isnan(result.omega)


def test_input_errors(holzinger) -> None:
    with pytest.raises(ValueError, match="at least 2"):
        reliability(holzinger, ["x1"])
    with pytest.raises(ValueError, match="not columns"):
        reliability(holzinger, ["x1", "zz"])
