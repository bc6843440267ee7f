"""Multi-group WLSMV for ordered items: configural, metric, scalar and partial models.

The engine behind :func:`analysis.measurement_invariance` with ``estimator="WLSMV"``.
It reproduces lavaan 0.6's ``cfa(model, data, group = g, ordered = TRUE,
estimator = "WLSMV", missing = "pairwise", group.equal = ...)`` with its default
identification for ordered items (``parameterization = "delta"``). In group :math:`g`
the latent responses :math:`y^*` have intercepts 0 and the model

.. math::

    \\hat\\tau^{std}_{ik,g} = (\\tau_{ik,g} - \\lambda_i \\alpha_{f(i),g})\\,\\delta_{i,g},
    \\qquad
    \\rho_{ij,g} = \\delta_{i,g}\\delta_{j,g}\\,\\lambda_i\\lambda_j\\,\\phi_{f(i)f(j),g}

for the standardized thresholds and the polychoric correlations, with the first loading
of each factor fixed to 1 and the factor (co)variances :math:`\\Phi_g` free in every
group. lavaan's levels (``lavInspect(fit, "partable")`` of each):

- **configural**: everything per group; :math:`\\delta = 1`, :math:`\\alpha = 0`;
- **metric** (``group.equal = "loadings"``): :math:`\\lambda` shared, thresholds per
  group, :math:`\\delta = 1`, :math:`\\alpha = 0`;
- **scalar** (``group.equal = c("loadings", "thresholds")``): thresholds shared too,
  scale factors :math:`\\delta` and latent means :math:`\\alpha` free in every group but
  the first (Wu & Estabrook, 2016, show that this is how thresholds-and-loadings
  invariance is identified with the delta parameterization);
- **partial**: the scalar model with the thresholds of named items free per group
  (``group.partial = c("x3|t1", "x3|t2", ...)``).

Each group's thresholds, polychoric correlations and :math:`\\Gamma_g`
(:mod:`analysis.ordinal_acov`) come from that group's answers (pairwise deletion); the
categories are those seen in all the data, with any category empty in a group merged
into its neighbour towards the middle in every group
(:func:`analysis.ordinal_invariance.collapse_categories`).
The estimates minimise :math:`T = \\sum_g (N_g - 1) (s_g - \\sigma_g)^\\top W_g
(s_g - \\sigma_g)` with :math:`W_g = \\operatorname{diag}(\\Gamma_g)^{-1}`; the test is
scaled and shifted as in :mod:`analysis.wlsmv` with the groups stacked
(:math:`V = \\oplus_g f_g W_g`, :math:`\\Gamma = \\oplus_g \\Gamma_g / f_g`,
:math:`f_g = N_g/N`). Nested models are compared by lavaan's ``lavTestLRT`` for WLSMV,
the scaled-and-shifted difference test of Satorra (2000) (``method = "satorra.2000"``)
implemented in :mod:`analysis.ordinal_difference`.

References
----------
Wu, H., & Estabrook, R. (2016). Identification of confirmatory factor analysis models of
different levels of invariance for ordered categorical outcomes. *Psychometrika*, 81(4),
1014-1045.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from analysis.ordinal_acov import muthen_gamma, pair_order
from analysis.polychoric import OrdinalData, correlation_matrix

__all__ = ["LEVELS", "GroupFit", "GroupStatistics", "fit_groups", "group_statistics"]

#: The models, from least to most constrained.
LEVELS = ("configural", "metric", "scalar")


@dataclass(frozen=True)
class GroupStatistics:
    """One group's sample statistics: thresholds then correlations, weights and Gamma."""

    data: OrdinalData
    stats: np.ndarray
    weights: np.ndarray
    gamma: np.ndarray

    @property
    def n(self) -> int:
        return self.data.n


def group_statistics(data: OrdinalData) -> GroupStatistics:
    """The thresholds, polychoric correlations and their :math:`\\Gamma` of one group."""
    corr = correlation_matrix(data)
    gamma = muthen_gamma(data, corr)
    variances = np.diag(gamma)
    weights = np.divide(1.0, variances, out=np.zeros_like(variances), where=variances > 0)
    p = corr.shape[0]
    stats = np.concatenate([*data.thresholds, [corr[i, j] for i, j in pair_order(p)]])
    return GroupStatistics(data, stats, weights, gamma)


class Layout:
    """Which parameter (index into theta, -1 = fixed) each model quantity reads, per group.

    Fixed values: marker loadings 1, scale factors 1, latent means 0.
    """

    def __init__(
        self,
        pattern: np.ndarray,
        n_thresholds: list[int],
        n_groups: int,
        level: str,
        free_items: frozenset[int] = frozenset(),
    ) -> None:
        p, m = pattern.shape
        self.pattern = pattern
        self.factor_of = pattern.argmax(axis=1)
        self.n_thresholds = n_thresholds
        self.n_groups = n_groups
        self.pairs = pair_order(p)
        markers = {int(np.flatnonzero(pattern[:, j])[0]) for j in range(m)}
        counter = iter(range(10**9))
        equal_loadings = level != "configural"
        equal_thresholds = level == "scalar"
        self.lam = np.full((n_groups, p), -1)
        self.phi = np.full((n_groups, m, m), -1)
        self.alpha = np.full((n_groups, m), -1)
        self.delta = np.full((n_groups, p), -1)
        self.tau = [[np.full(k, -1) for k in n_thresholds] for _ in range(n_groups)]
        for g in range(n_groups):
            for i in range(p):
                if i not in markers:
                    self.lam[g, i] = self.lam[0, i] if g and equal_loadings else next(counter)
            for i in range(p):
                shared = g and equal_thresholds and i not in free_items
                for k in range(n_thresholds[i]):
                    self.tau[g][i][k] = self.tau[0][i][k] if shared else next(counter)
            for b in range(m):
                for a in range(b, m):
                    self.phi[g, a, b] = self.phi[g, b, a] = next(counter)
            if g and equal_thresholds:
                self.delta[g] = [next(counter) for _ in range(p)]
                self.alpha[g] = [next(counter) for _ in range(m)]
        self.n_free = next(counter)

    def values(self, g: int, theta: np.ndarray) -> tuple[np.ndarray, ...]:
        """Loadings, factor covariances, latent means, scale factors and thresholds."""

        def take(index: np.ndarray, fixed: float) -> np.ndarray:
            return np.where(index >= 0, theta[np.maximum(index, 0)], fixed)

        tau = np.concatenate([take(t, 0.0) for t in self.tau[g]])
        return (
            take(self.lam[g], 1.0),
            take(self.phi[g], 0.0),
            take(self.alpha[g], 0.0),
            take(self.delta[g], 1.0),
            tau,
        )

    def _threshold_items(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.n_thresholds)), self.n_thresholds)

    def implied(self, g: int, theta: np.ndarray) -> np.ndarray:
        """The model's thresholds then correlations in group ``g``."""
        lam, phi, alpha, delta, tau = self.values(g, theta)
        item = self._threshold_items()
        f = self.factor_of
        th = (tau - lam[item] * alpha[f[item]]) * delta[item]
        i, j = np.array(self.pairs).T
        rho = delta[i] * delta[j] * lam[i] * lam[j] * phi[f[i], f[j]]
        return np.concatenate([th, rho])

    def jacobian(self, g: int, theta: np.ndarray) -> np.ndarray:
        """:math:`\\partial\\sigma_g/\\partial\\theta^\\top`, shape (statistics, free)."""
        lam, phi, alpha, delta, tau = self.values(g, theta)
        item = self._threshold_items()
        f = self.factor_of
        n_th = len(item)
        i, j = np.array(self.pairs).T
        jac = np.zeros((n_th + len(i), self.n_free))
        rows = np.arange(n_th)
        tau_index = np.concatenate(self.tau[g])
        a_f = alpha[f[item]]
        _add(jac, rows, tau_index, delta[item])
        _add(jac, rows, self.lam[g][item], -a_f * delta[item])
        _add(jac, rows, self.alpha[g][f[item]], -lam[item] * delta[item])
        _add(jac, rows, self.delta[g][item], tau - lam[item] * a_f)
        rows = n_th + np.arange(len(i))
        ph = phi[f[i], f[j]]
        dd, ll = delta[i] * delta[j], lam[i] * lam[j]
        _add(jac, rows, self.lam[g][i], dd * lam[j] * ph)
        _add(jac, rows, self.lam[g][j], dd * lam[i] * ph)
        _add(jac, rows, self.phi[g][f[i], f[j]], dd * ll)
        _add(jac, rows, self.delta[g][i], delta[j] * ll * ph)
        _add(jac, rows, self.delta[g][j], delta[i] * ll * ph)
        return jac

    def start(self, groups: list[GroupStatistics]) -> np.ndarray:
        """Loadings and factor variances from each group's principal axes; thresholds
        from the sample; scale factors 1, latent means and factor covariances 0."""
        theta = np.zeros(self.n_free)
        for g in reversed(range(self.n_groups)):  # shared parameters end with group 1
            data = groups[g].data
            std = _principal_axes(self.pattern, correlation_from(groups[g], len(self.pattern)))
            for j in range(self.pattern.shape[1]):
                rows = np.flatnonzero(self.pattern[:, j])
                marker = std[rows[0]] if abs(std[rows[0]]) > 0.1 else 0.5
                free = self.lam[g][rows] >= 0
                theta[self.lam[g][rows][free]] = std[rows][free] / marker
                theta[self.phi[g][j, j]] = marker**2
            for i, index in enumerate(self.tau[g]):
                theta[index] = data.thresholds[i]
            index = self.delta[g]
            theta[index[index >= 0]] = 1.0
        return theta


def correlation_from(group: GroupStatistics, p: int) -> np.ndarray:
    """The polychoric correlation matrix back from the statistics vector."""
    corr = np.eye(p)
    n_th = sum(len(t) for t in group.data.thresholds)
    for q, (i, j) in enumerate(pair_order(p)):
        corr[i, j] = corr[j, i] = group.stats[n_th + q]
    return corr


def _principal_axes(pattern: np.ndarray, corr: np.ndarray) -> np.ndarray:
    """Each item's loading on its factor's first principal axis (first item positive)."""
    out = np.zeros(pattern.shape[0])
    for j in range(pattern.shape[1]):
        rows = np.flatnonzero(pattern[:, j])
        values, vectors = np.linalg.eigh(corr[np.ix_(rows, rows)])
        vector = vectors[:, -1] * (1.0 if vectors[0, -1] >= 0 else -1.0)
        out[rows] = np.clip(vector * np.sqrt(max(values[-1], 1e-6)), -0.95, 0.95)
    return out


def _add(jac: np.ndarray, rows: np.ndarray, index: np.ndarray, values: np.ndarray) -> None:
    free = index >= 0
    np.add.at(jac, (rows[free], index[free]), values[free])


@dataclass(frozen=True)
class GroupFit:
    """A fitted multi-group model: the unscaled test, its df and what scaling needs."""

    layout: Layout
    theta: np.ndarray
    chi2: float
    df: int
    jacobians: list[np.ndarray]
    converged: bool

    def loadings(self) -> np.ndarray:
        """The loadings (first of each factor 1), shape (groups, items)."""
        return np.array([self.layout.values(g, self.theta)[0] for g in range(len(self.jacobians))])

    def thresholds(self) -> list[np.ndarray]:
        """The thresholds :math:`\\tau` of each group, item by item (lavaan's ``est``)."""
        return [self.layout.values(g, self.theta)[4] for g in range(len(self.jacobians))]


def fit_groups(layout: Layout, groups: list[GroupStatistics]) -> GroupFit:
    """Minimise the DWLS discrepancy :math:`T` (module notes) for ``layout``."""
    roots = [np.sqrt((gs.n - 1) * gs.weights) for gs in groups]

    def residuals(theta: np.ndarray) -> np.ndarray:
        return np.concatenate(
            [
                r * (gs.stats - layout.implied(g, theta))
                for g, (r, gs) in enumerate(zip(roots, groups, strict=True))
            ]
        )

    def jacobian(theta: np.ndarray) -> np.ndarray:
        return np.vstack([-r[:, None] * layout.jacobian(g, theta) for g, r in enumerate(roots)])

    result = optimize.least_squares(
        residuals,
        layout.start(groups),
        jac=jacobian,
        method="lm",
        xtol=1e-12,
        ftol=1e-12,
        gtol=1e-12,
    )
    theta = result.x
    n_stats = sum(len(gs.stats) for gs in groups)
    return GroupFit(
        layout=layout,
        theta=theta,
        chi2=float(np.sum(residuals(theta) ** 2)),
        df=n_stats - layout.n_free,
        jacobians=[layout.jacobian(g, theta) for g in range(len(groups))],
        converged=bool(result.success),
    )
