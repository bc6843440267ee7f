"""Internal-consistency reliability: Cronbach's alpha and McDonald's omega total.

For :math:`k` items with covariance matrix :math:`S`,

.. math::

    \\alpha = \\frac{k}{k-1}\\Big(1 - \\frac{\\sum_i s_{ii}}{\\mathbf 1^\\top S \\mathbf 1}\\Big),
    \\qquad
    \\omega_t = \\frac{(\\sum_i \\lambda_i)^2}{(\\sum_i \\lambda_i)^2 + \\sum_i \\psi_i},

with :math:`\\lambda_i` and :math:`\\psi_i` the loadings and unique variances of a
one-factor model fitted by maximum likelihood to the covariance matrix (so :math:`\\omega`
is the reliability of the unit-weighted sum of the raw items, as semTools'
``compRelSEM`` reports it). Both come with percentile bootstrap confidence intervals
(cases resampled with replacement, seeded).

References
----------
Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
*Psychometrika*, 16, 297-334.

McDonald, R. P. (1999). *Test theory: A unified treatment*. Erlbaum.

Kelley, K., & Pornprasertmanit, S. (2016). Confidence intervals for population
reliability coefficients. *Psychological Methods*, 21(1), 69-92.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.cfa import complete_values
from analysis.ml_estimation import GroupMoments, build_layout, fit_ml, group_matrices

__all__ = [
    "ReliabilityResult",
    "cronbach_alpha",
    "omega_bootstrap_ci",
    "omega_total",
    "omega_total_em",
    "reliability",
]


def cronbach_alpha(values: np.ndarray) -> float:
    """Cronbach's alpha of a complete ``n x k`` array (see module notes)."""
    k = values.shape[1]
    cov = np.cov(values, rowvar=False)
    total = cov.sum()
    if total <= 0:
        return float("nan")
    return float(k / (k - 1) * (1.0 - np.trace(cov) / total))


def _omega_fit(values: np.ndarray, start: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    k = values.shape[1]
    layout = build_layout(np.ones((k, 1), dtype=bool))
    fit = fit_ml(layout, [GroupMoments.from_array(values)], start=start)
    lam, _, psi, _, _ = group_matrices(layout, 0, fit.theta)
    # The sign of a one-factor solution is arbitrary; the sum of loadings is not.
    common = lam[:, 0].sum() ** 2
    return float(common / (common + psi.sum())), fit.theta


def omega_total(values: np.ndarray) -> float:
    """McDonald's omega total of a complete ``n x k`` array from a one-factor ML fit."""
    return _omega_fit(values)[0]


@dataclass(frozen=True)
class ReliabilityResult:
    """Alpha and omega total with percentile bootstrap intervals.

    Attributes
    ----------
    alpha, omega : float
        Point estimates.
    alpha_ci, omega_ci : tuple of float
        Percentile bootstrap intervals at ``level``.
    n : int
        Complete cases used.
    n_items : int
    n_boot : int
    level : float
    seed : int
    """

    alpha: float
    alpha_ci: tuple[float, float]
    omega: float
    omega_ci: tuple[float, float]
    n: int
    n_items: int
    n_boot: int
    level: float
    seed: int

    def to_series(self) -> pd.Series:
        """The result as one labelled series (for reports)."""
        return pd.Series(
            {
                "n": self.n,
                "n_items": self.n_items,
                "alpha": self.alpha,
                "alpha_ci_lower": self.alpha_ci[0],
                "alpha_ci_upper": self.alpha_ci[1],
                "omega_total": self.omega,
                "omega_ci_lower": self.omega_ci[0],
                "omega_ci_upper": self.omega_ci[1],
            }
        )


def reliability(
    data: pd.DataFrame,
    items: Sequence[Hashable],
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    omega: bool = True,
) -> ReliabilityResult:
    """Cronbach's alpha and McDonald's omega total, each with a bootstrap CI.

    Parameters
    ----------
    data : pandas.DataFrame
        Item responses, one numeric column per item, already reverse-coded so that
        all items point the same way. Rows with a missing item are dropped.
    items : sequence of column labels
        At least 2 items (omega needs at least 3 to be identified).
    n_boot : int, default 1000
        Bootstrap resamples; 0 gives no intervals (NaN).
    level : float, default 0.95
        Confidence level of the percentile intervals.
    seed : int, default 0
        Seed of the resampling, so that the same call gives the same intervals.
    omega : bool, default True
        Compute omega total (needs a factor fit per resample); if False it is NaN.

    Returns
    -------
    ReliabilityResult

    Raises
    ------
    ValueError
        If fewer than 2 items are given, an item is not a column, or there are fewer
        complete cases than items + 1.

    Examples
    --------
    >>> reliability(df, ["t1", "t2", "t3", "t4"], n_boot=500).alpha  # doctest: +SKIP
    """
    items = list(items)
    if len(items) < 2:
        raise ValueError("Reliability needs at least 2 items.")
    missing = [item for item in items if item not in data.columns]
    if missing:
        raise ValueError(f"Item(s) {missing} are not columns of the data.")
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1.")
    values = complete_values(data, items)
    n = values.shape[0]
    if n <= len(items):
        raise ValueError(f"{n} complete cases for {len(items)} items; need more.")
    with_omega = omega and len(items) >= 3
    alpha_hat = cronbach_alpha(values)
    omega_hat, theta_hat = _omega_fit(values) if with_omega else (float("nan"), None)
    rng = np.random.default_rng(seed)
    alphas = np.empty(n_boot)
    omegas = np.full(n_boot, np.nan)
    for b in range(n_boot):
        sample = values[rng.integers(0, n, size=n)]
        alphas[b] = cronbach_alpha(sample)
        if with_omega:
            omegas[b] = _omega_fit(sample, start=theta_hat)[0]
    return ReliabilityResult(
        alpha=alpha_hat,
        alpha_ci=_percentile_interval(alphas, level),
        omega=omega_hat,
        omega_ci=_percentile_interval(omegas, level),
        n=n,
        n_items=len(items),
        n_boot=n_boot,
        level=level,
        seed=seed,
    )


def omega_total_em(cov: np.ndarray, max_iter: int = 5000, tol: float = 1e-10) -> np.ndarray:
    """Omega total of a stack of covariance matrices by one-factor ML, all at once.

    The same estimator as :func:`omega_total` (one-factor maximum likelihood), fitted to
    every matrix at once by the EM algorithm of Rubin & Thayer (1982), because one
    optimiser call per bootstrap resample is too slow for a report.

    Parameters
    ----------
    cov : numpy.ndarray
        Covariance matrices, shape ``(B, p, p)``.
    max_iter : int, default 5000
        Most EM steps.
    tol : float, default 1e-10
        Stop when no loading or unique variance moves by more than this.

    Returns
    -------
    numpy.ndarray
        Omega total per matrix, shape ``(B,)``:
        :math:`(\\sum_i \\lambda_i)^2 / ((\\sum_i \\lambda_i)^2 + \\sum_i \\psi_i)`.

    References
    ----------
    Rubin, D. B., & Thayer, D. T. (1982). EM algorithms for ML factor analysis.
    *Psychometrika*, 47, 69-76.
    """
    diag = np.einsum("bii->bi", cov)
    w, v = np.linalg.eigh(cov.mean(axis=0))
    lam = np.broadcast_to(v[:, -1] * np.sqrt(w[-1]), diag.shape).copy()
    psi = np.maximum(diag - lam**2, 0.05 * diag)
    for _ in range(max_iter):
        a = lam / psi
        beta = a / (1 + (lam * a).sum(axis=1, keepdims=True))
        s_beta = np.einsum("bij,bj->bi", cov, beta)
        ezz = 1 - (beta * lam).sum(axis=1, keepdims=True)
        ezz = ezz + (beta * s_beta).sum(axis=1, keepdims=True)
        new_lam = s_beta / ezz
        new_psi = np.maximum(diag - new_lam * s_beta, 1e-8 * diag)
        change = max(np.abs(new_lam - lam).max(), np.abs(new_psi - psi).max())
        lam, psi = new_lam, new_psi
        if change < tol:
            break
    common = lam.sum(axis=1) ** 2
    return common / (common + psi.sum(axis=1))


def omega_bootstrap_ci(
    values: np.ndarray, n_boot: int, seed: int, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval of omega total, by :func:`omega_total_em`.

    Parameters
    ----------
    values : numpy.ndarray
        Complete responses, ``n x p``, reverse-coded.
    n_boot : int
        Resamples (cases with replacement); 0 gives no interval.
    seed : int
        Seed of the resampling: the same call gives the same interval.
    level : float, default 0.95
        Confidence level.

    Returns
    -------
    tuple of float
        Lower and upper limit; NaN when there are no resamples, fewer than 3 items or
        no more cases than items.
    """
    n, p = values.shape
    if n_boot <= 0 or p < 3 or n <= p:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    omegas = np.empty(n_boot)
    for start in range(0, n_boot, 50):  # chunks keep memory at 50 x n x p
        index = rng.integers(0, n, size=(min(50, n_boot - start), n))
        samples = values[index]
        centred = samples - samples.mean(axis=1, keepdims=True)
        cov = np.einsum("bni,bnj->bij", centred, centred) / n
        omegas[start : start + len(index)] = omega_total_em(cov)
    return _percentile_interval(omegas, level)


def _percentile_interval(draws: np.ndarray, level: float) -> tuple[float, float]:
    """Percentile interval of the finite bootstrap draws (NaN when there are none)."""
    draws = draws[np.isfinite(draws)]
    if draws.size == 0:
        return (float("nan"), float("nan"))
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return (float(low), float(high))
