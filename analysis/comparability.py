"""Comparability gates: may an index's means be compared across these groups?

A change between waves or a difference between treated and comparison areas is only a
change in what residents feel if the questions measure the same thing in both groups.
Each index is checked on its own items (a one-factor model), across exactly the groups
compared, by multi-group CFA (:func:`analysis.measurement_invariance`):

1. **Metric** invariance (equal loadings) must hold: otherwise *not comparable*.
2. **Scalar** invariance (equal intercepts too) holds: *comparable*.
3. Otherwise, **partial** scalar invariance is searched for (Byrne, Shavelson & Muthen,
   1989): the intercept whose release lowers the chi-square most is freed, one at a time,
   until the model holds against the metric model. Fewer than half of the items may be
   freed, and at least two keep equal intercepts (Steenkamp & Baumgartner, 1998): the
   published index averages all its items, so a majority must anchor it. It holds:
   *comparable, partially*, with the freed items named. It does not: *not comparable*.

A level holds by the same rules as everywhere in the report: CFI drops by at most .010
and RMSEA rises by at most .015 (Cheung & Rensvold, 2002; Chen, 2007). An index with
fewer than three items, or a group with fewer than :data:`MIN_GROUP_N` complete answers
to its items, cannot be checked (*unchecked*, with the reason): the report then shows no
number for the comparison.

With ``estimator="WLSMV"`` (an index whose items are all ordered categories: the report
decides as for its CFA, :func:`analysis.report.fit.cfa_estimator`) the models are
lavaan's for ordered items (:mod:`analysis.ordinal_groups`): *scalar* means equal
loadings and thresholds, partial invariance frees the thresholds of the named items, the
fit indices are the scaled ones, and missing answers are handled pairwise, so a group
needs :data:`MIN_GROUP_N` respondents who answered at least one of the items. An answer
category no one chose in some group is merged with its neighbour towards the middle, in
every group (named in the reason and in ``collapsed``). A level or partial step fails
only when the cut-offs are exceeded *and* the scaled difference test (against the
previous level; partial steps against the metric model) is significant at
:data:`analysis.verdicts.WLSMV_DIFFERENCE_ALPHA` (.05): the scaled changes of small
ordinal models alone withheld 15% of invariant indices in simulation, 2-5% with the test
(``bench/bench_gates.py``).

References
----------
Byrne, B. M., Shavelson, R. J., & Muthen, B. (1989). Testing for the equivalence of
factor covariance and mean structures: The issue of partial measurement invariance.
*Psychological Bulletin*, 105(3), 456-466.

Steenkamp, J.-B. E. M., & Baumgartner, H. (1998). Assessing measurement invariance in
cross-national consumer research. *Journal of Consumer Research*, 25(1), 78-90.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis.cfa import loading_pattern
from analysis.invariance import (
    measurement_invariance,
    ordinal_invariance_table,
    partial_scalar_fit,
)
from analysis.ordinal_invariance import difference_test, fit_ordinal_level, ordinal_groups
from analysis.threads import one_blas_thread
from analysis.verdicts import WLSMV_DIFFERENCE_ALPHA, level_holds

__all__ = ["MIN_GROUP_N", "STATUSES", "index_comparability"]

#: Least complete answers to an index's items, per group, to check comparability.
MIN_GROUP_N = 50
#: What a check can conclude; only the first two let a comparison be published.
STATUSES = ("comparable", "partial", "not_comparable", "unchecked")


@one_blas_thread
def index_comparability(
    data: pd.DataFrame,
    items: Sequence[Hashable],
    group: pd.Series,
    *,
    what: str,
    min_n: int = MIN_GROUP_N,
    estimator: str = "ML",
    alpha: float | None = WLSMV_DIFFERENCE_ALPHA,
) -> dict[str, Any]:
    """Whether the index on ``items`` is comparable across the groups in ``group``.

    Parameters
    ----------
    data : pandas.DataFrame
        Responses with the item columns (reverse-coded or not: invariance does not care).
    items : sequence of column labels
        The index's items.
    group : pandas.Series
        The group of each response (aligned with ``data``); missing values are left out.
    what : str
        The groups compared, for the texts ("waves 1. Baseline and 2. Follow-up").
    min_n : int
        Least complete answers per group (``"ML"``), or respondents answering at least
        one item (``"WLSMV"``).
    estimator : {"ML", "WLSMV"}, default "ML"
        ``"WLSMV"`` for ordered items (module notes).
    alpha : float or None, default .05
        WLSMV only: a level fails only when the CFI/RMSEA cut-offs are exceeded and the
        scaled difference test is significant at ``alpha`` (``None``: cut-offs alone,
        the ML rule).

    Returns
    -------
    dict
        ``status`` (one of :data:`STATUSES`), ``reason`` (a sentence), ``freed`` (items
        whose intercepts were freed), ``delta_cfi``/``delta_rmsea`` of the last step
        (and its ``delta_pvalue`` by WLSMV), and ``collapsed`` (WLSMV: items whose empty
        answer categories were merged, with the merged answers).
    """
    frame = data[list(items)].apply(pd.to_numeric, errors="coerce")
    frame["_g"] = group.astype("string")
    frame = frame[frame["_g"].notna()]
    answered = frame[list(items)].notna()
    counted = answered.any(axis=1) if estimator == "WLSMV" else answered.all(axis=1)
    sizes = counted.groupby(frame["_g"]).sum()
    if len(items) < 3:
        return _entry("unchecked", f"{len(items)} items are too few to check {what}.")
    if len(sizes) < 2:
        return _entry("unchecked", f"Only one group among {what}: nothing to compare.")
    small = [f"{g} (n = {int(n)})" for g, n in sizes.items() if n < min_n]
    if small:
        return _entry(
            "unchecked",
            f"Too few {'answers' if estimator == 'WLSMV' else 'complete answers'} to "
            f"check {what}: {', '.join(small)}; "
            f"at least {min_n} per group are needed.",
        )
    frame["_g"] = frame["_g"].astype(str)
    model = {"index": list(items)}
    alpha = alpha if estimator == "WLSMV" else None
    try:
        table, fit_partial = _checks(frame, model, estimator, alpha)
    except (ValueError, ArithmeticError, np.linalg.LinAlgError) as error:
        return _entry("unchecked", f"The check across {what} failed: {error}")
    entry = _judge(table, fit_partial, list(items), what, alpha)
    if estimator == "WLSMV":
        entry["collapsed"] = collapsed = table.attrs["collapsed"]
        if collapsed:
            merged = "; ".join(f"{item}: {', '.join(m)}" for item, m in collapsed.items())
            entry["reason"] += (
                f" Answers no one chose in one of the groups were merged with the next "
                f"answer towards the middle, in every group ({merged})."
            )
    return entry


_Partial = Callable[[list[Hashable]], dict[str, Any]]


def _judge(
    table: pd.DataFrame,
    fit_partial: _Partial,
    items: list[Hashable],
    what: str,
    alpha: float | None,
) -> dict[str, Any]:
    """The status from the invariance table, searching partial invariance if needed."""
    metric, scalar = _level(table, "metric"), _level(table, "scalar")
    if not metric["holds"]:
        return _entry(
            "not_comparable",
            f"The questions weigh differently across {what} (loadings differ: CFI "
            f"{metric['delta_cfi']:+.3f}, RMSEA {metric['delta_rmsea']:+.3f}).",
            metric,
        )
    if scalar["holds"]:
        return _entry("comparable", f"Scalar invariance holds across {what}.", scalar)
    ordinal = table.attrs.get("estimator") == "WLSMV"
    parameters = "thresholds" if ordinal else "intercepts"
    return _partial(fit_partial, items, metric, what, (parameters, alpha))


def _checks(
    frame: pd.DataFrame, model: dict[str, list[Hashable]], estimator: str, alpha: float | None
) -> tuple[pd.DataFrame, _Partial]:
    """The invariance table and a function fitting the scalar model with items freed."""
    items = model["index"]
    if estimator != "WLSMV":

        def fit_ml(freed: list[Hashable]) -> dict[str, Any]:
            return partial_scalar_fit(frame, model, "_g", freed)

        return measurement_invariance(frame, model, "_g"), fit_ml
    # The groups' polychorics and their Gamma are computed once for all the models.
    prepared = ordinal_groups(frame, items, "_g", loading_pattern(model, frame), len(items) + 1)
    metric_fit = fit_ordinal_level(prepared, "metric")[1]

    def fit_wlsmv(freed: list[Hashable]) -> dict[str, Any]:
        row, fit = fit_ordinal_level(prepared, "scalar", frozenset(items.index(i) for i in freed))
        return {**row, **difference_test(prepared, metric_fit, fit)}

    return ordinal_invariance_table(prepared, alpha=alpha), fit_wlsmv


def _partial(
    fit_partial: _Partial,
    items: list[Hashable],
    metric: pd.Series,
    what: str,
    rule: tuple[str, float | None],
) -> dict[str, Any]:
    """Free intercepts (thresholds for ordered items) one at a time, best first: fewer
    than half, two anchors at least."""
    freed: list[Hashable] = []
    step: dict[str, Any] = {}
    parameters, alpha = rule
    while len(freed) < min((len(items) - 1) // 2, len(items) - 2):
        fits = {item: fit_partial([*freed, item]) for item in items if item not in freed}
        best = min(fits, key=lambda item: fits[item]["chi2"])
        freed.append(best)
        step = fits[best]
        delta_cfi = step["cfi"] - metric["cfi"]
        delta_rmsea = step["rmsea"] - metric["rmsea"]
        step = {**step, "delta_cfi": delta_cfi, "delta_rmsea": delta_rmsea}
        if level_holds(delta_cfi, delta_rmsea, step.get("delta_pvalue"), alpha):
            names = ", ".join(str(item) for item in freed)
            return _entry(
                "partial",
                f"Partial scalar invariance across {what}: the {parameters} of {names} "
                "differ (freed); the other items anchor the comparison.",
                pd.Series(step),
                freed,
            )
    names = ", ".join(str(item) for item in freed) or "its items"
    return _entry(
        "not_comparable",
        f"The answers shift differently across {what} for {names}, beyond what freeing "
        f"a minority of the items' {parameters} can absorb: the index means are not "
        "comparable.",
        pd.Series(step) if step else None,
        freed,
    )


def _level(table: pd.DataFrame, level: str) -> pd.Series:
    row = table.loc[level]
    assert isinstance(row, pd.Series)
    return row


def _entry(
    status: str,
    reason: str,
    row: pd.Series | None = None,
    freed: Sequence[Hashable] = (),
) -> dict[str, Any]:
    out: dict[str, Any] = {"status": status, "reason": reason, "freed": [str(i) for i in freed]}
    if row is not None:
        out["delta_cfi"] = float(row["delta_cfi"])
        out["delta_rmsea"] = float(row["delta_rmsea"])
        if "delta_pvalue" in row and not pd.isna(row["delta_pvalue"]):
            out["delta_pvalue"] = float(row["delta_pvalue"])
    return out
