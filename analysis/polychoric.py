"""Polychoric and tetrachoric correlations, the two-step way lavaan computes them.

Each ordered item :math:`y_j` with categories :math:`1..K_j` is a cut normal variable:
:math:`y_j = c` when :math:`\\tau_{j,c-1} < y_j^* \\le \\tau_{j,c}`, with
:math:`y^* \\sim N(0, 1)`. Step 1 estimates the thresholds of each item from its own
answers, :math:`\\hat\\tau_{j,c} = \\Phi^{-1}(\\text{share of answers} \\le c)`. Step 2
estimates each correlation :math:`\\rho_{jk}` by maximum likelihood from the two items'
cross table, holding the thresholds fixed:

.. math::

    \\ell(\\rho) = \\sum_{a,b} n_{ab} \\log \\pi_{ab}(\\rho), \\qquad
    \\pi_{ab} = \\Phi_2(\\tau_{j,a}, \\tau_{k,b}; \\rho) - \\Phi_2(\\tau_{j,a-1}, \\tau_{k,b};
    \\rho) - \\Phi_2(\\tau_{j,a}, \\tau_{k,b-1}; \\rho) + \\Phi_2(\\tau_{j,a-1},
    \\tau_{k,b-1}; \\rho).

Missing answers are handled pairwise: thresholds use every answer to the item, a
correlation every respondent who answered both items (lavaan ``missing = "pairwise"``).
Two-category items give tetrachoric correlations. As in lavaan 0.6, a 2 x 2 table with one
empty cell gets 0.5 added to it (and to the opposite corner, 0.5 taken from the other two,
so the margins stay), and two empty cells give a correlation of +1 or -1.

:func:`ordinal_moments` adds the asymptotic covariance matrix of the thresholds and
correlations (Muthén 1984), which the WLSMV estimator needs (:mod:`analysis.ordinal_acov`).

References
----------
Olsson, U. (1979). Maximum likelihood estimation of the polychoric correlation
coefficient. *Psychometrika*, 44(4), 443-460.

Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software*, 48(2), 1-36.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import ndtri

from analysis.bivariate_normal import bvn_cdf

__all__ = [
    "OrdinalData",
    "cell_probabilities",
    "ordinal_data",
    "pair_correlation",
    "polychoric",
]


@dataclass(frozen=True)
class OrdinalData:
    """Ordered items coded 0..K-1 (-1 = missing), with their thresholds.

    Attributes
    ----------
    items : list
        Column labels.
    codes : numpy.ndarray of int, shape (n, p)
        Category index per answer (the sorted distinct answers), -1 when missing.
    levels : list of numpy.ndarray
        The answer values behind the codes, per item.
    thresholds : list of numpy.ndarray
        :math:`\\hat\\tau_j` per item (length :math:`K_j - 1`).
    """

    items: list[Hashable]
    codes: np.ndarray
    levels: list[np.ndarray]
    thresholds: list[np.ndarray]

    @property
    def n(self) -> int:
        """Number of respondents (rows with at least one answer)."""
        return int(self.codes.shape[0])


def ordinal_data(frame: pd.DataFrame) -> OrdinalData:
    """Code the columns of ``frame`` as ordered items and estimate their thresholds.

    Rows without any answer are dropped (lavaan does the same). Each column's categories
    are its distinct non-missing values, in order.

    Raises
    ------
    ValueError
        If a column has fewer than two distinct answers.
    """
    values = frame.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    values = values[~np.isnan(values).all(axis=1)]
    codes = np.full(values.shape, -1, dtype=int)
    levels: list[np.ndarray] = []
    thresholds: list[np.ndarray] = []
    for j, item in enumerate(frame.columns):
        column = values[:, j]
        answered = ~np.isnan(column)
        item_levels, item_codes = np.unique(column[answered], return_inverse=True)
        if len(item_levels) < 2:
            raise ValueError(f"Item {item!r} needs at least two different answers.")
        codes[answered, j] = item_codes
        counts = np.bincount(item_codes, minlength=len(item_levels))
        levels.append(item_levels)
        thresholds.append(ndtri(np.cumsum(counts)[:-1] / counts.sum()))
    return OrdinalData(list(frame.columns), codes, levels, thresholds)


def cell_probabilities(rho: float, th1: np.ndarray, th2: np.ndarray) -> np.ndarray:
    """The probabilities :math:`\\pi_{ab}` of a cross table, shape ``(K1, K2)``."""
    edges1 = np.concatenate([[-np.inf], th1, [np.inf]])
    edges2 = np.concatenate([[-np.inf], th2, [np.inf]])
    cdf = bvn_cdf(edges1[:, None], edges2[None, :], rho)
    return cdf[1:, 1:] - cdf[:-1, 1:] - cdf[1:, :-1] + cdf[:-1, :-1]


def cross_table(codes1: np.ndarray, codes2: np.ndarray, k1: int, k2: int) -> np.ndarray:
    """Counts of the answer pairs where both items are answered."""
    both = (codes1 >= 0) & (codes2 >= 0)
    flat = codes1[both] * k2 + codes2[both]
    return np.bincount(flat, minlength=k1 * k2).reshape(k1, k2).astype(float)


def _zero_cells(freq: np.ndarray) -> float | np.ndarray:
    """lavaan's treatment of empty cells in 2 x 2 tables (``zero.add = c(0.5, 0)``).

    Returns the correlation itself when two cells are empty, else the adjusted table.
    """
    if freq.shape != (2, 2):
        return freq
    empty = np.flatnonzero(freq.ravel() == 0)
    if len(empty) == 2:
        return 1.0 if freq[0, 0] > 0 else -1.0
    if len(empty) == 1:
        freq = freq.copy()
        sign = 1.0 if empty[0] in (0, 3) else -1.0
        freq[0, 0] += sign * 0.5
        freq[1, 1] += sign * 0.5
        freq[0, 1] -= sign * 0.5
        freq[1, 0] -= sign * 0.5
    return freq


def pair_correlation(freq: np.ndarray, th1: np.ndarray, th2: np.ndarray) -> float:
    """Maximum-likelihood polychoric correlation of one cross table (thresholds fixed)."""
    adjusted = _zero_cells(freq)
    if isinstance(adjusted, float):
        return adjusted
    if freq.shape == (2, 2) and adjusted[0, 0] * adjusted[1, 1] == adjusted[0, 1] * adjusted[1, 0]:
        return 0.0

    def minus_loglik(rho: float) -> float:
        probs = np.maximum(cell_probabilities(rho, th1, th2), 1e-300)
        return -float(np.sum(adjusted * np.log(probs)))

    result = optimize.minimize_scalar(
        minus_loglik, bounds=(-0.999, 0.999), method="bounded", options={"xatol": 1e-10}
    )
    return float(result.x)


def correlation_matrix(data: OrdinalData) -> np.ndarray:
    """All pairwise polychoric correlations of ``data``."""
    p = len(data.items)
    corr = np.eye(p)
    for j in range(p):
        for k in range(j + 1, p):
            th1, th2 = data.thresholds[j], data.thresholds[k]
            freq = cross_table(data.codes[:, j], data.codes[:, k], len(th1) + 1, len(th2) + 1)
            if freq.sum() == 0:
                raise ValueError(
                    f"No respondent answered both {data.items[j]!r} and {data.items[k]!r}."
                )
            corr[j, k] = corr[k, j] = pair_correlation(freq, th1, th2)
    return corr


def polychoric(frame: pd.DataFrame) -> pd.DataFrame:
    """Polychoric (tetrachoric for yes/no items) correlation matrix, pairwise complete.

    Parameters
    ----------
    frame : pandas.DataFrame
        One column per ordered item (numbers; the order of the distinct answers is the
        order of the categories). Missing answers are NaN.

    Returns
    -------
    pandas.DataFrame
        The correlations, index and columns the item names. Equal to lavaan's
        ``lavCor(frame, ordered = names(frame), missing = "pairwise")``.

    Examples
    --------
    >>> polychoric(df[["t1", "t2", "t3"]])  # doctest: +SKIP
    """
    data = ordinal_data(frame)
    return pd.DataFrame(correlation_matrix(data), index=frame.columns, columns=frame.columns)
