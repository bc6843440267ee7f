"""Measurement invariance by multi-group confirmatory factor analysis.

Three nested multi-group CFAs with a mean structure, fitted by maximum likelihood
(:mod:`analysis.ml_estimation`), each identified like lavaan's default (first loading of
each construct fixed to 1, factor variances free in every group):

- **configural**: the same pattern in every group, all parameters free per group,
  latent means 0 (lavaan ``cfa(model, data, group = g)``);
- **metric**: loadings equal across groups (``group.equal = "loadings"``);
- **scalar**: loadings and intercepts equal, latent means free in every group but the
  first (``group.equal = c("loadings", "intercepts")``).

A level *holds* when, compared with the previous level, CFI drops by at most
``max_delta_cfi`` (.010) and RMSEA rises by at most ``max_delta_rmsea`` (.015)
(Cheung & Rensvold, 2002; Chen, 2007). Mean comparisons across the groups are only
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

from analysis.cfa import baseline_chi2, complete_values, fit_indices, loading_pattern, model_items
from analysis.ml_estimation import GroupMoments, build_layout, fit_ml
from analysis.threads import one_blas_thread
from analysis.verdicts import MAX_DELTA_CFI, MAX_DELTA_RMSEA

__all__ = ["INVARIANCE_LEVELS", "measurement_invariance", "partial_scalar_fit"]

#: The levels in order, with the parameters each constrains equal across groups.
INVARIANCE_LEVELS: dict[str, frozenset[str]] = {
    "configural": frozenset(),
    "metric": frozenset({"loadings"}),
    "scalar": frozenset({"loadings", "intercepts"}),
}


@one_blas_thread
def measurement_invariance(
    data: pd.DataFrame,
    model: Mapping[str, Sequence[Hashable]],
    group: Hashable,
    *,
    max_delta_cfi: float = MAX_DELTA_CFI,
    max_delta_rmsea: float = MAX_DELTA_RMSEA,
    min_group_size: int | None = None,
) -> pd.DataFrame:
    """Test configural, metric and scalar invariance of a CFA across groups.

    Parameters
    ----------
    data : pandas.DataFrame
        Item columns plus the grouping column. Rows with a missing item or group are
        dropped (listwise deletion).
    model : mapping of str to sequence of column labels
        Each construct maps to its items (at least 2).
    group : column label
        The grouping column (wave, language, area, ...). Groups are taken in order of
        first appearance; the first is the reference group for latent means.
    max_delta_cfi : float, default 0.010
        Largest acceptable drop in CFI from the previous level.
    max_delta_rmsea : float, default 0.015
        Largest acceptable rise in RMSEA from the previous level.
    min_group_size : int, optional
        Groups smaller than this raise ``ValueError``; default: number of items + 1.

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
    """
    pattern = loading_pattern(model, data)
    items = model_items(model)
    if group not in data.columns:
        raise ValueError(f"Grouping column {group!r} is not in the data.")
    minimum = len(items) + 1 if min_group_size is None else min_group_size
    labels, moments = _group_moments(data, items, group, minimum)
    baseline = baseline_chi2(moments)
    rows = []
    previous = None
    for level, equal in INVARIANCE_LEVELS.items():
        row = {"level": level, **_fit_level(pattern, moments, equal, baseline)}
        row.update(_change_from(previous, row, max_delta_cfi, max_delta_rmsea))
        rows.append(row)
        previous = row
    columns = [
        "chi2", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper",
        "delta_chi2", "delta_df", "delta_pvalue", "delta_cfi", "delta_rmsea", "holds",
        "converged",
    ]  # fmt: skip
    table = pd.DataFrame(rows).set_index("level")[columns]
    table.attrs.update(
        group=group,
        groups=[str(label) for label in labels],
        group_sizes=[mo.n for mo in moments],
        max_delta_cfi=max_delta_cfi,
        max_delta_rmsea=max_delta_rmsea,
    )
    return table


@one_blas_thread
def partial_scalar_fit(
    data: pd.DataFrame,
    model: Mapping[str, Sequence[Hashable]],
    group: Hashable,
    free_items: Sequence[Hashable],
    *,
    min_group_size: int | None = None,
) -> dict[str, Any]:
    """Fit of the scalar model with the intercepts of ``free_items`` free in every group.

    Partial scalar invariance (Byrne, Shavelson & Muthen, 1989): lavaan's
    ``group.equal = c("loadings", "intercepts"), group.partial = c("x3~1", ...)``.
    Returns ``chi2``, ``df``, ``pvalue``, ``cfi``, ``tli``, ``rmsea`` (with its interval)
    and ``converged``, as the rows of :func:`measurement_invariance`.
    """
    pattern = loading_pattern(model, data)
    items = model_items(model)
    absent = [item for item in free_items if item not in items]
    if absent:
        raise ValueError(f"Item(s) not in the model: {absent}.")
    minimum = len(items) + 1 if min_group_size is None else min_group_size
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
