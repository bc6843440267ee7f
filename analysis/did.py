"""Difference-in-differences of an index between treated and comparison areas.

The area is the unit of assignment, so the default inference (``method="area"``) works on
one number per area: its change, the weighted mean after minus the weighted mean before,

.. math::

    d_g = \\bar y_{g,1} - \\bar y_{g,0}, \\qquad
    \\widehat{DiD} = \\bar d_T - \\bar d_C,

each area counting once. Stable differences between areas cancel in :math:`d_g`; what is
left is area-by-wave variation and sampling noise. The standard error is the CR2
(HC2) one of this area-level contrast, :math:`\\sqrt{s_T^2/G_T + s_C^2/G_C}`, with
Bell-McCaffrey degrees of freedom

.. math::

    \\nu = \\frac{(G_T + G_C)^2 (G_T - 1)(G_C - 1)}{G_T^2 (G_T - 1) + G_C^2 (G_C - 1)},

which is :math:`2(G - 1)` with :math:`G` areas per arm, where the test is exactly the
pooled two-sample *t* test of the area changes (exact when they are normal with a common
variance). The pooled-response CR1 interval on :math:`G - 1` degrees of freedom
(``method="cluster"``) and a percentile cluster bootstrap (``method="bootstrap"``) are
kept for comparison only: with 2 to 5 areas per arm they reject a true null 10-30% of the
time at a nominal 5% (``bench/bench_did.py``).

Estimates resting on an arm x wave cell with fewer than ``min_n`` (30) responses, or on
fewer than 2 areas with both waves in an arm, are withheld with the reason. With fewer
than :data:`FEW_AREAS` areas in an arm the result carries a ``caution``: the design can
only show large changes, and it says how large.

References
----------
Bell, R. M., & McCaffrey, D. F. (2002). Bias reduction in standard errors for linear
regression with multi-stage samples. *Survey Methodology*, 28(2), 169-181.

Imbens, G. W., & Kolesar, M. (2016). Robust standard errors in small samples: Some
practical advice. *Review of Economics and Statistics*, 98(4), 701-712.

Cameron, A. C., & Miller, D. L. (2015). A practitioner's guide to cluster-robust
inference. *Journal of Human Resources*, 50(2), 317-372.

Donald, S. G., & Lang, K. (2007). Inference with difference-in-differences and other
panel data. *Review of Economics and Statistics*, 89(2), 221-233.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from analysis.change import MIN_N, estimation_frame, weighted_mean_influence, withheld_reason

__all__ = [
    "FEW_AREAS",
    "area_contrast",
    "bell_mccaffrey_df",
    "detectable_multiplier",
    "difference_in_differences",
]

#: With fewer areas than this in an arm, a result carries a ``caution`` (only large changes
#: can be shown). With 5 + 5 areas the 95% critical value is 2.31 (1.96 with many areas).
FEW_AREAS = 5

_ESTIMATES = ("did", "se", "ci_lower", "ci_upper", "pvalue", "effect_size")
_METHODS = ("area", "cluster", "bootstrap")
_AREA_KEYS = ("did", "se", "df", "ci_lower", "ci_upper", "pvalue")


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
    method: str = "area",
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
    index, wave, area, treated : column label
        Index score, wave, area (the unit of assignment) and treated (True for responses
        from the initiative's treated areas) columns.
    before, after : object
        The baseline and follow-up wave values.
    weight : column label, optional
        Response weights (for each area's wave means).
    method : {"area", "cluster", "bootstrap"}, default "area"
        ``"area"``: mean change of the treated areas minus that of the comparison areas,
        CR2 SE, *t* on Bell-McCaffrey df (see the module). ``"cluster"`` (CR1, t(G - 1))
        and ``"bootstrap"`` over-reject with few areas; kept for comparison.
    n_boot, seed : int, default 999 and 0
        Bootstrap resamples and seed (``method="bootstrap"``).
    level : float, default 0.95
    min_n : int, default 30
        Responses every arm x wave cell needs.

    Returns
    -------
    dict
        ``did``, ``se``, ``ci_lower``, ``ci_upper``, ``pvalue``, ``effect_size`` (DiD /
        pooled baseline SD), ``df`` (of the *t*), ``n_areas_treated``,
        ``n_areas_comparison`` (``"area"``: areas answered in both waves), ``cells`` (n,
        weighted mean per arm x wave), ``method``, ``caution`` (None, or why only large
        changes can be shown) and ``withheld``.

    Raises
    ------
    ValueError
        Unknown method or missing columns."""
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}.")
    frame = estimation_frame(data, index, weight, [wave, area, treated])
    frame = frame[frame[wave].isin([before, after])]
    frame["arm"] = frame[treated].astype(bool)
    frame["post"] = frame[wave] == after
    cells = {(bool(arm), bool(post)): g for (arm, post), g in frame.groupby(["arm", "post"])}
    frame["wy"] = frame["w"] * frame["y"]
    sums = frame.groupby([area, "arm", "post"], observed=True)[["w", "wy"]].sum()
    out, reason = _design(frame, cells, sums, area, method, min_n)
    if reason:
        return {**out, **dict.fromkeys(_ESTIMATES, np.nan), "withheld": reason}

    # Everything below works on per-area x cell sums, so it scales to any n.
    did, sd_base, means = _point_estimate(cells, out["cells"])
    if method == "area":
        result = area_contrast(*_area_changes(sums), level=level)
        did, se, df, lower, upper, pvalue = (float(result[k]) for k in _AREA_KEYS)
    elif method == "cluster":
        lower, upper, se, pvalue = _cluster_robust(sums, area, did, means, cells, level)
        df = float(out["n_areas_treated"] + out["n_areas_comparison"] - 1)
    else:
        lower, upper, se, pvalue = _cluster_bootstrap(sums, area, did, n_boot, seed, level)
        df = np.nan
    effect = did / sd_base if sd_base > 0 else np.nan
    estimates = dict(zip(_ESTIMATES, (did, se, lower, upper, pvalue, effect), strict=True))
    caution = _caution(out["n_areas_treated"], out["n_areas_comparison"], df, se)
    return {**out, **estimates, "df": df, "caution": caution, "withheld": None}


def bell_mccaffrey_df(g_treated: int, g_comparison: int) -> float:
    """Bell-McCaffrey degrees of freedom of a CR2 two-group contrast of area means.

    Under a working model of independent areas with a common variance, the CR2 variance
    :math:`s_T^2/G_T + s_C^2/G_C` is a weighted sum of chi-squares; Satterthwaite's
    approximation to it gives (Imbens & Kolesar 2016, eq. 9)

    .. math::

        \\nu = \\frac{(G_T + G_C)^2 (G_T - 1)(G_C - 1)}{G_T^2 (G_T - 1) + G_C^2 (G_C - 1)}.

    With equal arms this is :math:`2(G - 1)`, the pooled *t* test's.
    """
    gt, gc = int(g_treated), int(g_comparison)
    if min(gt, gc) < 2:
        return float("nan")
    return float((gt + gc) ** 2 * (gt - 1) * (gc - 1) / (gt**2 * (gt - 1) + gc**2 * (gc - 1)))


def area_contrast(
    treated_changes: np.ndarray, comparison_changes: np.ndarray, *, level: float = 0.95
) -> dict[str, Any]:
    """Treated minus comparison mean of area-level changes: CR2 SE, Bell-McCaffrey *t*.

    Parameters
    ----------
    treated_changes, comparison_changes : array-like, shape (..., G_T) and (..., G_C)
        One change (after minus before) per area, areas on the last axis; leading axes
        (e.g. simulation replications) are carried through.
    level : float, default 0.95

    Returns
    -------
    dict
        ``did``, ``se``, ``df``, ``ci_lower``, ``ci_upper``, ``pvalue`` (arrays over the
        leading axes, floats for 1-d input).
    """
    t = np.asarray(treated_changes, dtype=float)
    c = np.asarray(comparison_changes, dtype=float)
    gt, gc = t.shape[-1], c.shape[-1]
    df = bell_mccaffrey_df(gt, gc)
    did = t.mean(axis=-1) - c.mean(axis=-1)
    se = np.sqrt(t.var(axis=-1, ddof=1) / gt + c.var(axis=-1, ddof=1) / gc)
    crit = stats.t.ppf(0.5 + level / 2, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        pvalue = np.where(se > 0, 2 * stats.t.sf(np.abs(did) / se, df), np.nan)
    return {
        "did": did,
        "se": se,
        "df": df,
        "ci_lower": did - crit * se,
        "ci_upper": did + crit * se,
        "pvalue": pvalue[()] if np.ndim(pvalue) == 0 else pvalue,
    }


def detectable_multiplier(df: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """How many standard errors a true change must be for a two-sided *t* test to find it.

    The noncentrality :math:`\\delta` with :math:`P(|T_{\\nu,\\delta}| > t_{1-\\alpha/2,\\nu})`
    equal to ``power``, from the noncentral *t* distribution (exact for normal area-level
    changes); with many degrees of freedom it tends to :math:`z_{1-\\alpha/2} + z_{power}`
    (2.80 for 5% and 80%). Minimum detectable change = multiplier x standard error.
    """
    if not np.isfinite(df) or df <= 0:
        return float("nan")
    crit = stats.t.ppf(1 - alpha / 2, df)

    def shortfall(delta: float) -> float:
        # The lower tail is negligible for delta > 0 (and SciPy returns NaN for it far out).
        lower = float(np.nan_to_num(stats.nct.cdf(-crit, df, delta)))
        return float(stats.nct.sf(crit, df, delta)) + lower - power

    upper = 2 * (crit + stats.t.ppf(power, df)) + 1  # power(upper) > power for df >= 1
    return float(optimize.brentq(shortfall, 0.0, upper, xtol=1e-10))


def _caution(g_treated: int, g_comparison: int, df: float, se: float) -> str | None:
    """Say plainly that a design with few areas can only show large changes, and how large."""
    if min(g_treated, g_comparison) >= FEW_AREAS:
        return None
    dof = f"{df:.0f} degrees of freedom" if np.isfinite(df) else "no degrees of freedom"
    mdc = detectable_multiplier(df) * se
    size = f"about {mdc:.0f} points" if np.isfinite(mdc) else "large changes"
    return (
        f"Only {g_treated} treated and {g_comparison} comparison areas ({dof}): this design "
        f"can only show large changes (a true change smaller than {size} is missed more "
        "than 1 time in 5), and an interval that includes 0 is not evidence of no effect."
    )


def _area_changes(sums: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each area's weighted mean after minus before, treated and comparison areas apart."""
    table = sums.unstack("post")
    both = table[("w", True)].gt(0) & table[("w", False)].gt(0)
    table = table[both.to_numpy()]
    change = table[("wy", True)] / table[("w", True)] - table[("wy", False)] / table[("w", False)]
    arm = table.index.get_level_values("arm").to_numpy(dtype=bool)
    return change.to_numpy()[arm], change.to_numpy()[~arm]


def _design(
    frame: pd.DataFrame,
    cells: dict[tuple[bool, bool], pd.DataFrame],
    sums: pd.DataFrame,
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
    if method == "area":
        waves = sums.groupby(level=[area, "arm"], observed=True).size()
        both = waves[waves == 2].index.get_level_values("arm").to_numpy(dtype=bool)
        areas_t, areas_c = int(both.sum()), int((~both).sum())
        what = "areas answered in both waves"
    else:
        areas_t = int(frame[area][frame["arm"]].nunique())
        areas_c = int(frame[area][~frame["arm"]].nunique())
        what = "areas"
    out: dict[str, Any] = {"method": method}
    out.update(n_areas_treated=areas_t, n_areas_comparison=areas_c, cells=cell_table)
    out.update(df=np.nan, caution=None)
    reason = withheld_reason(n_min, min_n, "difference-in-differences")
    if reason is None and min(areas_t, areas_c) < 2:
        reason = (
            f"fewer than 2 {what} in an arm ({areas_t} treated, {areas_c} comparison): "
            "no area-level interval possible; withheld"
        )
    return out, reason


def _cell_label(arm: bool, post: bool) -> str:
    return f"{'treated' if arm else 'comparison'}_{'after' if post else 'before'}"


def _point_estimate(
    cells: dict[tuple[bool, bool], pd.DataFrame], cell_table: dict[str, dict[str, Any]]
) -> tuple[float, float, dict[tuple[bool, bool], float]]:
    """DiD of the weighted cell means, the pooled baseline SD, and the cell means."""
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
    return did, sd_base, means


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
