"""Maximum-likelihood estimation of (multi-group) confirmatory factor models.

The engine behind :func:`analysis.fit_cfa` and :func:`analysis.measurement_invariance`.
It fits the common-factor model

.. math::

    \\Sigma_g = \\Lambda_g \\Phi_g \\Lambda_g^\\top + \\Psi_g, \\qquad
    \\mu_g = \\nu_g + \\Lambda_g \\alpha_g

in each group :math:`g` by minimising the normal-theory discrepancy that lavaan uses
(``estimator = "ML"``, ``likelihood = "normal"``):

.. math::

    F = \\sum_g \\frac{N_g}{N} \\Big[\\log|\\Sigma_g| + \\operatorname{tr}(S_g \\Sigma_g^{-1})
        - \\log|S_g| - p + (m_g - \\mu_g)^\\top \\Sigma_g^{-1} (m_g - \\mu_g)\\Big]

with :math:`S_g` the covariance matrix with divisor :math:`N_g` and :math:`m_g` the
sample means (the mean part only with a mean structure). The test statistic is
:math:`\\chi^2 = N F_{min}`. The gradient is analytic: with
:math:`W = \\Sigma^{-1} - \\Sigma^{-1}(S + dd^\\top)\\Sigma^{-1}` and :math:`d = m - \\mu`,
:math:`\\partial F/\\partial\\Lambda = 2 W \\Lambda \\Phi - 2\\Sigma^{-1} d \\alpha^\\top`,
:math:`\\partial F/\\partial\\Phi = \\Lambda^\\top W \\Lambda`,
:math:`\\partial F/\\partial\\Psi = W`,
:math:`\\partial F/\\partial\\nu = -2\\Sigma^{-1} d` and
:math:`\\partial F/\\partial\\alpha = -2\\Lambda^\\top\\Sigma^{-1} d`.

Parameters are addressed through integer index arrays with the shapes of the model
matrices: an entry ``k >= 0`` reads parameter ``theta[k]``, ``-1`` keeps the fixed
value. Equality constraints across groups are expressed by sharing an index.

References
----------
Jöreskog, K. G. (1969). A general approach to confirmatory maximum likelihood factor
analysis. *Psychometrika*, 34, 183-202.

Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal
of Statistical Software*, 48(2), 1-36.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import optimize

__all__ = ["GroupMoments", "GroupParameters", "MLFit", "ModelLayout", "build_layout", "fit_ml"]


@dataclass(frozen=True)
class GroupMoments:
    """Sample moments of one group: size, means and covariance with divisor N."""

    n: int
    mean: np.ndarray
    cov: np.ndarray

    @classmethod
    def from_array(cls, values: np.ndarray) -> GroupMoments:
        """Compute the moments of a complete ``n x p`` array in one pass."""
        n = values.shape[0]
        mean = values.mean(axis=0)
        centred = values - mean
        return cls(n=n, mean=mean, cov=centred.T @ centred / n)


@dataclass
class GroupParameters:
    """Index arrays (``-1`` = fixed) and fixed values of one group's model matrices."""

    lam_idx: np.ndarray
    lam_fixed: np.ndarray
    phi_idx: np.ndarray
    phi_fixed: np.ndarray
    psi_idx: np.ndarray
    nu_idx: np.ndarray
    alpha_idx: np.ndarray


@dataclass
class ModelLayout:
    """The parameter layout of a (multi-group) CFA."""

    pattern: np.ndarray
    groups: list[GroupParameters]
    n_params: int
    mean_structure: bool
    kind: list[str] = field(default_factory=list)


def build_layout(
    pattern: np.ndarray,
    n_groups: int = 1,
    *,
    identification: str = "std_lv",
    mean_structure: bool = False,
    equal: frozenset[str] = frozenset(),
    free_intercepts: frozenset[int] = frozenset(),
) -> ModelLayout:
    """Lay out the free parameters of a simple-structure CFA in one or more groups.

    Parameters
    ----------
    pattern : numpy.ndarray of bool, shape (p, m)
        ``True`` where an item loads on a factor.
    n_groups : int, default 1
        The number of groups.
    identification : {"std_lv", "marker"}, default "std_lv"
        ``"std_lv"`` fixes every factor variance to 1 (lavaan ``std.lv = TRUE``);
        ``"marker"`` fixes each factor's first loading to 1 and frees its variance
        (lavaan's default).
    mean_structure : bool, default False
        Add item intercepts (free) and latent means (fixed to 0, or free in groups
        after the first when intercepts are equal).
    equal : frozenset of {"loadings", "intercepts"}
        Parameters constrained equal across groups.
    free_intercepts : frozenset of int
        Items (row numbers of ``pattern``) whose intercepts stay free in every group
        although intercepts are equal (partial invariance, lavaan ``group.partial``).

    Returns
    -------
    ModelLayout
    """
    if identification not in {"std_lv", "marker"}:
        raise ValueError(f"Unknown identification {identification!r}.")
    p, m = pattern.shape
    kind: list[str] = []

    def new(label: str) -> int:
        kind.append(label)
        return len(kind) - 1

    markers = {j: int(np.flatnonzero(pattern[:, j])[0]) for j in range(m)}
    groups: list[GroupParameters] = []
    for g in range(n_groups):
        lam_idx = np.full((p, m), -1)
        lam_fixed = np.zeros((p, m))
        for i, j in zip(*np.nonzero(pattern), strict=True):
            if identification == "marker" and markers[j] == i:
                lam_fixed[i, j] = 1.0
            elif g > 0 and "loadings" in equal:
                lam_idx[i, j] = groups[0].lam_idx[i, j]
            else:
                lam_idx[i, j] = new("loading")
        phi_idx = np.full((m, m), -1)
        phi_fixed = np.eye(m)
        for j in range(m):
            # With equal loadings and std.lv, variances in later groups are free:
            # only the first group's factor metric is fixed.
            free_variance = identification == "marker" or (g > 0 and "loadings" in equal)
            if free_variance:
                phi_idx[j, j] = new("factor_variance")
            for k in range(j):
                phi_idx[j, k] = phi_idx[k, j] = new("factor_covariance")
        psi_idx = np.array([new("unique_variance") for _ in range(p)])
        nu_idx = np.full(p, -1)
        alpha_idx = np.full(m, -1)
        if mean_structure:
            if g > 0 and "intercepts" in equal:
                nu_idx = groups[0].nu_idx.copy()
                for item in sorted(free_intercepts):
                    nu_idx[item] = new("intercept")
                alpha_idx = np.array([new("latent_mean") for _ in range(m)])
            else:
                nu_idx = np.array([new("intercept") for _ in range(p)])
        groups.append(
            GroupParameters(lam_idx, lam_fixed, phi_idx, phi_fixed, psi_idx, nu_idx, alpha_idx)
        )
    return ModelLayout(pattern, groups, len(kind), mean_structure, kind)


def _fill(index: np.ndarray, fixed: np.ndarray | float, theta: np.ndarray) -> np.ndarray:
    out = np.array(np.broadcast_to(fixed, index.shape), dtype=float)
    free = index >= 0
    out[free] = theta[index[free]]
    return out


def group_matrices(
    layout: ModelLayout, g: int, theta: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(Lambda, Phi, psi, nu, alpha)`` of group ``g`` at ``theta``."""
    gp = layout.groups[g]
    lam = _fill(gp.lam_idx, gp.lam_fixed, theta)
    phi = _fill(gp.phi_idx, gp.phi_fixed, theta)
    psi = _fill(gp.psi_idx, 0.0, theta)
    nu = _fill(gp.nu_idx, 0.0, theta)
    alpha = _fill(gp.alpha_idx, 0.0, theta)
    return lam, phi, psi, nu, alpha


def implied_moments(
    layout: ModelLayout, g: int, theta: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Model-implied covariance matrix and means of group ``g``."""
    lam, phi, psi, nu, alpha = group_matrices(layout, g, theta)
    return lam @ phi @ lam.T + np.diag(psi), nu + lam @ alpha


def _objective(
    theta: np.ndarray, layout: ModelLayout, moments: list[GroupMoments]
) -> tuple[float, np.ndarray]:
    n_total = sum(mo.n for mo in moments)
    value = 0.0
    grad = np.zeros_like(theta)
    for g, mo in enumerate(moments):
        lam, phi, psi, nu, alpha = group_matrices(layout, g, theta)
        sigma = lam @ phi @ lam.T + np.diag(psi)
        try:
            chol = np.linalg.cholesky(sigma)
        except np.linalg.LinAlgError:
            return 1e10, np.zeros_like(theta)
        inv = np.linalg.inv(sigma)
        logdet = 2.0 * np.log(np.diag(chol)).sum()
        p = sigma.shape[0]
        weight = mo.n / n_total
        s = mo.cov
        f_g = logdet + np.trace(s @ inv) - p
        if layout.mean_structure:
            d = mo.mean - (nu + lam @ alpha)
            inv_d = inv @ d
            f_g += d @ inv_d
            s = s + np.outer(d, d)
        value += weight * f_g
        w = inv - inv @ s @ inv
        d_lam = 2.0 * w @ lam @ phi
        d_phi = lam.T @ w @ lam
        d_psi = np.diag(w)
        gp = layout.groups[g]
        if layout.mean_structure:
            d_mu = -2.0 * inv_d
            d_lam = d_lam + np.outer(d_mu, alpha)
            np.add.at(grad, gp.nu_idx[gp.nu_idx >= 0], weight * d_mu[gp.nu_idx >= 0])
            d_alpha = lam.T @ d_mu
            np.add.at(grad, gp.alpha_idx[gp.alpha_idx >= 0], weight * d_alpha[gp.alpha_idx >= 0])
        np.add.at(grad, gp.lam_idx[gp.lam_idx >= 0], weight * d_lam[gp.lam_idx >= 0])
        np.add.at(grad, gp.phi_idx[gp.phi_idx >= 0], weight * d_phi[gp.phi_idx >= 0])
        np.add.at(grad, gp.psi_idx, weight * d_psi)
    saturated = sum(mo.n / n_total * np.linalg.slogdet(mo.cov)[1] for mo in moments)
    return value - saturated, grad


def _start(layout: ModelLayout, moments: list[GroupMoments]) -> np.ndarray:
    """Start values from the first principal axis of each factor's item block."""
    theta = np.zeros(layout.n_params)
    filled = np.zeros(layout.n_params, dtype=bool)
    for g, mo in enumerate(moments):
        gp = layout.groups[g]
        s = mo.cov
        lam_std = np.zeros(layout.pattern.shape)
        for j in range(layout.pattern.shape[1]):
            rows = np.flatnonzero(layout.pattern[:, j])
            values, vectors = np.linalg.eigh(s[np.ix_(rows, rows)])
            vector = vectors[:, -1] * np.sign(vectors[:, -1].sum() or 1.0)
            lam_std[rows, j] = vector * np.sqrt(max(values[-1], 1e-6))
        marker_scale = np.ones(layout.pattern.shape[1])
        for j in range(layout.pattern.shape[1]):
            fixed = np.flatnonzero(gp.lam_fixed[:, j] != 0)
            if fixed.size and lam_std[fixed[0], j] != 0:
                marker_scale[j] = lam_std[fixed[0], j]
        lam = lam_std / marker_scale
        unique = np.maximum(np.diag(s) - (lam_std**2).sum(axis=1), 0.1 * np.diag(s))

        def put(index: np.ndarray, values: np.ndarray) -> None:
            mask = (index >= 0) & ~filled[np.where(index >= 0, index, 0)]
            theta[index[mask]] = values[mask]
            filled[index[mask]] = True

        put(gp.lam_idx, lam)
        put(gp.phi_idx, np.diag(marker_scale**2))
        put(gp.psi_idx, unique)
        put(gp.nu_idx, mo.mean)
        put(gp.alpha_idx, np.zeros(len(gp.alpha_idx)))
    return theta


@dataclass(frozen=True)
class MLFit:
    """The result of :func:`fit_ml`."""

    theta: np.ndarray
    fmin: float
    chi2: float
    df: int
    n: int
    converged: bool
    message: str


def fit_ml(
    layout: ModelLayout, moments: list[GroupMoments], start: np.ndarray | None = None
) -> MLFit:
    """Minimise the ML discrepancy for ``layout`` on the groups' sample moments.

    Parameters
    ----------
    layout : ModelLayout
        From :func:`build_layout`.
    moments : list of GroupMoments
        One per group, in the order of the layout's groups.
    start : numpy.ndarray, optional
        Start values (e.g. a previous solution, for bootstrap resamples); by default
        from the first principal axis of each construct's items.

    Returns
    -------
    MLFit
        Parameters, :math:`F_{min}`, :math:`\\chi^2 = N F_{min}`, degrees of freedom
        (sample moments minus free parameters) and convergence status.
    """
    p = layout.pattern.shape[0]
    n_moments = len(moments) * (p * (p + 1) // 2 + (p if layout.mean_structure else 0))
    bounds = [
        (1e-8, None) if kind in {"unique_variance", "factor_variance"} else (None, None)
        for kind in layout.kind
    ]
    theta0 = _start(layout, moments) if start is None else np.asarray(start, dtype=float)
    result = optimize.minimize(
        _objective,
        theta0,
        args=(layout, moments),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 20000, "maxcor": 50, "ftol": 1e-15, "gtol": 1e-10},
    )
    n_total = sum(mo.n for mo in moments)
    fmin = float(result.fun)
    return MLFit(
        theta=result.x,
        fmin=fmin,
        chi2=n_total * fmin,
        df=n_moments - layout.n_params,
        n=n_total,
        converged=bool(result.success) or np.max(np.abs(result.jac)) < 1e-5,
        message=str(result.message),
    )
