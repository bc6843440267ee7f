"""Confirmatory factor analysis by maximum likelihood (or WLSMV), with lavaan's fit indices.

``fit_cfa(..., estimator="WLSMV")`` treats the items as ordered categories and hands
them to :mod:`analysis.wlsmv`; what follows describes the default, ML.

:func:`fit_cfa` fits a simple-structure CFA (each item loads on one construct) with the
factor variances fixed to 1, free loadings, free unique variances and free factor
covariances, and reports chi-square, CFI, TLI, RMSEA with its 90% interval and SRMR the
way lavaan 0.6 does with ``cfa(model, data, std.lv = TRUE)``.

Fit indices, with :math:`N` the sample size, :math:`G` the number of groups and
:math:`b` the baseline (independence) model, in which every item has its own variance
(and mean) and all covariances are 0:

.. math::

    \\mathrm{CFI} = 1 - \\frac{\\max(\\chi^2 - df, 0)}{\\max(\\chi^2 - df, \\chi^2_b - df_b, 0)},
    \\qquad
    \\mathrm{TLI} = \\frac{\\chi^2_b/df_b - \\chi^2/df}{\\chi^2_b/df_b - 1},

.. math::

    \\mathrm{RMSEA} = \\sqrt{G}\\sqrt{\\max\\Big(\\frac{\\chi^2 - df}{N\\,df}, 0\\Big)},
    \\qquad
    \\mathrm{SRMR} = \\sqrt{\\frac{1}{p(p+1)/2}\\sum_{i \\le j}
        \\Big(\\frac{s_{ij} - \\hat\\sigma_{ij}}{\\sqrt{s_{ii} s_{jj}}}\\Big)^2}.

The RMSEA interval inverts the noncentral chi-square distribution (Browne & Cudeck,
1993).

References
----------
Hu, L., & Bentler, P. M. (1999). Cutoff criteria for fit indexes in covariance structure
analysis. *Structural Equation Modeling*, 6(1), 1-55.

Browne, M. W., & Cudeck, R. (1993). Alternative ways of assessing model fit. In
K. A. Bollen & J. S. Long (Eds.), *Testing structural equation models* (pp. 136-162).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from analysis.ml_estimation import GroupMoments, build_layout, fit_ml, group_matrices
from analysis.polychoric import ordinal_data
from analysis.threads import one_blas_thread
from analysis.wlsmv import fit_wlsmv

__all__ = ["ESTIMATORS", "CFAResult", "baseline_chi2", "fit_cfa", "fit_indices", "rmsea_interval"]

ESTIMATORS = ("ML", "WLSMV")


def loading_pattern(model: Mapping[str, Sequence[Hashable]], data: pd.DataFrame) -> np.ndarray:
    """Validate ``model`` against ``data`` and return the loading pattern."""
    if not model:
        raise ValueError("The CFA model names no constructs.")
    seen: dict[Hashable, str] = {}
    for construct, construct_items in model.items():
        if isinstance(construct_items, str) or len(construct_items) < 2:
            raise ValueError(f"Construct {construct!r} needs a list of at least 2 items.")
        for item in construct_items:
            if item in seen:
                raise ValueError(f"Item {item!r} is listed in {seen[item]!r} and {construct!r}.")
            if item not in data.columns:
                raise ValueError(f"Item {item!r} of construct {construct!r} is not a column.")
            seen[item] = construct
    items = [item for items_ in model.values() for item in items_]
    pattern = np.zeros((len(items), len(model)), dtype=bool)
    row = 0
    for j, construct_items in enumerate(model.values()):
        for _ in construct_items:
            pattern[row, j] = True
            row += 1
    return pattern


def model_items(model: Mapping[str, Sequence[Hashable]]) -> list[Hashable]:
    """The item columns of ``model`` in construct order."""
    return [item for items in model.values() for item in items]


def complete_values(data: pd.DataFrame, items: Sequence[Hashable]) -> np.ndarray:
    """The item values as floats, listwise-deleting rows with a missing item."""
    values = data[list(items)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    return values[~np.isnan(values).any(axis=1)]


def rmsea_interval(
    chi2: float, df: int, n: int, n_groups: int = 1, level: float = 0.90
) -> tuple[float, float]:
    """Confidence interval of the RMSEA from the noncentral chi-square distribution.

    Parameters
    ----------
    chi2, df, n : float, int, int
        Test statistic, its degrees of freedom and the total sample size.
    n_groups : int, default 1
        Number of groups (the RMSEA is multiplied by :math:`\\sqrt{G}`, as lavaan does).
    level : float, default 0.90
        Confidence level.

    Returns
    -------
    lower, upper : float
    """
    if df <= 0:
        return (np.nan, np.nan)
    upper_q, lower_q = 1 - (1 - level) / 2, (1 - level) / 2

    def ncp_for(prob: float) -> float:
        # Find the noncentrality at which chi2 sits at quantile ``prob``.
        def f(lam: float) -> float:
            return float(stats.ncx2.cdf(chi2, df, lam) if lam > 0 else stats.chi2.cdf(chi2, df))

        f_zero = f(0.0) - prob
        if f_zero < 0:
            return 0.0
        hi = max(chi2, 1.0)
        while f(hi) - prob > 0:
            hi *= 2
        return optimize.brentq(lambda lam: f(lam) - prob, 0.0, hi, xtol=1e-10)

    lam_low, lam_high = ncp_for(upper_q), ncp_for(lower_q)
    scale = np.sqrt(n_groups)
    return (
        float(scale * np.sqrt(lam_low / (n * df))),
        float(scale * np.sqrt(lam_high / (n * df))),
    )


def baseline_chi2(moments: list[GroupMoments]) -> tuple[float, int]:
    """Chi-square and df of the independence model (free variances and means)."""
    chi2 = 0.0
    df = 0
    for mo in moments:
        p = mo.cov.shape[0]
        chi2 += mo.n * (np.log(np.diag(mo.cov)).sum() - np.linalg.slogdet(mo.cov)[1])
        df += p * (p - 1) // 2
    return float(chi2), df


def fit_indices(
    chi2: float, df: int, n: int, baseline: tuple[float, int], n_groups: int = 1
) -> dict[str, float]:
    """CFI, TLI, RMSEA and its 90% interval from the test statistics (see module notes)."""
    chi2_b, df_b = baseline
    denominator = max(chi2 - df, chi2_b - df_b, 0.0)
    cfi = 1.0 - max(chi2 - df, 0.0) / denominator if denominator > 0 else 1.0
    tli = (chi2_b / df_b - chi2 / df) / (chi2_b / df_b - 1.0) if df > 0 else 1.0
    rmsea = np.sqrt(n_groups) * np.sqrt(max((chi2 - df) / (n * df), 0.0)) if df > 0 else 0.0
    low, high = rmsea_interval(chi2, df, n, n_groups)
    return {
        "cfi": float(cfi),
        "tli": float(tli),
        "rmsea": float(rmsea),
        "rmsea_ci_lower": low,
        "rmsea_ci_upper": high,
    }


def _srmr(sample_cov: np.ndarray, implied_cov: np.ndarray) -> float:
    sd = np.sqrt(np.diag(sample_cov))
    residual = (sample_cov - implied_cov) / np.outer(sd, sd)
    lower = residual[np.tril_indices_from(residual)]
    return float(np.sqrt(np.mean(lower**2)))


@dataclass(frozen=True)
class CFAResult:
    """A fitted CFA: fit statistics and the standardized solution.

    Attributes
    ----------
    chi2 : float
        Likelihood-ratio test statistic :math:`N F_{min}`.
    df : int
        Degrees of freedom.
    pvalue : float
        Upper-tail chi-square probability.
    cfi, tli, rmsea, srmr : float
        Fit indices (see the module notes).
    rmsea_ci : tuple of float
        90% confidence interval of the RMSEA.
    n : int
        Complete cases used (listwise deletion).
    loadings : pandas.DataFrame
        Standardized loadings (lavaan ``std.all``), items x constructs, 0 off-pattern.
    factor_correlations : pandas.DataFrame
        Correlations among the constructs.
    unique_variances : pandas.Series
        Standardized unique variances (1 - communality).
    baseline_chi2, baseline_df : float, int
        The independence model's statistic and degrees of freedom.
    converged : bool
        Whether the optimiser converged.
    estimator : {"ML", "WLSMV"}
        With ``"WLSMV"``, ``chi2``, ``pvalue``, ``cfi``, ``tli``, ``rmsea`` (and its
        interval) and ``baseline_chi2`` are the scaled-and-shifted versions (lavaan's
        ``.scaled`` fit measures), ``n`` counts every respondent with an answer
        (pairwise deletion), and the loadings are those of the latent responses.
    chi2_unscaled, scaling_factor, shift_parameter : float or None
        WLSMV only: the DWLS statistic :math:`T`, lavaan's scaling factor :math:`1/a` and
        shift parameter (:mod:`analysis.wlsmv`).
    thresholds : pandas.Series or None
        WLSMV only: the thresholds, indexed ``"item|t1"``, ``"item|t2"``, ... as in lavaan.
    """

    chi2: float
    df: int
    pvalue: float
    cfi: float
    tli: float
    rmsea: float
    rmsea_ci: tuple[float, float]
    srmr: float
    n: int
    loadings: pd.DataFrame
    factor_correlations: pd.DataFrame
    unique_variances: pd.Series
    baseline_chi2: float
    baseline_df: int
    converged: bool
    estimator: str = "ML"
    chi2_unscaled: float | None = None
    scaling_factor: float | None = None
    shift_parameter: float | None = None
    thresholds: pd.Series | None = None

    def fit_table(self) -> pd.Series:
        """The fit statistics as one labelled series (for reports)."""
        return pd.Series(
            {
                "n": self.n,
                "chi2": self.chi2,
                "df": self.df,
                "pvalue": self.pvalue,
                "cfi": self.cfi,
                "tli": self.tli,
                "rmsea": self.rmsea,
                "rmsea_ci_lower": self.rmsea_ci[0],
                "rmsea_ci_upper": self.rmsea_ci[1],
                "srmr": self.srmr,
            }
        )


@one_blas_thread
def fit_cfa(
    data: pd.DataFrame, model: Mapping[str, Sequence[Hashable]], estimator: str = "ML"
) -> CFAResult:
    """Fit a confirmatory factor analysis by maximum likelihood or, for ordered items, WLSMV.

    Parameters
    ----------
    data : pandas.DataFrame
        One numeric column per item; other columns are ignored. With ``"ML"`` rows with a
        missing item are dropped (listwise deletion, lavaan's default); with ``"WLSMV"``
        each correlation uses the rows where both items are answered (pairwise).
    model : mapping of str to sequence of column labels
        Each construct maps to its items (at least 2); an item loads on one construct.
    estimator : {"ML", "WLSMV"}, default "ML"
        ``"ML"`` treats the items as continuous (normal-theory maximum likelihood).
        ``"WLSMV"`` treats them as ordered categories (Likert, yes/no): polychoric and
        tetrachoric correlations, DWLS estimates and the mean-and-variance adjusted test
        (:mod:`analysis.wlsmv`), as lavaan's ``cfa(..., ordered = TRUE)``.

    Returns
    -------
    CFAResult

    Raises
    ------
    ValueError
        If the model is invalid for ``data``, the estimator unknown, or there are fewer
        complete cases (``"ML"``) or respondents (``"WLSMV"``) than items.

    Notes
    -----
    ``"ML"`` is equivalent to lavaan ``cfa(model, data, std.lv = TRUE)`` (chi-square, CFI,
    TLI, RMSEA and the standardized solution do not depend on ``std.lv``); the covariance
    matrix uses divisor :math:`N`, as lavaan's ``likelihood = "normal"``. ``"WLSMV"`` is
    equivalent to ``cfa(model, data, ordered = TRUE, estimator = "WLSMV",
    missing = "pairwise", std.lv = TRUE)`` with the ``.scaled`` fit measures.

    Examples
    --------
    >>> result = fit_cfa(df, {"trust": ["t1", "t2", "t3"], "safety": ["s1", "s2", "s3"]})
    ... # doctest: +SKIP
    >>> round(result.cfi, 3)  # doctest: +SKIP
    >>> fit_cfa(df, {"trust": ["t1", "t2", "t3"]}, estimator="WLSMV")  # doctest: +SKIP
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"Unknown estimator {estimator!r}; use one of {ESTIMATORS}.")
    pattern = loading_pattern(model, data)
    if estimator == "WLSMV":
        return _fit_cfa_wlsmv(data, model, pattern)
    return _fit_cfa_ml(data, model, pattern)


def _fit_cfa_wlsmv(
    data: pd.DataFrame, model: Mapping[str, Sequence[Hashable]], pattern: np.ndarray
) -> CFAResult:
    items = model_items(model)
    ordinal = ordinal_data(data[items])
    if ordinal.n <= len(items):
        raise ValueError(f"{ordinal.n} respondents for {len(items)} items; a CFA needs more.")
    fit = fit_wlsmv(ordinal, pattern)
    constructs = list(model)
    # lavaan's RMSEA for WLS-type estimators uses N - 1 (as its test statistic does).
    indices = fit_indices(
        fit.chi2_scaled, fit.df, fit.n - 1, (fit.baseline_chi2_scaled, fit.baseline_df)
    )
    loadings = fit.loadings
    thresholds = pd.Series(
        np.concatenate(fit.thresholds),
        index=[
            f"{item}|t{k + 1}"
            for item, th in zip(items, fit.thresholds, strict=True)
            for k in range(len(th))
        ],
    )
    return CFAResult(
        chi2=fit.chi2_scaled,
        df=fit.df,
        pvalue=float(stats.chi2.sf(fit.chi2_scaled, fit.df)) if fit.df > 0 else np.nan,
        cfi=indices["cfi"],
        tli=indices["tli"],
        rmsea=indices["rmsea"],
        rmsea_ci=(indices["rmsea_ci_lower"], indices["rmsea_ci_upper"]),
        srmr=fit.srmr,
        n=fit.n,
        loadings=pd.DataFrame(loadings, index=items, columns=constructs),
        factor_correlations=pd.DataFrame(
            fit.factor_correlations, index=constructs, columns=constructs
        ),
        unique_variances=pd.Series(1.0 - (loadings**2).sum(axis=1), index=items),
        baseline_chi2=fit.baseline_chi2_scaled,
        baseline_df=fit.baseline_df,
        converged=fit.converged,
        estimator="WLSMV",
        chi2_unscaled=fit.chi2,
        scaling_factor=fit.scaling_factor,
        shift_parameter=fit.shift,
        thresholds=thresholds,
    )


def _fit_cfa_ml(
    data: pd.DataFrame, model: Mapping[str, Sequence[Hashable]], pattern: np.ndarray
) -> CFAResult:
    items = model_items(model)
    values = complete_values(data, items)
    if values.shape[0] <= len(items):
        raise ValueError(
            f"{values.shape[0]} complete cases for {len(items)} items; a CFA needs more."
        )
    moments = [GroupMoments.from_array(values)]
    layout = build_layout(pattern)
    fit = fit_ml(layout, moments)
    lam, phi, psi, _, _ = group_matrices(layout, 0, fit.theta)
    implied = lam @ phi @ lam.T + np.diag(psi)
    sd = np.sqrt(np.diag(implied))
    constructs = list(model)
    std_loadings = lam * np.sqrt(np.diag(phi)) / sd[:, None]
    factor_sd = np.sqrt(np.diag(phi))
    correlations = phi / np.outer(factor_sd, factor_sd)
    baseline = baseline_chi2(moments)
    indices = fit_indices(fit.chi2, fit.df, fit.n, baseline)
    return CFAResult(
        chi2=fit.chi2,
        df=fit.df,
        pvalue=float(stats.chi2.sf(fit.chi2, fit.df)) if fit.df > 0 else np.nan,
        cfi=indices["cfi"],
        tli=indices["tli"],
        rmsea=indices["rmsea"],
        rmsea_ci=(indices["rmsea_ci_lower"], indices["rmsea_ci_upper"]),
        srmr=_srmr(moments[0].cov, implied),
        n=fit.n,
        loadings=pd.DataFrame(std_loadings, index=items, columns=constructs),
        factor_correlations=pd.DataFrame(correlations, index=constructs, columns=constructs),
        unique_variances=pd.Series(psi / sd**2, index=items),
        baseline_chi2=baseline[0],
        baseline_df=baseline[1],
        converged=fit.converged,
    )
