"""Change per initiative: weighted wave means, wave-to-wave and within-person change.

All estimators work on a tidy frame with one row per response and a numeric index
column (e.g. a 0-100 POMP score). Means are weighted (Hájek) means

.. math::

    \\bar y_w = \\frac{\\sum_i w_i y_i}{\\sum_i w_i}, \\qquad
    \\widehat{\\mathrm{Var}}(\\bar y_w) = \\frac{G}{G-1}\\sum_{g=1}^{G}
        \\Big(\\sum_{i \\in g} \\frac{w_i (y_i - \\bar y_w)}{\\sum_j w_j}\\Big)^2,

the linearisation variance, with each response its own cluster (:math:`G = n`) unless
clusters are given; a difference adds the influence terms of its parts. Effect sizes
are Cohen's *d* with the pooled (weighted) standard deviation. Difference-in-differences
is in :mod:`analysis.did`.

Disclosure control: any estimate that rests on fewer than ``min_n`` (30) responses is
withheld (NaN) and its ``withheld`` column says why.

References
----------
Lumley, T. (2010). *Complex surveys: A guide to analysis using R*. Wiley (linearisation
variance of ratio means).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "MIN_N",
    "panel_change",
    "wave_change",
    "wave_means",
    "weighted_mean_ci",
]

from analysis.disclosure import MIN_N


def _student_t():
    """SciPy's t distribution, imported on first use (SciPy adds tens of MB to a process)."""
    from scipy import stats

    return stats.t


def withheld_reason(n: int, min_n: int, what: str = "estimate") -> str | None:
    """Why an estimate on ``n`` responses is withheld, or None when ``n >= min_n``."""
    if n < min_n:
        return f"n = {n} < {min_n}: {what} withheld (disclosure control)"
    return None


def estimation_frame(
    data: pd.DataFrame, index: Hashable, weight: Hashable | None, extra: list[Hashable]
) -> pd.DataFrame:
    """Columns ``y`` (the index), ``w`` (weight, 1 without) and ``extra``, complete rows only.

    Raises
    ------
    ValueError
        If a column is missing, a weight is negative, or a wave, area or person column is
        named ``y`` or ``w``.
    """
    columns = [index, *extra] + ([weight] if weight is not None else [])
    absent = [c for c in columns if c not in data.columns]
    if absent:
        raise ValueError(f"Column(s) not in the data: {absent}.")
    clash = [c for c in extra if c in ("y", "w")]
    if clash:
        # They would overwrite the score or the weight here, and the results be silently wrong.
        raise ValueError(f"Rename the column(s) {clash}: 'y' and 'w' are used internally.")
    frame = pd.DataFrame({"y": pd.to_numeric(data[index], errors="coerce")}, index=data.index)
    frame["w"] = 1.0 if weight is None else pd.to_numeric(data[weight], errors="coerce")
    for column in extra:
        frame[column] = data[column]
    frame = frame[frame["y"].notna() & frame["w"].notna()]
    if (frame["w"] < 0).any():
        raise ValueError("Weights must be non-negative.")
    return frame


def weighted_mean_influence(y: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray, float]:
    """Weighted mean, each response's influence on it, and the weighted SD."""
    total = w.sum()
    mean = float((w * y).sum() / total)
    influence = w * (y - mean) / total
    sd = float(np.sqrt((w * (y - mean) ** 2).sum() / total * len(y) / max(len(y) - 1, 1)))
    return mean, influence, sd


def _clustered_variance(influence: np.ndarray, clusters: np.ndarray | None) -> tuple[float, int]:
    if clusters is None:
        g = len(influence)
        sums = influence
    else:
        codes, _ = pd.factorize(clusters)
        sums = np.bincount(codes, weights=influence)
        g = len(sums)
    if g < 2:
        return float("nan"), g
    return float(g / (g - 1) * (sums**2).sum()), g


def weighted_mean_ci(
    values: np.ndarray | pd.Series,
    weights: np.ndarray | pd.Series | None = None,
    clusters: np.ndarray | pd.Series | None = None,
    *,
    level: float = 0.95,
    min_n: int = MIN_N,
) -> dict[str, Any]:
    """Weighted mean with a linearisation (optionally cluster-robust) confidence interval.

    Parameters
    ----------
    values : array-like
        The scores; NaN values are ignored.
    weights : array-like, optional
        Non-negative weights; 1 by default.
    clusters : array-like, optional
        Cluster labels (e.g. area) for a cluster-robust variance.
    level : float, default 0.95
    min_n : int, default 30
        Fewer responses and the estimate is withheld.

    Returns
    -------
    dict
        ``n``, ``mean``, ``se``, ``ci_lower``, ``ci_upper``, ``sd`` and ``withheld``
        (None or the reason).
    """
    y = np.asarray(values, dtype=float)
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=float)
    keep = np.isfinite(y) & np.isfinite(w)
    c = None if clusters is None else np.asarray(clusters)[keep]
    y, w = y[keep], w[keep]
    n = len(y)
    reason = withheld_reason(n, min_n)
    if reason:
        return dict(n=n, mean=np.nan, se=np.nan, ci_lower=np.nan, ci_upper=np.nan,
                    sd=np.nan, withheld=reason)  # fmt: skip
    mean, influence, sd = weighted_mean_influence(y, w)
    variance, g = _clustered_variance(influence, c)
    se = float(np.sqrt(variance))
    crit = _student_t().ppf(0.5 + level / 2, g - 1)
    return dict(n=n, mean=mean, se=se, ci_lower=float(mean - crit * se),
                ci_upper=float(mean + crit * se),
                sd=sd, withheld=None)  # fmt: skip


def wave_means(
    data: pd.DataFrame,
    index: Hashable,
    wave: Hashable,
    *,
    weight: Hashable | None = None,
    cluster: Hashable | None = None,
    by: list[Hashable] | None = None,
    level: float = 0.95,
    min_n: int = MIN_N,
) -> pd.DataFrame:
    """Weighted index mean per wave (and per ``by`` group) with confidence intervals.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per response.
    index : column label
        The index score column.
    wave : column label
        The wave column.
    weight, cluster : column label, optional
        Weights, and clusters for a cluster-robust variance.
    by : list of column labels, optional
        Further grouping (e.g. ``["arm"]`` for treated vs comparison areas).
    level : float, default 0.95
    min_n : int, default 30

    Returns
    -------
    pandas.DataFrame
        One row per group: the grouping columns, ``n``, ``mean``, ``se``,
        ``ci_lower``, ``ci_upper``, ``sd``, ``withheld``.
    """
    keys: list[Hashable] = [*(by or []), wave]
    extra = keys + ([cluster] if cluster is not None else [])
    frame = estimation_frame(data, index, weight, extra)
    rows: list[dict[Hashable, object]] = []
    for values, group in frame.groupby(keys, sort=True, observed=True):
        values = values if isinstance(values, tuple) else (values,)
        labels: dict[Hashable, object] = dict(zip(keys, values, strict=True))
        estimate = weighted_mean_ci(
            group["y"], group["w"], None if cluster is None else group[cluster],
            level=level, min_n=min_n,
        )  # fmt: skip
        rows.append(labels | estimate)
    return pd.DataFrame(rows)


_CHANGE_KEYS = ("mean_before", "mean_after", "change", "se", "ci_lower", "ci_upper", "pvalue",
                "effect_size", "df")  # fmt: skip


def wave_change(
    data: pd.DataFrame,
    index: Hashable,
    wave: Hashable,
    before: Any,
    after: Any,
    *,
    weight: Hashable | None = None,
    cluster: Hashable | None = None,
    level: float = 0.95,
    min_n: int = MIN_N,
) -> dict[str, Any]:
    """Change of the weighted mean between two independent waves.

    Parameters
    ----------
    data : pandas.DataFrame
    index, wave : column label
    before, after : object
        The two wave values to compare.
    weight, cluster : column label, optional
        Weights; clusters (e.g. area) sampled in both waves. With clusters the change is
        area-level: each cluster's weighted mean after minus before, averaged with each
        cluster counting once (so are ``mean_before`` and ``mean_after``), with a one-sample
        *t* on ``n_clusters - 1`` degrees of freedom (CR2; exact for normal cluster
        changes, so it holds its size with 2 or more clusters). Clusters answered in one
        wave only are left out; fewer than 2 left and the change is withheld.
    level : float, default 0.95
    min_n : int, default 30

    Returns
    -------
    dict
        ``n_before``, ``n_after``, ``mean_before``, ``mean_after``, ``change``,
        ``se``, ``ci_lower``, ``ci_upper``, ``pvalue``, ``effect_size`` (change / pooled
        SD, Cohen's *d*), ``df`` and ``withheld``; with clusters also ``n_clusters``.
    """
    extra = [wave] + ([cluster] if cluster is not None else [])
    frame = estimation_frame(data, index, weight, extra)
    first = frame[frame[wave] == before]
    second = frame[frame[wave] == after]
    n0, n1 = len(first), len(second)
    out: dict[str, Any] = dict(n_before=n0, n_after=n1)
    reason = withheld_reason(min(n0, n1), min_n, "change")
    if reason:
        return {**out, **dict.fromkeys(_CHANGE_KEYS, np.nan), "withheld": reason}
    m0, e0, sd0 = weighted_mean_influence(first["y"].to_numpy(), first["w"].to_numpy())
    m1, e1, sd1 = weighted_mean_influence(second["y"].to_numpy(), second["w"].to_numpy())
    pooled = np.sqrt(((n0 - 1) * sd0**2 + (n1 - 1) * sd1**2) / (n0 + n1 - 2))
    if cluster is None:
        v0, _ = _clustered_variance(e0, None)
        v1, _ = _clustered_variance(e1, None)
        variance, df = v0 + v1, n0 + n1 - 2
    else:
        before_means, after_means = _cluster_means(first, second, cluster)
        out["n_clusters"] = g = len(before_means)
        if g < 2:
            reason = f"{g} cluster(s) answered in both waves: no interval possible; withheld"
            return {**out, **dict.fromkeys(_CHANGE_KEYS, np.nan), "withheld": reason}
        m0, m1 = float(before_means.mean()), float(after_means.mean())
        variance, df = float((after_means - before_means).var(ddof=1)) / g, g - 1
    change = m1 - m0
    se = float(np.sqrt(variance))
    crit = _student_t().ppf(0.5 + level / 2, df)
    return {
        **out,
        "mean_before": m0,
        "mean_after": m1,
        "change": change,
        "se": se,
        "ci_lower": float(change - crit * se),
        "ci_upper": float(change + crit * se),
        "pvalue": float(2 * _student_t().sf(abs(change) / se, df)) if se > 0 else np.nan,
        "effect_size": float(change / pooled) if pooled > 0 else np.nan,
        "df": float(df),
        "withheld": None,
    }


def _cluster_means(
    first: pd.DataFrame, second: pd.DataFrame, cluster: Hashable
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted means before and after of the clusters answered in both waves."""
    means = []
    for part in (first, second):
        sums = (part["w"] * part["y"]).groupby(part[cluster]).sum()
        means.append(sums / part["w"].groupby(part[cluster]).sum())
    both = pd.concat(means, axis=1, keys=[0, 1]).dropna()
    return both[0].to_numpy(), both[1].to_numpy()


def panel_change(
    data: pd.DataFrame,
    index: Hashable,
    wave: Hashable,
    person: Hashable,
    before: Any,
    after: Any,
    *,
    weight: Hashable | None = None,
    level: float = 0.95,
    min_n: int = MIN_N,
) -> dict[str, Any]:
    """Within-person change for panel waves (pseudonymous panel ids).

    Parameters
    ----------
    data : pandas.DataFrame
    index, wave, person : column label
        Index score, wave and panel id columns.
    before, after : object
    weight : column label, optional
        Weights taken from the ``before`` wave.
    level : float, default 0.95
    min_n : int, default 30
        Fewer matched pairs and the estimate is withheld.

    Returns
    -------
    dict
        ``n_pairs``, ``change`` (weighted mean of the differences), ``se``,
        ``ci_lower``, ``ci_upper``, ``pvalue``, ``effect_size`` (:math:`d_z`, mean / SD
        of the differences) and ``withheld``.
    """
    frame = estimation_frame(data, index, weight, [wave, person])
    first = frame[frame[wave] == before].drop_duplicates(person).set_index(person)
    second = frame[frame[wave] == after].drop_duplicates(person).set_index(person)
    pairs = first.merge(second, left_index=True, right_index=True, suffixes=("_0", "_1"))
    n = len(pairs)
    reason = withheld_reason(n, min_n, "panel change")
    if reason:
        return {"n_pairs": n, **dict.fromkeys(
            ["change", "se", "ci_lower", "ci_upper", "pvalue", "effect_size"], np.nan),
            "withheld": reason}  # fmt: skip
    diff = (pairs["y_1"] - pairs["y_0"]).to_numpy()
    estimate = weighted_mean_ci(diff, pairs["w_0"].to_numpy(), level=level, min_n=min_n)
    se = estimate["se"]
    return {
        "n_pairs": n,
        "change": estimate["mean"],
        "se": se,
        "ci_lower": estimate["ci_lower"],
        "ci_upper": estimate["ci_upper"],
        "pvalue": float(2 * _student_t().sf(abs(estimate["mean"]) / se, n - 1))
        if se > 0
        else np.nan,
        "effect_size": float(estimate["mean"] / estimate["sd"]) if estimate["sd"] > 0 else np.nan,
        "withheld": None,
    }
