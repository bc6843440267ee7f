"""Difference-in-differences of an index between treated and comparison areas.

.. math::

    \\widehat{DiD} = (\\bar y_{T,1} - \\bar y_{T,0}) - (\\bar y_{C,1} - \\bar y_{C,0})

with weighted wave means per arm. Its variance adds the linearisation influence terms
of the four cell means, summed per area (the cluster), with the CR1 small-sample factor
:math:`G/(G-1)` and a *t* reference distribution on :math:`G - 1` degrees of freedom;
alternatively a cluster bootstrap resamples areas within the treated and the comparison
arm. Everything is computed from per-area x cell sums, so it scales to any n. The
effect size is the DiD over the pooled (weighted) standard deviation at baseline.

Estimates resting on an arm x wave cell with fewer than ``min_n`` (30) responses, or on
fewer than 2 areas in an arm, are withheld with the reason.

References
----------
Cameron, A. C., & Miller, D. L. (2015). A practitioner's guide to cluster-robust
inference. *Journal of Human Resources*, 50(2), 317-372.

Bertrand, M., Duflo, E., & Mullainathan, S. (2004). How much should we trust
differences-in-differences estimates? *Quarterly Journal of Economics*, 119(1), 249-275.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis.change import MIN_N, estimation_frame, weighted_mean_influence, withheld_reason

__all__ = ["difference_in_differences"]

_ESTIMATES = ("did", "se", "ci_lower", "ci_upper", "pvalue", "effect_size")


def difference_in_differences(
    data: pd.DataFrame,
    index: Hashable,
    wave: Hashable,
    area: Hashable,
    treated: Hashable,
    before: Any,
    after: Any,
    *,
    weight: Hashable | None = None,
    method: str = "cluster",
    n_boot: int = 999,
    seed: int = 0,
    level: float = 0.95,
    min_n: int = MIN_N,
) -> dict[str, Any]:
    """Difference-in-differences of an index between treated and comparison areas.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per response, from both arms and both waves.
    index, wave, area : column label
        Index score, wave and area (the cluster) columns.
    treated : column label
        Boolean column: True for responses from the initiative's treated areas.
    before, after : object
        The baseline and follow-up wave values.
    weight : column label, optional
    method : {"cluster", "bootstrap"}, default "cluster"
        CR1 cluster-robust standard error by area with a t(G - 1) interval, or a
        percentile cluster bootstrap that resamples areas within each arm.
    n_boot : int, default 999
        Bootstrap resamples (``method="bootstrap"``).
    seed : int, default 0
    level : float, default 0.95
    min_n : int, default 30
        Every arm x wave cell needs this many responses.

    Returns
    -------
    dict
        ``did``, ``se``, ``ci_lower``, ``ci_upper``, ``pvalue``, ``effect_size``
        (DiD / pooled baseline SD), ``n_areas_treated``, ``n_areas_comparison``,
        ``cells`` (n and mean per arm x wave), ``method`` and ``withheld``.

    Raises
    ------
    ValueError
        For an unknown method or missing columns.
    """
    if method not in {"cluster", "bootstrap"}:
        raise ValueError("method must be 'cluster' or 'bootstrap'.")
    frame = estimation_frame(data, index, weight, [wave, area, treated])
    frame = frame[frame[wave].isin([before, after])]
    frame["arm"] = frame[treated].astype(bool)
    frame["post"] = frame[wave] == after
    cells = {(bool(arm), bool(post)): g for (arm, post), g in frame.groupby(["arm", "post"])}
    out, reason = _design(frame, cells, area, method, min_n)
    if reason:
        return {**out, **dict.fromkeys(_ESTIMATES, np.nan), "withheld": reason}

    # Everything below works on per-area x cell sums, so it scales to any n.
    frame["wy"] = frame["w"] * frame["y"]
    sums = frame.groupby([area, "arm", "post"], observed=True)[["w", "wy"]].sum()
    did, effect, means = _point_estimate(cells, out["cells"])
    if method == "cluster":
        lower, upper, se, pvalue = _cluster_robust(sums, area, did, means, cells, level)
    else:
        lower, upper, se, pvalue = _cluster_bootstrap(sums, area, did, n_boot, seed, level)
    estimates = dict(zip(_ESTIMATES, (did, se, lower, upper, pvalue, effect), strict=True))
    return {**out, **estimates, "withheld": None}


def _design(
    frame: pd.DataFrame,
    cells: dict[tuple[bool, bool], pd.DataFrame],
    area: Hashable,
    method: str,
    min_n: int,
) -> tuple[dict[str, Any], str | None]:
    """Responses per arm x wave cell and areas per arm; why the estimate is withheld, if so."""
    cell_table = {
        _cell_label(a, p): {"n": len(cells.get((a, p), ()))}
        for a in (True, False)
        for p in (False, True)
    }
    n_min = min(v["n"] for v in cell_table.values())
    areas_t = frame[area][frame["arm"]].nunique()
    areas_c = frame[area][~frame["arm"]].nunique()
    out: dict[str, Any] = {"method": method}
    out.update(n_areas_treated=int(areas_t), n_areas_comparison=int(areas_c), cells=cell_table)
    reason = withheld_reason(n_min, min_n, "difference-in-differences")
    if reason is None and min(areas_t, areas_c) < 2:
        reason = "fewer than 2 areas in an arm: no clustered interval possible; withheld"
    return out, reason


def _cell_label(arm: bool, post: bool) -> str:
    return f"{'treated' if arm else 'comparison'}_{'after' if post else 'before'}"


def _point_estimate(
    cells: dict[tuple[bool, bool], pd.DataFrame], cell_table: dict[str, dict[str, Any]]
) -> tuple[float, float, dict[tuple[bool, bool], float]]:
    """DiD of the weighted cell means, its effect size, and the means (also in the table)."""
    means = {
        key: float((group["w"] * group["y"]).sum() / group["w"].sum())
        for key, group in cells.items()
    }
    for key in cells:
        cell_table[_cell_label(*key)]["mean"] = means[key]
    did = (means[(True, True)] - means[(True, False)]) - (
        means[(False, True)] - means[(False, False)]
    )
    baseline = pd.concat([cells[(True, False)], cells[(False, False)]])
    _, _, sd_base = weighted_mean_influence(baseline["y"].to_numpy(), baseline["w"].to_numpy())
    return did, did / sd_base if sd_base > 0 else np.nan, means


def _cluster_robust(
    sums: pd.DataFrame,
    area: Hashable,
    did: float,
    means: dict[tuple[bool, bool], float],
    cells: dict[tuple[bool, bool], pd.DataFrame],
    level: float,
) -> tuple[float, float, float, float]:
    """CR1 standard error by area and a t(G - 1) interval and p-value."""
    sign = {(True, True): 1.0, (True, False): -1.0, (False, True): -1.0, (False, False): 1.0}
    totals = {key: float(group["w"].sum()) for key, group in cells.items()}
    flat = sums.reset_index()
    keys = list(zip(flat["arm"].astype(bool), flat["post"].astype(bool), strict=True))
    cell_mean = np.array([means[k] for k in keys])
    value = (
        np.array([sign[k] for k in keys])
        * (flat["wy"].to_numpy() - cell_mean * flat["w"].to_numpy())
        / np.array([totals[k] for k in keys])
    )
    t = pd.Series(value).groupby(flat[area].to_numpy()).sum().to_numpy()
    g = len(t)
    se = float(np.sqrt(g / (g - 1) * (t**2).sum()))
    crit = stats.t.ppf(0.5 + level / 2, g - 1)
    lower, upper = float(did - crit * se), float(did + crit * se)
    pvalue = float(2 * stats.t.sf(abs(did) / se, g - 1)) if se > 0 else np.nan
    return lower, upper, se, pvalue


def _cluster_bootstrap(
    sums: pd.DataFrame, area: Hashable, did: float, n_boot: int, seed: int, level: float
) -> tuple[float, float, float, float]:
    """Percentile interval from resampling areas within each arm."""
    table = sums.unstack("post", fill_value=0.0)
    rng = np.random.default_rng(seed)
    arms = {}
    for arm in (True, False):
        part = table.xs(arm, level="arm")
        arms[arm] = (
            part[("w", False)].to_numpy(), part[("wy", False)].to_numpy(),
            part[("w", True)].to_numpy(), part[("wy", True)].to_numpy(),
        )  # fmt: skip
    counts = {
        arm: rng.multinomial(len(arms[arm][0]), np.full(len(arms[arm][0]), 1 / len(arms[arm][0])),
                             size=n_boot)
        for arm in arms
    }  # fmt: skip
    change = {}
    for arm, (w0, wy0, w1, wy1) in arms.items():
        c = counts[arm]
        with np.errstate(invalid="ignore", divide="ignore"):
            change[arm] = (c @ wy1) / (c @ w1) - (c @ wy0) / (c @ w0)
    draws = change[True] - change[False]
    draws = draws[np.isfinite(draws)]
    tail = (1 - level) / 2 * 100
    lower, upper = np.percentile(draws, [tail, 100 - tail])
    se = float(draws.std(ddof=1))
    pvalue = float(min(1.0, 2 * min((draws <= 0).mean(), (draws >= 0).mean()))) if did else 1.0
    return float(lower), float(upper), se, pvalue
