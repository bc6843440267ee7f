"""Asymptotic covariance of thresholds and polychoric correlations (Muthén 1984).

The WLSMV estimator weights the sample statistics :math:`s = (\\hat\\tau, \\hat\\rho)`
(all thresholds, item by item, then the correlations in lavaan's order
:math:`\\rho_{21}, \\rho_{31}, \\ldots, \\rho_{p1}, \\rho_{32}, \\ldots`) by the inverse of
the diagonal of :math:`\\Gamma = N \\operatorname{acov}(s)`, and its test statistic
needs all of :math:`\\Gamma`. This module ports lavaan 0.6's ``muthen1984()`` (two-step
estimating equations, sandwich estimator):

.. math::

    \\Gamma = N\\, B^{-1} \\Big(\\sum_i g_i g_i^\\top\\Big) B^{-\\top}, \\qquad
    B = \\begin{pmatrix} A_{11} & 0 \\\\ A_{21} & A_{22} \\end{pmatrix},

where :math:`g_i` stacks respondent :math:`i`'s scores of the univariate
log-likelihoods with respect to the thresholds and of the bivariate log-likelihoods with
respect to each :math:`\\rho` (zero where an answer is missing), :math:`A_{11}` is the
block-diagonal (per item) cross-product of the threshold scores, :math:`A_{22}` the
diagonal of the :math:`\\rho` scores' squares, and :math:`A_{21}` the cross-product of
each :math:`\\rho` score with that pair's bivariate threshold scores: the correction
for the thresholds being estimated first. lavaan uses cross-products of scores
(outer-product information) throughout; so do we.

References
----------
Muthén, B. (1984). A general structural equation model with dichotomous, ordered
categorical, and continuous latent variable indicators. *Psychometrika*, 49, 115-132.

Muthén, B., & Satorra, A. (1995). Technical aspects of Muthén's LISCOMP approach to
estimation of latent variable relations with a comprehensive measurement model.
*Psychometrika*, 60, 489-503.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from analysis.bivariate_normal import bvn_density
from analysis.polychoric import OrdinalData, cell_probabilities, cross_table

__all__ = ["muthen_gamma", "pair_order"]

# lavaan replaces the infinite outer thresholds by +-100 in the score formulas.
_BIG = 100.0


def pair_order(p: int) -> list[tuple[int, int]]:
    """The (row, column) of each correlation in lavaan's order (lower triangle by column)."""
    return [(i, j) for j in range(p - 1) for i in range(j + 1, p)]


def _pdf(x: np.ndarray) -> np.ndarray:
    return np.exp(-x * x / 2) / np.sqrt(2 * np.pi)


def _univariate_scores(codes: np.ndarray, th: np.ndarray) -> np.ndarray:
    """Per-respondent scores of one item's log-likelihood for its thresholds."""
    k = len(th) + 1
    probs = np.diff(np.concatenate([[0.0], ndtr(th), [1.0]]))
    table = np.zeros((k, k - 1))
    for t in range(k - 1):
        table[t, t] += _pdf(th[t]) / probs[t]
        table[t + 1, t] -= _pdf(th[t]) / probs[t + 1]
    scores = np.zeros((len(codes), k - 1))
    answered = codes >= 0
    scores[answered] = table[codes[answered]]
    return scores


def _pair_cell_scores(
    rho: float, th1: np.ndarray, th2: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores per cell of the bivariate log-likelihood: rho, thresholds of 1, of 2.

    Returns arrays of shape ``(K1, K2)``, ``(K1, K2, K1 - 1)`` and ``(K1, K2, K2 - 1)``.
    """
    k1, k2 = len(th1) + 1, len(th2) + 1
    lik = cell_probabilities(rho, th1, th2)
    density = bvn_density(th1[:, None], th2[None, :], rho)
    padded = np.zeros((k1 + 1, k2 + 1))
    padded[1:k1, 1:k2] = density
    d_rho = padded[1:, 1:] - padded[:-1, 1:] - padded[1:, :-1] + padded[:-1, :-1]
    r = np.sqrt(max(1 - rho * rho, 0.0))
    up1 = np.concatenate([th1, [_BIG]])[:, None]
    lo1 = np.concatenate([[-_BIG], th1])[:, None]
    up2 = np.concatenate([th2, [_BIG]])[None, :]
    lo2 = np.concatenate([[-_BIG], th2])[None, :]

    def edge(z: np.ndarray, other_up: np.ndarray, other_lo: np.ndarray) -> np.ndarray:
        # d pi / d (bound z of one item), the other item's interval held fixed
        if r == 0.0:  # |rho| = 1, as lavaan
            return np.broadcast_to(_pdf(z) * 0.5, (k1, k2))
        return _pdf(z) * (ndtr((other_up - rho * z) / r) - ndtr((other_lo - rho * z) / r))

    y1_up, y1_lo = edge(up1, up2, lo2), edge(lo1, up2, lo2)
    y2_up, y2_lo = edge(up2, up1, lo1), edge(lo2, up1, lo1)
    d_th1 = np.zeros((k1, k2, k1 - 1))
    d_th2 = np.zeros((k1, k2, k2 - 1))
    safe = np.where(lik > 0, lik, np.inf)
    for t in range(k1 - 1):
        d_th1[t, :, t] += y1_up[t, :] / safe[t, :]
        d_th1[t + 1, :, t] -= y1_lo[t + 1, :] / safe[t + 1, :]
    for t in range(k2 - 1):
        d_th2[:, t, t] += y2_up[:, t] / safe[:, t]
        d_th2[:, t + 1, t] -= y2_lo[:, t + 1] / safe[:, t + 1]
    # lavaan drops (sets to 0) the scores of cells with a likelihood below eps^(2/3).
    with np.errstate(divide="ignore", invalid="ignore"):
        s_rho = d_rho / lik
    bad = ~(lik >= np.finfo(float).eps ** (2 / 3)) | ~np.isfinite(s_rho)
    s_rho[bad] = 0.0
    d_th1[bad] = 0.0
    d_th2[bad] = 0.0
    return s_rho, np.nan_to_num(d_th1), np.nan_to_num(d_th2)


def muthen_gamma(data: OrdinalData, corr: np.ndarray) -> np.ndarray:
    """:math:`\\Gamma = N` times the asymptotic covariance of thresholds and correlations.

    Parameters
    ----------
    data : OrdinalData
        The coded items and their thresholds.
    corr : numpy.ndarray
        The polychoric correlations of ``data``.

    Returns
    -------
    numpy.ndarray
        Square, thresholds first (item by item), then the correlations in
        :func:`pair_order`. Equal to lavaan's ``lavInspect(fit, "gamma")``.
    """
    codes, thresholds = data.codes, data.thresholds
    n, p = codes.shape
    th_start = np.concatenate([[0], np.cumsum([len(t) for t in thresholds])])
    n_th = int(th_start[-1])
    pairs = pair_order(p)
    scores = np.zeros((n, n_th + len(pairs)))
    for j in range(p):
        scores[:, th_start[j] : th_start[j + 1]] = _univariate_scores(codes[:, j], thresholds[j])
    a21 = np.zeros((len(pairs), n_th))
    a22 = np.zeros(len(pairs))
    for q, (i, j) in enumerate(pairs):
        th1, th2 = thresholds[i], thresholds[j]
        s_rho, s_th1, s_th2 = _pair_cell_scores(float(corr[i, j]), th1, th2)
        both = (codes[:, i] >= 0) & (codes[:, j] >= 0)
        scores[both, n_th + q] = s_rho[codes[both, i], codes[both, j]]
        freq = cross_table(codes[:, i], codes[:, j], len(th1) + 1, len(th2) + 1)
        weighted = freq * s_rho
        a21[q, th_start[i] : th_start[i + 1]] = np.einsum("ab,abt->t", weighted, s_th1)
        a21[q, th_start[j] : th_start[j + 1]] = np.einsum("ab,abt->t", weighted, s_th2)
        a22[q] = np.sum(weighted * s_rho)
    inner = scores.T @ scores
    a11_inv = np.zeros((n_th, n_th))
    for j in range(p):
        block = slice(th_start[j], th_start[j + 1])
        a11_inv[block, block] = np.linalg.inv(inner[block, block])
    b_inv = np.zeros_like(inner)
    b_inv[:n_th, :n_th] = a11_inv
    # A zero A22 entry (a degenerate pair) gets a generalized inverse, as in lavaan.
    a22_inv = np.divide(1.0, a22, out=np.zeros_like(a22), where=a22 > 0)
    b_inv[n_th:, :n_th] = -(a21 @ a11_inv) * a22_inv[:, None]
    b_inv[n_th:, n_th:] = np.diag(a22_inv)
    return n * (b_inv @ inner @ b_inv.T)
