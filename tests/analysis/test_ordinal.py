"""Ordinal items: polychoric correlations and WLSMV, against lavaan 0.6-14.

The reference numbers come from ``lavaan_wlsmv_reference.R`` (beside this file) on the
psych ``bfi`` subset in ``data/bfi_ordinal.csv``; see ``data/README.md``.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import CFAResult, fit_cfa, polychoric
from analysis.bivariate_normal import bvn_cdf
from analysis.ordinal_acov import muthen_gamma
from analysis.polychoric import correlation_matrix, ordinal_data
from tests.analysis import lavaan_wlsmv_reference as ref

DATA = Path(__file__).parent / "data"
CASES = [ref.BFI_SIX_POINT, ref.BFI_YES_NO]
IDS = ["six-point", "yes-no"]
MODELS = [
    {"N": ["N1", "N2", "N3", "N4"], "A": ["A2", "A3", "A4", "A5"]},
    {"E": ["E1b", "E2b", "E3b", "E4b", "E5b"]},
]


@pytest.fixture(scope="module")
def bfi() -> pd.DataFrame:
    return pd.read_csv(DATA / "bfi_ordinal.csv")


def test_bivariate_normal_cdf_known_values() -> None:
    # P(X <= 0, Y <= 0) = 1/4 + asin(rho) / (2 pi); infinite limits give the margins.
    for rho in (-0.95, -0.5, 0.0, 0.3, 0.8, 0.99):
        assert bvn_cdf(0.0, 0.0, rho) == pytest.approx(0.25 + np.arcsin(rho) / (2 * np.pi))
    assert bvn_cdf(np.inf, 0.5, 0.3) == pytest.approx(0.691462461)
    assert bvn_cdf(-np.inf, 0.5, 0.3) == 0.0


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_polychoric_matches_lavcor(bfi: pd.DataFrame, case: dict) -> None:
    # lavCor(d, ordered = items, missing = "pairwise")
    result = polychoric(bfi[case["items"]])
    assert list(result.index) == case["items"] == list(result.columns)
    np.testing.assert_allclose(result.to_numpy(), case["polychoric"], atol=1e-6)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_thresholds_match_lavaan(bfi: pd.DataFrame, case: dict) -> None:
    data = ordinal_data(bfi[case["items"]])
    np.testing.assert_allclose(np.concatenate(data.thresholds), case["thresholds"], atol=1e-8)


def test_polychoric_uses_pairwise_complete_rows(bfi: pd.DataFrame) -> None:
    items = ["N1", "N2"]
    both = bfi[items].dropna()
    # The pair uses the rows where both are answered; the other rows only move the
    # thresholds (each item's own answers), which changes rho in the fourth decimal.
    assert polychoric(bfi[items]).iloc[0, 1] == pytest.approx(polychoric(both).iloc[0, 1], abs=2e-3)


@pytest.mark.parametrize("case", ref.EMPTY_CELLS, ids=["2x2-one-empty", "4x4-six-empty"])
def test_polychoric_with_empty_cells_matches_lavcor(case: dict) -> None:
    frame = pd.DataFrame({"u": case["u"], "v": case["v"]}, dtype=float)
    assert polychoric(frame).iloc[0, 1] == pytest.approx(case["rho"], abs=1e-6)


def test_tetrachoric_two_empty_cells_is_perfect() -> None:
    frame = pd.DataFrame({"a": [0, 0, 1, 1, 1], "b": [0, 0, 1, 1, 1]})
    assert polychoric(frame).iloc[0, 1] == 1.0


def test_constant_item_is_rejected() -> None:
    with pytest.raises(ValueError, match="two different answers"):
        polychoric(pd.DataFrame({"a": [1, 1, 1], "b": [1, 2, 3]}))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gamma_matches_lavaan(bfi: pd.DataFrame, case: dict) -> None:
    # lavInspect(fit, "gamma"): N x the asymptotic covariance of thresholds + correlations
    data = ordinal_data(bfi[case["items"]])
    gamma = muthen_gamma(data, correlation_matrix(data))
    np.testing.assert_allclose(np.diag(gamma), case["gamma_diagonal"], rtol=1e-5)
    np.testing.assert_allclose(gamma[0], case["gamma_first_row"], atol=1e-6)
    np.testing.assert_allclose(1 / np.diag(gamma), case["wls_v_diagonal"], rtol=1e-5)


@pytest.fixture(scope="module", params=list(zip(CASES, MODELS, strict=True)), ids=IDS)
def wlsmv(request: pytest.FixtureRequest, bfi: pd.DataFrame) -> tuple[dict, CFAResult]:
    case, model = request.param
    return case, fit_cfa(bfi, model, estimator="WLSMV")


def test_wlsmv_fit_matches_lavaan(wlsmv: tuple[dict, CFAResult]) -> None:
    # cfa(model, d, ordered = items, estimator = "WLSMV", missing = "pairwise", std.lv = TRUE)
    case, result = wlsmv
    assert result.estimator == "WLSMV" and result.converged
    assert result.n == case["ntotal"] == 2800
    assert result.df == case["df.scaled"]
    assert result.chi2_unscaled == pytest.approx(case["chisq"], abs=1e-3)
    assert result.chi2 == pytest.approx(case["chisq.scaled"], abs=1e-3)
    assert result.scaling_factor == pytest.approx(case["scaling_factor"], abs=1e-6)
    assert result.shift_parameter == pytest.approx(case["shift_parameter"], abs=1e-5)
    assert result.pvalue == pytest.approx(case["pvalue.scaled"], abs=1e-6)
    assert result.baseline_chi2 == pytest.approx(case["baseline.chisq.scaled"], abs=1e-2)
    assert result.baseline_df == case["baseline.df"]
    for ours, theirs in [
        (result.cfi, "cfi.scaled"),
        (result.tli, "tli.scaled"),
        (result.rmsea, "rmsea.scaled"),
        (result.rmsea_ci[0], "rmsea.ci.lower.scaled"),
        (result.rmsea_ci[1], "rmsea.ci.upper.scaled"),
        (result.srmr, "srmr"),
    ]:
        assert ours == pytest.approx(case[theirs], abs=1e-6), theirs


def test_wlsmv_estimates_match_lavaan(wlsmv: tuple[dict, CFAResult]) -> None:
    case, result = wlsmv
    loadings = [
        result.loadings.loc[name.split("=~")[1], name.split("=~")[0]]
        for name in case["loading_names"]
    ]
    np.testing.assert_allclose(loadings, case["loadings"], atol=5e-6)
    constructs = list(result.factor_correlations.columns)
    below = [
        result.factor_correlations.iloc[i, j]
        for j in range(len(constructs))
        for i in range(j + 1, len(constructs))
    ]
    np.testing.assert_allclose(below, case["factor_correlations"], atol=5e-6)
    assert result.thresholds is not None
    assert list(result.thresholds.index) == case["threshold_names"]
    np.testing.assert_allclose(result.thresholds, case["thresholds"], atol=1e-8)
    np.testing.assert_allclose(
        result.unique_variances, 1 - np.asarray(case["loadings"]) ** 2, atol=1e-5
    )


def test_ml_stays_the_default(bfi: pd.DataFrame) -> None:
    result = fit_cfa(bfi, MODELS[1])
    assert result.estimator == "ML"
    assert result.n < 2800  # listwise deletion


def test_unknown_estimator_is_rejected(bfi: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="Unknown estimator"):
        fit_cfa(bfi, MODELS[1], estimator="ULSMV")


def test_wlsmv_saturated_model_has_zero_chi2(bfi: pd.DataFrame) -> None:
    result = fit_cfa(bfi, {"N": ["N1", "N2", "N3"]}, estimator="WLSMV")
    assert result.df == 0
    assert result.chi2 == pytest.approx(0.0, abs=1e-8)


def test_wlsmv_recovers_known_loadings_where_ml_falls_short() -> None:
    # Two factors (correlation .3), latent-response loadings .75, cut into five-point and
    # yes/no answers; 5% of answers missing at random.
    rng = np.random.default_rng(7)
    n = 2000
    factors = rng.multivariate_normal([0, 0], [[1, 0.3], [0.3, 1]], size=n)
    columns = {}
    for j, (name, cuts) in enumerate([("likert", [-1.2, -0.4, 0.3, 1.0]), ("yesno", [0.4])]):
        for k in range(4):
            latent = 0.75 * factors[:, j] + np.sqrt(1 - 0.75**2) * rng.standard_normal(n)
            answers = np.searchsorted(cuts, latent).astype(float)
            answers[rng.random(n) < 0.05] = np.nan
            columns[f"{name}{k}"] = answers
    frame = pd.DataFrame(columns)
    model = {"L": [f"likert{k}" for k in range(4)], "Y": [f"yesno{k}" for k in range(4)]}
    wlsmv = fit_cfa(frame, model, estimator="WLSMV")
    ml = fit_cfa(frame, model)
    assert wlsmv.n == n and ml.n < 0.85 * n  # pairwise keeps everyone; listwise does not
    loadings = wlsmv.loadings.sum(axis=1)
    np.testing.assert_allclose(loadings, 0.75, atol=0.05)
    assert wlsmv.factor_correlations.iloc[0, 1] == pytest.approx(0.3, abs=0.06)
    assert wlsmv.pvalue > 0.01 and wlsmv.cfi > 0.99
    yes_no = [f"yesno{k}" for k in range(4)]
    shortfall = loadings[yes_no] - ml.loadings.sum(axis=1)[yes_no]
    assert shortfall.min() > 0.08  # ML understates yes/no loadings (about .15 in bfi)


def test_wlsmv_survives_a_perfectly_correlated_pair() -> None:
    # Two yes/no items that never disagree (two empty cells: tetrachoric 1) next to
    # ordinary items: the fit still runs and reports finite statistics.
    rng = np.random.default_rng(3)
    latent = rng.standard_normal(400)
    frame = pd.DataFrame(
        {
            f"q{k}": np.searchsorted([-0.5, 0.5], 0.7 * latent + 0.7 * rng.standard_normal(400))
            for k in range(3)
        }
    )
    frame["same1"] = (latent > 0).astype(int)
    frame["same2"] = frame["same1"]
    result = fit_cfa(frame, {"F": list(frame.columns)}, estimator="WLSMV")
    assert polychoric(frame[["same1", "same2"]]).iloc[0, 1] == 1.0
    assert np.isfinite([result.chi2, result.cfi, result.rmsea, result.srmr]).all()
