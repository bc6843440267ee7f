"""Measurement invariance of ordered items: the WLSMV side of :mod:`analysis.invariance`.

Fits lavaan's configural, metric and scalar models for ordered items
(:mod:`analysis.ordinal_groups`) and their scaled fit, and compares nested models by the
scaled-and-shifted difference test lavaan's ``lavTestLRT`` uses for WLSMV
(``method = "satorra.2000"``; Satorra, 2000, with Asparouhov & Muthén's 2006
scaled-and-shifted correction). With :math:`M_1` the less restricted model,
:math:`\\Delta_1` and :math:`\\Delta_0` the Jacobians of the two models (each at its own
estimates), :math:`A` a basis of the orthogonal complement of
:math:`\\Delta_1^+ \\Delta_0` (the constraints that turn :math:`M_1` into :math:`M_0`),
:math:`P = \\Delta_1^\\top V \\Delta_1` and
:math:`K = \\sum_g f_g \\Delta_{1g}^\\top W_g \\Gamma_g W_g \\Delta_{1g}`:

.. math::

    M = P^{-1} A^\\top (A P^{-1} A^\\top)^{+} A P^{-1}, \\quad
    a = \\sqrt{m / \\operatorname{tr}((MK)^2)}, \\quad
    \\bar T_d = a (T_0 - T_1) + m - a \\operatorname{tr}(MK),

referred to :math:`\\chi^2_m`, :math:`m = df_0 - df_1`, where :math:`T_0, T_1` are the
unscaled statistics.

References
----------
Asparouhov, T., & Muthén, B. (2006). Robust chi square difference testing with mean
and variance adjusted test statistics. Mplus Web Notes 10.

Satorra, A. (2000). Scaled and adjusted restricted tests in multi-sample analysis of
moment structures. In R. D. H. Heijmans et al. (Eds.), *Innovations in multivariate
statistical analysis* (pp. 233-247). Kluwer.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, stats

from analysis.cfa import fit_indices
from analysis.ordinal_groups import GroupFit, GroupStatistics, Layout, fit_groups, group_statistics
from analysis.polychoric import OrdinalData
from analysis.wlsmv import scaled_shifted

__all__ = [
    "OrdinalGroups",
    "collapse_categories",
    "difference_test",
    "fit_ordinal_level",
    "ordinal_groups",
]


class OrdinalGroups:
    """The groups' sample statistics, and what every model fitted to them shares."""

    def __init__(
        self,
        pattern: np.ndarray,
        labels: list[Any],
        groups: list[GroupStatistics],
        collapsed: dict[str, list[str]] | None = None,
    ) -> None:
        self.pattern = pattern
        #: Items whose empty categories were merged: item -> the merged answers
        #: ("9 and 10"), the same in every group.
        self.collapsed = collapsed or {}
        self.labels = labels
        self.groups = groups
        self.sizes = [gs.n for gs in groups]
        n = sum(self.sizes)
        self.fractions = np.array(self.sizes) / n
        self.weights = np.concatenate(
            [f * gs.weights for f, gs in zip(self.fractions, groups, strict=True)]
        )
        self.gamma = linalg.block_diag(
            *[gs.gamma / f for f, gs in zip(self.fractions, groups, strict=True)]
        )
        self.n_thresholds = [len(t) for t in groups[0].data.thresholds]
        self.baseline = self._baseline()

    def _baseline(self) -> tuple[float, int]:
        """The scaled statistic and df of the independence model (thresholds free)."""
        n_th = sum(self.n_thresholds)
        chi2, df, blocks = 0.0, 0, []
        for gs in self.groups:
            r = gs.stats[n_th:]
            chi2 += (gs.n - 1) * float(np.sum(gs.weights[n_th:] * r**2))
            df += len(r)
            blocks.append(np.vstack([np.eye(n_th), np.zeros((len(r), n_th))]))
        scaled, _, _ = scaled_shifted(
            chi2, df, self.weights, linalg.block_diag(*blocks), self.gamma
        )
        return scaled, df

    def scaled(self, fit: GroupFit) -> tuple[float, float, float]:
        """lavaan's scaled-and-shifted statistic, scaling factor and shift of ``fit``."""
        if fit.df <= 0:
            return fit.chi2, np.nan, np.nan
        return scaled_shifted(fit.chi2, fit.df, self.weights, np.vstack(fit.jacobians), self.gamma)


def ordinal_groups(
    frame: pd.DataFrame,
    items: Sequence[Hashable],
    group: Hashable,
    pattern: np.ndarray,
    minimum: int,
) -> OrdinalGroups:
    """Code the items of every group on the categories seen in all of ``frame``.

    Groups are taken in order of first appearance; rows without a group or without any
    answer are left out (lavaan's pairwise deletion keeps all the others). An answer
    category that no one chose in some group is merged with its neighbour towards the
    middle of the scale, the same in every group (:func:`collapse_categories`); the
    merges are in ``OrdinalGroups.collapsed``.

    Raises
    ------
    ValueError
        With fewer than two groups, a group with fewer than ``minimum`` respondents, or
        an item left with fewer than two categories chosen in every group.
    """
    present = frame.dropna(subset=[group])
    labels = list(pd.unique(present[group]))
    if len(labels) < 2:
        raise ValueError(f"Column {group!r} has {len(labels)} group(s); need at least 2.")
    values = present[list(items)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    levels = [np.unique(column[~np.isnan(column)]) for column in values.T]
    for item, level in zip(items, levels, strict=True):
        if len(level) < 2:
            raise ValueError(f"Item {item!r} needs at least two different answers.")
    blocks = []
    for label in labels:
        rows = values[(present[group] == label).to_numpy()]
        rows = rows[~np.isnan(rows).all(axis=1)]
        if rows.shape[0] < minimum:
            raise ValueError(f"Group {label!r} has {rows.shape[0]} respondents; need {minimum}.")
        blocks.append(rows)
    bins, collapsed = [], {}
    for j, (item, level) in enumerate(zip(items, levels, strict=True)):
        counts = np.array([_counts(rows[:, j], level) for rows in blocks])
        merged = collapse_categories(counts)
        if len(merged) < 2:
            raise ValueError(
                f"Item {item!r} has fewer than two answers chosen in every group: its "
                "thresholds cannot be compared across the groups."
            )
        bins.append(np.array([b[0] for b in merged]))
        joined = [" and ".join(f"{level[k]:g}" for k in b) for b in merged if len(b) > 1]
        if joined:
            collapsed[str(item)] = joined
    groups = [group_statistics(_code(rows, list(items), levels, bins)) for rows in blocks]
    return OrdinalGroups(pattern, labels, groups, collapsed)


def collapse_categories(counts: np.ndarray) -> list[list[int]]:
    """Merge categories that no one chose in some group (rows of ``counts``, one column
    per category in order) into their neighbour towards the middle of the scale.

    The standard remedy for empty cells in multi-group ordinal models (Rutkowski,
    Svetina & Liaw, 2019): the same recoding in every group, so that every group has
    every threshold. A bin is merged with its neighbour nearer the middle of the
    current bins; a bin in the middle merges with its smaller neighbour. Returns the
    bins, each a list of the original category indices; one bin means the item cannot
    be used.
    """
    bins = [[k] for k in range(counts.shape[1])]
    totals = [counts[:, [k]].sum(axis=1) for k in range(counts.shape[1])]
    while len(bins) > 1:
        empty = [b for b, t in enumerate(totals) if (t == 0).any()]
        if not empty:
            break
        middle = (len(bins) - 1) / 2
        b = max(empty, key=lambda e: abs(e - middle))  # the outermost empty bin first
        if b < middle:
            other = b + 1
        elif b > middle:
            other = b - 1
        else:
            other = b - 1 if totals[b - 1].sum() <= totals[b + 1].sum() else b + 1
        low, high = min(b, other), max(b, other)
        bins[low : high + 1] = [bins[low] + bins[high]]
        totals[low : high + 1] = [totals[low] + totals[high]]
    return bins


def _counts(column: np.ndarray, level: np.ndarray) -> np.ndarray:
    answered = column[~np.isnan(column)]
    return np.bincount(np.searchsorted(level, answered), minlength=len(level))


def _code(
    rows: np.ndarray, items: list[Hashable], levels: list[np.ndarray], bins: list[np.ndarray]
) -> OrdinalData:
    """Code one group's answers on the merged categories; ``bins[j]`` holds the index of
    the first original category of each merged one."""
    codes = np.full(rows.shape, -1, dtype=int)
    thresholds = []
    kept = []
    for j, level in enumerate(levels):
        answered = ~np.isnan(rows[:, j])
        original = np.searchsorted(level, rows[answered, j])
        codes[answered, j] = np.searchsorted(bins[j], original, side="right") - 1
        counts = np.bincount(codes[answered, j], minlength=len(bins[j]))
        thresholds.append(stats.norm.ppf(np.cumsum(counts)[:-1] / counts.sum()))
        kept.append(level[bins[j]])
    return OrdinalData(items, codes, kept, thresholds)


def fit_ordinal_level(
    data: OrdinalGroups, level: str, free_items: frozenset[int] = frozenset()
) -> tuple[dict[str, Any], GroupFit]:
    """Fit one model; its row of fit statistics (scaled, as lavaan's ``.scaled``)."""
    layout = Layout(data.pattern, data.n_thresholds, len(data.groups), level, free_items)
    fit = fit_groups(layout, data.groups)
    chi2, scaling, shift = data.scaled(fit)
    n_groups = len(data.groups)
    # lavaan's RMSEA for WLS-type estimators uses N - G (its test statistic uses N_g - 1).
    indices = fit_indices(chi2, fit.df, sum(data.sizes) - n_groups, data.baseline, n_groups)
    row = {
        "chi2": chi2,
        "df": fit.df,
        "pvalue": float(stats.chi2.sf(chi2, fit.df)) if fit.df > 0 else np.nan,
        **indices,
        "converged": fit.converged,
        "chi2_unscaled": fit.chi2,
        "scaling_factor": scaling,
        "shift_parameter": shift,
    }
    return row, fit


def difference_test(data: OrdinalGroups, fit1: GroupFit, fit0: GroupFit) -> dict[str, float]:
    """lavaan's ``lavTestLRT(fit1, fit0)`` for WLSMV: ``fit0`` nested in ``fit1``."""
    m = fit0.df - fit1.df
    if m <= 0:
        return {"delta_chi2": fit0.chi2 - fit1.chi2, "delta_df": m, "delta_pvalue": np.nan}
    delta1, delta0 = np.vstack(fit1.jacobians), np.vstack(fit0.jacobians)
    h = np.linalg.pinv(delta1) @ delta0
    a = linalg.null_space(h.T).T
    info = delta1.T @ (data.weights[:, None] * delta1)
    info_inv = np.linalg.inv(info)
    apa = a @ info_inv @ a.T
    empty = (np.abs(apa.sum(axis=0)) < 1e-8) & (np.abs(apa.sum(axis=1)) < 1e-8)
    a = a[~empty]
    middle = info_inv @ a.T @ np.linalg.pinv(a @ info_inv @ a.T) @ a @ info_inv
    k = np.zeros_like(info)
    for f, gs, jac in zip(data.fractions, data.groups, fit1.jacobians, strict=True):
        vp = gs.weights[:, None] * jac
        k += f * vp.T @ gs.gamma @ vp
    mk = middle @ k
    scale = np.sqrt(m / np.sum(mk * mk.T))
    stat = scale * (fit0.chi2 - fit1.chi2) + m - scale * np.trace(mk)
    return {"delta_chi2": float(stat), "delta_df": m, "delta_pvalue": float(stats.chi2.sf(stat, m))}
