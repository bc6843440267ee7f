"""WLSMV: diagonally weighted least squares with a mean-and-variance adjusted test.

The estimator lavaan 0.6 uses by default for ordered items (``estimator = "WLSMV"``,
``parameterization = "delta"``). Each item is a cut latent normal :math:`y^*` with
variance 1; the model is :math:`P = \\Lambda\\Phi\\Lambda^\\top` off the diagonal
(the unique variances are :math:`1 - \\operatorname{diag}(\\Lambda\\Phi\\Lambda^\\top)`)
and free thresholds. With the sample statistics :math:`s = (\\hat\\tau, \\hat\\rho)`
(:mod:`analysis.polychoric`) and :math:`\\Gamma` their asymptotic covariance times
:math:`N` (:mod:`analysis.ordinal_acov`), the estimates minimise

.. math::

    F = (s - \\sigma(\\theta))^\\top W (s - \\sigma(\\theta)), \\qquad
    W = \\operatorname{diag}(\\Gamma)^{-1}.

The thresholds are saturated, so they equal their sample values and only the
correlations carry information about :math:`\\Lambda` and :math:`\\Phi`.
The unscaled statistic is :math:`T = (N - 1) F` (lavaan: :math:`2 N f` with
:math:`f = \\tfrac12 \\frac{N-1}{N} F`). With
:math:`\\Delta = \\partial\\sigma/\\partial\\theta^\\top` and
:math:`U = W - W\\Delta(\\Delta^\\top W\\Delta)^{-1}\\Delta^\\top W`, the scaled-and-shifted
statistic (Asparouhov & Muthén 2010; lavaan ``test = "scaled.shifted"``) is

.. math::

    T_{ss} = a T + (df - a \\operatorname{tr}(U\\Gamma)), \\qquad
    a = \\sqrt{df / \\operatorname{tr}((U\\Gamma)^2)},

referred to :math:`\\chi^2_{df}`. The baseline model has free thresholds and all
correlations 0; its statistic is scaled the same way. CFI, TLI and RMSEA computed from
the scaled statistics are lavaan's ``cfi.scaled``, ``tli.scaled`` and ``rmsea.scaled``.
SRMR is the root mean square of the correlation residuals over the :math:`p(p+1)/2`
elements on and below the diagonal (those on it are 0; lavaan's ``srmr`` for categorical
data).

References
----------
Asparouhov, T., & Muthén, B. (2010). Simple second order chi-square correction.
Mplus technical appendix.

Muthén, B., du Toit, S. H. C., & Spisic, D. (1997). Robust inference using weighted
least squares and quadratic estimating equations in latent variable modeling with
categorical and continuous outcomes. Unpublished manuscript.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from analysis.ordinal_acov import muthen_gamma, pair_order
from analysis.polychoric import OrdinalData, correlation_matrix

__all__ = ["OrdinalFit", "fit_wlsmv", "scaled_shifted"]


@dataclass(frozen=True)
class OrdinalFit:
    """The result of :func:`fit_wlsmv` (delta parameterization, factor variances 1).

    Attributes
    ----------
    loadings : numpy.ndarray, shape (p, m)
        Loadings on the latent responses; standardized, since their variances are 1.
    factor_correlations : numpy.ndarray, shape (m, m)
    thresholds : list of numpy.ndarray
    correlation : numpy.ndarray
        The polychoric correlations.
    chi2, chi2_scaled : float
        :math:`T` and :math:`T_{ss}`.
    df : int
    scaling_factor, shift : float
        :math:`1/a` and :math:`df - a\\operatorname{tr}(U\\Gamma)`, as lavaan reports them.
    baseline_chi2, baseline_chi2_scaled : float
    baseline_df : int
    srmr : float
    n : int
    converged : bool
    """

    loadings: np.ndarray
    factor_correlations: np.ndarray
    thresholds: list[np.ndarray]
    correlation: np.ndarray
    chi2: float
    chi2_scaled: float
    df: int
    scaling_factor: float
    shift: float
    baseline_chi2: float
    baseline_chi2_scaled: float
    baseline_df: int
    srmr: float
    n: int
    converged: bool


def scaled_shifted(
    stat: float, df: int, weights: np.ndarray, delta: np.ndarray, gamma: np.ndarray
) -> tuple[float, float, float]:
    """The scaled-and-shifted statistic, scaling factor :math:`1/a` and shift.

    ``weights`` is the diagonal of :math:`W`; ``delta`` the model Jacobian (columns =
    free parameters, possibly none).
    """
    w = np.diag(weights)
    if delta.shape[1]:
        wd = w @ delta
        u = w - wd @ np.linalg.solve(delta.T @ wd, wd.T)
    else:
        u = w
    ug = u @ gamma
    a = np.sqrt(df / np.sum(ug * ug.T))
    shift = df - a * np.trace(ug)
    return float(a * stat + shift), float(1 / a), float(shift)


class _Structure:
    """Implied correlations of a simple-structure model and their Jacobian."""

    def __init__(self, pattern: np.ndarray) -> None:
        self.pattern = pattern
        p, m = pattern.shape
        self.factor_of = pattern.argmax(axis=1)
        self.pairs = pair_order(p)
        self.factor_pairs = [(a, b) for b in range(m - 1) for a in range(b + 1, m)]
        self.n_free = p + len(self.factor_pairs)

    def phi(self, theta: np.ndarray) -> np.ndarray:
        m = self.pattern.shape[1]
        phi = np.eye(m)
        for q, (a, b) in enumerate(self.factor_pairs):
            phi[a, b] = phi[b, a] = theta[self.pattern.shape[0] + q]
        return phi

    def implied(self, theta: np.ndarray) -> np.ndarray:
        lam, phi, f = theta[: self.pattern.shape[0]], self.phi(theta), self.factor_of
        return np.array([lam[i] * lam[j] * phi[f[i], f[j]] for i, j in self.pairs])

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        p = self.pattern.shape[0]
        lam, phi, f = theta[:p], self.phi(theta), self.factor_of
        jac = np.zeros((len(self.pairs), self.n_free))
        index = {pair: p + q for q, pair in enumerate(self.factor_pairs)}
        for k, (i, j) in enumerate(self.pairs):
            jac[k, i] += lam[j] * phi[f[i], f[j]]
            jac[k, j] += lam[i] * phi[f[i], f[j]]
            if f[i] != f[j]:
                jac[k, index[(max(f[i], f[j]), min(f[i], f[j]))]] = lam[i] * lam[j]
        return jac


def _start(structure: _Structure, corr: np.ndarray) -> np.ndarray:
    """Loadings from each factor's first principal axis, factor correlations 0."""
    theta = np.zeros(structure.n_free)
    for j in range(structure.pattern.shape[1]):
        rows = np.flatnonzero(structure.pattern[:, j])
        values, vectors = np.linalg.eigh(corr[np.ix_(rows, rows)])
        vector = vectors[:, -1] * (1.0 if vectors[0, -1] >= 0 else -1.0)
        theta[rows] = np.clip(vector * np.sqrt(max(values[-1], 1e-6)), -0.95, 0.95)
    return theta


def fit_wlsmv(data: OrdinalData, pattern: np.ndarray) -> OrdinalFit:
    """Fit a simple-structure CFA to ordered items by WLSMV (see the module notes).

    Parameters
    ----------
    data : OrdinalData
        The items, in the row order of ``pattern``.
    pattern : numpy.ndarray of bool, shape (p, m)
        ``True`` where an item loads on a factor (one factor per item).

    Returns
    -------
    OrdinalFit
    """
    corr = correlation_matrix(data)
    gamma = muthen_gamma(data, corr)
    variances = np.diag(gamma)
    weights = np.divide(1.0, variances, out=np.zeros_like(variances), where=variances > 0)
    n_th = sum(len(t) for t in data.thresholds)
    structure = _Structure(pattern)
    r = np.array([corr[i, j] for i, j in structure.pairs])
    root_w = np.sqrt(weights[n_th:])
    result = optimize.least_squares(
        lambda theta: root_w * (r - structure.implied(theta)),
        _start(structure, corr),
        jac=lambda theta: -root_w[:, None] * structure.jacobian(theta),
        method="lm",
        xtol=1e-15,
        ftol=1e-15,
        gtol=1e-15,
    )
    theta = _orient(structure, result.x)
    residual = r - structure.implied(theta)
    n = data.n
    chi2 = float((n - 1) * np.sum(weights[n_th:] * residual**2))
    df = len(structure.pairs) - structure.n_free
    delta = np.zeros((len(weights), n_th + structure.n_free))
    delta[:n_th, :n_th] = np.eye(n_th)
    delta[n_th:, n_th:] = structure.jacobian(theta)
    if df > 0:
        scaled, scaling, shift = scaled_shifted(chi2, df, weights, delta, gamma)
    else:  # saturated: nothing to scale (lavaan reports the standard test)
        scaled, scaling, shift = chi2, np.nan, np.nan
    baseline = float((n - 1) * np.sum(weights[n_th:] * r**2))
    baseline_scaled, _, _ = scaled_shifted(baseline, len(r), weights, delta[:, :n_th], gamma)
    lam = np.where(pattern, theta[: pattern.shape[0], None], 0.0)
    return OrdinalFit(
        loadings=lam,
        factor_correlations=structure.phi(theta),
        thresholds=data.thresholds,
        correlation=corr,
        chi2=chi2,
        chi2_scaled=scaled,
        df=df,
        scaling_factor=scaling,
        shift=shift,
        baseline_chi2=baseline,
        baseline_chi2_scaled=baseline_scaled,
        baseline_df=len(r),
        # The diagonal (residual 0) counts, as in lavaan: divide by p(p+1)/2.
        srmr=float(np.sqrt(np.sum(residual**2) / (len(r) + pattern.shape[0]))),
        n=n,
        converged=bool(result.success),
    )


def _orient(structure: _Structure, theta: np.ndarray) -> np.ndarray:
    """Flip each factor so its first item loads positively (lavaan's orientation)."""
    theta = theta.copy()
    p, m = structure.pattern.shape
    sign = np.ones(m)
    for j in range(m):
        first = int(np.flatnonzero(structure.pattern[:, j])[0])
        sign[j] = 1.0 if theta[first] >= 0 else -1.0
    theta[:p] *= sign[structure.factor_of]
    for q, (a, b) in enumerate(structure.factor_pairs):
        theta[p + q] *= sign[a] * sign[b]
    return theta
