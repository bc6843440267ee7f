"""fit_cfa against lavaan's published Holzinger & Swineford (1939) example.

Reference (lavaan 0.6, R)::

    library(lavaan)
    HS.model <- ' visual  =~ x1 + x2 + x3
                  textual =~ x4 + x5 + x6
                  speed   =~ x7 + x8 + x9 '
    fit <- cfa(HS.model, data = HolzingerSwineford1939)
    summary(fit, fit.measures = TRUE, standardized = TRUE)

Published output: lavaan tutorial, "A CFA example", https://lavaan.ugent.be/tutorial/cfa.html
(also reproduced in https://r-statistics.co/CFA-and-Structural-Equation-Modeling-in-R.html):
chi-square 85.306 on 24 df, baseline 918.852 on 36 df, CFI 0.931, TLI 0.896,
RMSEA 0.092 (90% CI 0.071-0.114), SRMR 0.065; Std.all loadings x1..x9 = 0.772 0.424
0.581 0.852 0.855 0.838 0.570 0.723 0.665; factor correlations visual~~textual 0.459,
visual~~speed 0.471, textual~~speed 0.283.
"""

import numpy as np
import pandas as pd
import pytest

from analysis import fit_cfa


@pytest.fixture(scope="module")
def hs_fit(holzinger, hs_model):
    return fit_cfa(holzinger, hs_model)


def test_fit_statistics_match_lavaan(hs_fit) -> None:
    assert hs_fit.n == 301
    assert hs_fit.chi2 == pytest.approx(85.306, abs=5e-4)
    assert hs_fit.df == 24
    assert hs_fit.pvalue < 0.001
    assert hs_fit.baseline_chi2 == pytest.approx(918.852, abs=5e-4)
    assert hs_fit.baseline_df == 36
    assert round(hs_fit.cfi, 3) == 0.931
    assert round(hs_fit.tli, 3) == 0.896
    assert round(hs_fit.rmsea, 3) == 0.092
    assert tuple(round(x, 3) for x in hs_fit.rmsea_ci) == (0.071, 0.114)
    assert round(hs_fit.srmr, 3) == 0.065
    assert hs_fit.converged


def test_standardized_loadings_match_lavaan(hs_fit, hs_model) -> None:
    expected = [0.772, 0.424, 0.581, 0.852, 0.855, 0.838, 0.570, 0.723, 0.665]
    own = [hs_fit.loadings.loc[item, c] for c, items in hs_model.items() for item in items]
    np.testing.assert_allclose(own, expected, atol=5e-4)
    # Items do not load on the other constructs.
    assert (hs_fit.loadings.to_numpy() != 0).sum() == 9


def test_factor_correlations_match_lavaan(hs_fit) -> None:
    phi = hs_fit.factor_correlations
    assert round(phi.loc["visual", "textual"], 3) == 0.459
    assert round(phi.loc["visual", "speed"], 3) == 0.471
    assert round(phi.loc["textual", "speed"], 3) == 0.283
    np.testing.assert_allclose(np.diag(phi), 1.0)


def test_result_does_not_depend_on_column_order(holzinger, hs_model, hs_fit) -> None:
    shuffled = holzinger[["x9", "school", "x3", "x1", "x5", "x2", "x4", "x8", "x6", "x7"]]
    again = fit_cfa(shuffled, hs_model)
    assert again.chi2 == pytest.approx(hs_fit.chi2, abs=1e-6)


def test_listwise_deletion_of_incomplete_rows(holzinger, hs_model) -> None:
    data = holzinger.copy()
    data.loc[:9, "x1"] = np.nan
    assert fit_cfa(data, hs_model).n == 291


def test_simulation_recovers_known_loadings() -> None:
    """A 2-factor population model is recovered within sampling error."""
    rng = np.random.default_rng(7)
    loadings = np.array([0.8, 0.7, 0.6, 0.75, 0.65, 0.55])
    factors = rng.multivariate_normal([0, 0], [[1, 0.3], [0.3, 1]], size=5000)
    common = np.column_stack([factors[:, 0]] * 3 + [factors[:, 1]] * 3) * loadings
    data = pd.DataFrame(
        common + rng.standard_normal((5000, 6)) * np.sqrt(1 - loadings**2),
        columns=["a1", "a2", "a3", "b1", "b2", "b3"],
    )
    result = fit_cfa(data, {"A": ["a1", "a2", "a3"], "B": ["b1", "b2", "b3"]})
    own = [result.loadings.iloc[i, i // 3] for i in range(6)]
    # Standard errors are about 0.013 at n = 5000; allow about 3.5 of them.
    np.testing.assert_allclose(own, loadings, atol=0.045)
    assert result.factor_correlations.iloc[0, 1] == pytest.approx(0.3, abs=0.04)
    assert result.cfi > 0.99 and result.rmsea < 0.02


@pytest.mark.parametrize(
    "model, message",
    [
        ({}, "no constructs"),
        ({"A": ["x1"]}, "at least 2"),
        ({"A": ["x1", "x2"], "B": ["x2", "x3"]}, "listed in"),
        ({"A": ["x1", "nope"]}, "not a column"),
    ],
)
def test_invalid_models_are_rejected(holzinger, model, message) -> None:
    with pytest.raises(ValueError, match=message):
        fit_cfa(holzinger, model)
