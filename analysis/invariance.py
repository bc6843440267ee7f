"""Measurement invariance by multi-group confirmatory factor analysis.

Three nested multi-group CFAs. With ``estimator="ML"`` (continuous items) they have a mean
structure and are fitted by maximum likelihood (:mod:`analysis.ml_estimation`), each
identified like lavaan's default (first loading of each construct fixed to 1, factor
variances free in every group):

- **configural**: the same pattern in every group, all parameters free per group,
  latent means 0 (lavaan ``cfa(model, data, group = g)``);
- **metric**: loadings equal across groups (``group.equal = "loadings"``);
- **scalar**: loadings and intercepts equal, latent means free in every group but the
  first (``group.equal = c("loadings", "intercepts")``).

With ``estimator="WLSMV"`` (ordered items: Likert, yes/no) the items are cut latent
normals and the models are lavaan's for ``ordered = TRUE`` with the delta
parameterization: loadings, then loadings and *thresholds* equal, with scale factors and
latent means free in the later groups of the scalar model
(:mod:`analysis.ordinal_groups`). Fit is the scaled-and-shifted chi-square and the scaled
CFI, TLI and RMSEA; nested levels are compared by lavaan's scaled difference test for
WLSMV (``lavTestLRT``, method ``"satorra.2000"``; :mod:`analysis.ordinal_invariance`).
Missing answers are handled pairwise, as in :func:`analysis.fit_cfa`.

A level *holds* when, compared with the previous level, CFI drops by at most
``max_delta_cfi`` (.010) and RMSEA rises by at most ``max_delta_rmsea`` (.015)
(Cheung & Rensvold, 2002; Chen, 2007). By WLSMV a level fails only when those cut-offs
are exceeded *and* the scaled difference test is significant at .05
(:data:`analysis.verdicts.WLSMV_DIFFERENCE_ALPHA`): on their own the scaled changes of
small ordinal models reject invariant data too often (docs/statistics.md). Answer
categories that no one chose in some group are merged with their neighbour towards the
middle (:func:`analysis.ordinal_invariance.collapse_categories`; listed in
``DataFrame.attrs["collapsed"]``). Mean comparisons across the groups are only
meaningful when scalar invariance holds.

References
----------
Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of measurement
invariance. *Structural Equation Modeling*, 14(3), 464-504.

Cheung, G. W., & Rensvold, R. B. (2002). Evaluating goodness-of-fit indexes for testing
measurement invariance. *Structural Equation Modeling*, 9(2), 233-255.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis.cfa import (
    ESTIMATORS,
    baseline_chi2,
    complete_values,
    fit_indices,
    loading_pattern,
    model_items,
)
from analysis.ml_estimation import GroupMoments, build_layout, fit_ml
from analysis.ordinal_invariance import (
    OrdinalGroups,
    difference_test,
    fit_ordinal_level,
    ordinal_groups,
)
from analysis.threads import one_blas_thread
from analysis.verdicts import (
    MAX_DELTA_CFI,
    MAX_DELTA_RMSEA,
    WLSMV_DIFFERENCE_ALPHA,
    level_holds,
)

__all__ = [
    "INVARIANCE_LEVELS",
    "measurement_invariance",
    "ordinal_invariance_table",
    "partial_scalar_fit",
]

#: The levels in order, with the parameters each constrains equal across groups.
INVARIANCE_LEVELS: dict[str, frozenset[str]] = {
    "configural": frozenset(),
    "metric": frozenset({"loadings"}),
    "scalar": frozenset({"loadings", "intercepts"}),
}


_COLUMNS = [
    "chi2", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper",
    "delta_chi2", "delta_df", "delta_pvalue", "delta_cfi", "delta_rmsea", "holds",
    "converged",
]  # fmt: skip


@one_blas_thread
def measurement_invariance(
    data: pd.DataFrame,
    model: Mapping[str, Sequence[Hashable]],
    group: Hashable,
    *,
    estimator: str = "ML",
    max_delta_cfi: float = MAX_DELTA_CFI,
    max_delta_rmsea: float = MAX_DELTA_RMSEA,
    min_group_size: int | None = None,
) -> pd.DataFrame:
    """Test configural, metric and scalar invariance of a CFA across groups.

    Parameters
    ----------
    data : pandas.DataFrame
        Item columns plus the grouping column. Rows without a group are dropped; with
        ``"ML"`` so are rows with a missing item (listwise deletion), with ``"WLSMV"``
        only rows without any answer (pairwise deletion).
    model : mapping of str to sequence of column labels
        Each construct maps to its items (at least 2).
    group : column label
        The grouping column (wave, language, area, ...). Groups are taken in order of
        first appearance; the first is the reference group for latent means.
    estimator : {"ML", "WLSMV"}, default "ML"
        ``"WLSMV"`` treats the items as ordered categories (module notes); the
        ``chi2``, ``cfi``, ``tli``, ``rmsea`` are then lavaan's ``.scaled`` measures and
        ``delta_chi2`` its scaled difference test, and a level also holds when that
        test is not significant at .05. Categories empty in a group are merged with
        their neighbour towards the middle (``attrs["collapsed"]``).
    max_delta_cfi : float, default 0.010
        Largest acceptable drop in CFI from the previous level.
    max_delta_rmsea : float, default 0.015
        Largest acceptable rise in RMSEA from the previous level.
    min_group_size : int, optional
        Groups smaller than this (complete cases under ML, respondents under WLSMV)
        raise ``ValueError``; default: number of items + 1.

    Returns
    -------
    pandas.DataFrame
        Indexed by level (``configural``, ``metric``, ``scalar``), with columns
        ``chi2``, ``df``, ``pvalue``, ``cfi``, ``tli``, ``rmsea``, ``rmsea_ci_lower``,
        ``rmsea_ci_upper``, ``delta_chi2``, ``delta_df``, ``delta_pvalue`` (the
        likelihood-ratio test against the previous level), ``delta_cfi`` and
        ``delta_rmsea`` (this level minus the previous one), ``holds`` (bool; the
        configural level holds by definition here: judge its fit by CFI/RMSEA), and
        ``converged``. The thresholds and groups are in ``DataFrame.attrs``.

    Raises
    ------
    ValueError
        For an invalid model, fewer than two groups, or a group that is too small.

    Notes
    -----
    Reproduces lavaan 0.6's ``cfa(model, data, group = group, group.equal = ...)``
    chi-square and fit indices (likelihood ``"normal"``, covariances with divisor
    :math:`N_g`; the RMSEA is multiplied by :math:`\\sqrt{G}` as lavaan does).
    ``"WLSMV"`` reproduces ``cfa(model, data, group = group, ordered = TRUE,
    estimator = "WLSMV", missing = "pairwise", group.equal = c("loadings",
    "thresholds"))`` and ``lavTestLRT`` (``tests/analysis/test_ordinal_invariance.py``).
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"Unknown estimator {estimator!r}; use one of {ESTIMATORS}.")
    pattern = loading_pattern(model, data)
    items = model_items(model)
    if group not in data.columns:
        raise ValueError(f"Grouping column {group!r} is not in the data.")
    minimum = len(items) + 1 if min_group_size is None else min_group_size
    if estimator == "WLSMV":
        prepared = ordinal_groups(data, items, group, pattern, minimum)
        table = ordinal_invariance_table(prepared, max_delta_cfi, max_delta_rmsea)
        table.attrs["group"] = group
        return table
    labels, moments = _group_moments(data, items, group, minimum)
    table = _ml_table(pattern, moments, max_delta_cfi, max_delta_rmsea)
    table.attrs.update(group=group, groups=[str(label) for label in labels])
    return table


def _ml_table(
    pattern: np.ndarray,
    moments: list[GroupMoments],
    max_delta_cfi: float,
    max_delta_rmsea: float,
) -> pd.DataFrame:
    """The three levels fitted by ML, and the likelihood-ratio tests between them."""
    baseline = baseline_chi2(moments)
    rows = []
    previous = None
    for level, equal in INVARIANCE_LEVELS.items():
        row = {"level": level, **_fit_level(pattern, moments, equal, baseline)}
        row.update(_change_from(previous, row, max_delta_cfi, max_delta_rmsea))
        rows.append(row)
        previous = row
    table = pd.DataFrame(rows).set_index("level")[_COLUMNS]
    table.attrs.update(
        group_sizes=[mo.n for mo in moments],
        max_delta_cfi=max_delta_cfi,
        max_delta_rmsea=max_delta_rmsea,
        estimator="ML",
    )
    return table


def ordinal_invariance_table(
    data: OrdinalGroups,
    max_delta_cfi: float = MAX_DELTA_CFI,
    max_delta_rmsea: float = MAX_DELTA_RMSEA,
    alpha: float | None = WLSMV_DIFFERENCE_ALPHA,
) -> pd.DataFrame:
    """The table of :func:`measurement_invariance` for ordered items already grouped
    (:func:`analysis.ordinal_invariance.ordinal_groups`), by WLSMV.

    A level fails only when the CFI/RMSEA cut-offs are exceeded and the scaled
    difference test is significant at ``alpha`` (``None``: the cut-offs alone;
    :func:`analysis.verdicts.level_holds`)."""
    rows = []
    previous: dict[str, Any] | None = None
    previous_fit = None
    for level in INVARIANCE_LEVELS:
        row, fit = fit_ordinal_level(data, level)
        row = {"level": level, **row}
        row.update(_change_from(previous, row, max_delta_cfi, max_delta_rmsea))
        if previous is not None and previous_fit is not None:
            row.update(difference_test(data, previous_fit, fit))
            holds = level_holds(
                row["delta_cfi"], row["delta_rmsea"], row["delta_pvalue"], alpha,
                max_delta_cfi, max_delta_rmsea,
            )  # fmt: skip
            row["holds"] = bool(previous["holds"] and holds)
        rows.append(row)
        previous, previous_fit = row, fit
    table = pd.DataFrame(rows).set_index("level")[_COLUMNS]
    table.attrs.update(
        groups=[str(label) for label in data.labels],
        group_sizes=list(data.sizes),
        collapsed=dict(data.collapsed),
        max_delta_cfi=max_delta_cfi,
        max_delta_rmsea=max_delta_rmsea,
        difference_alpha=alpha,
        estimator="WLSMV",
    )
    return table


@one_blas_thread
def partial_scalar_fit(
    data: pd.DataFrame,
    model: Mapping[str, Sequence[Hashable]],
    group: Hashable,
    free_items: Sequence[Hashable],
    *,
    estimator: str = "ML",
    min_group_size: int | None = None,
) -> dict[str, Any]:
    """Fit of the scalar model with the intercepts of ``free_items`` free in every group.

    Partial scalar invariance (Byrne, Shavelson & Muthen, 1989): lavaan's
    ``group.equal = c("loadings", "intercepts"), group.partial = c("x3~1", ...)``.
    With ``estimator="WLSMV"`` the thresholds of ``free_items`` are free instead
    (``group.equal = c("loadings", "thresholds"), group.partial = c("x3|t1", "x3|t2",
    ...)``; their scale factors stay free in the later groups, as in lavaan).
    Returns ``chi2``, ``df``, ``pvalue``, ``cfi``, ``tli``, ``rmsea`` (with its interval)
    and ``converged``, as the rows of :func:`measurement_invariance`.
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"Unknown estimator {estimator!r}; use one of {ESTIMATORS}.")
    pattern = loading_pattern(model, data)
    items = model_items(model)
    absent = [item for item in free_items if item not in items]
    if absent:
        raise ValueError(f"Item(s) not in the model: {absent}.")
    minimum = len(items) + 1 if min_group_size is None else min_group_size
    if estimator == "WLSMV":
        prepared = ordinal_groups(data, items, group, pattern, minimum)
        free = frozenset(items.index(item) for item in free_items)
        return fit_ordinal_level(prepared, "scalar", free)[0]
    _labels, moments = _group_moments(data, items, group, minimum)
    free = frozenset(items.index(item) for item in free_items)
    return _fit_level(pattern, moments, INVARIANCE_LEVELS["scalar"], baseline_chi2(moments), free)


def _fit_level(
    pattern: np.ndarray,
    moments: list[GroupMoments],
    equal: frozenset[str],
    baseline: tuple[float, int],
    free_intercepts: frozenset[int] = frozenset(),
) -> dict[str, Any]:
    """Fit the multi-group model with ``equal`` parameters held equal; its fit indices."""
    layout = build_layout(
        pattern,
        len(moments),
        identification="marker",
        mean_structure=True,
        equal=equal,
        free_intercepts=free_intercepts,
    )
    fit = fit_ml(layout, moments)
    return {
        "chi2": fit.chi2,
        "df": fit.df,
        "pvalue": float(stats.chi2.sf(fit.chi2, fit.df)),
        **fit_indices(fit.chi2, fit.df, fit.n, baseline, n_groups=len(moments)),
        "converged": fit.converged,
    }


def _group_moments(
    data: pd.DataFrame, items: list[Hashable], group: Hashable, minimum: int
) -> tuple[list[Any], list[GroupMoments]]:
    """The groups in order of appearance and the moments of their complete cases.

    Raises
    ------
    ValueError
        If there are fewer than 2 groups or a group has fewer than ``minimum`` cases.
    """
    present = data.dropna(subset=[group])
    labels = list(pd.unique(present[group]))
    if len(labels) < 2:
        raise ValueError(f"Column {group!r} has {len(labels)} group(s); need at least 2.")
    moments = []
    for label in labels:
        values = complete_values(present.loc[present[group] == label], items)
        if values.shape[0] < minimum:
            raise ValueError(
                f"Group {label!r} has {values.shape[0]} complete cases; need {minimum}."
            )
        moments.append(GroupMoments.from_array(values))
    return labels, moments


def _change_from(
    previous: dict[str, Any] | None,
    row: dict[str, Any],
    max_delta_cfi: float,
    max_delta_rmsea: float,
) -> dict[str, Any]:
    """The change in fit from the previous level, and whether this level holds."""
    if previous is None:
        return dict(
            delta_chi2=np.nan, delta_df=np.nan, delta_pvalue=np.nan,
            delta_cfi=np.nan, delta_rmsea=np.nan, holds=True,
        )  # fmt: skip
    delta_chi2 = row["chi2"] - previous["chi2"]
    delta_df = row["df"] - previous["df"]
    delta_cfi = row["cfi"] - previous["cfi"]
    delta_rmsea = row["rmsea"] - previous["rmsea"]
    return dict(
        delta_chi2=delta_chi2,
        delta_df=delta_df,
        delta_pvalue=float(stats.chi2.sf(delta_chi2, delta_df)),
        delta_cfi=delta_cfi,
        delta_rmsea=delta_rmsea,
        holds=bool(
            previous["holds"] and -delta_cfi <= max_delta_cfi and delta_rmsea <= max_delta_rmsea
        ),
    )
