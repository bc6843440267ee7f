"""Planning a before/after survey: the minimum detectable change of a difference-in-differences.

The plan matches the analysis of :func:`analysis.difference_in_differences` (``method="area"``):
each area's change (after minus before) is one observation, and the DiD is the mean change of
the treated areas minus that of the comparison areas, tested with *t* on Bell-McCaffrey degrees
of freedom (:func:`analysis.did.bell_mccaffrey_df`; :math:`G_T + G_C - 2` for equal arms).

With a total standard deviation :math:`\\sigma`, a share :math:`\\rho_{aw}` (``icc``) of the
variance between area-waves (area-by-wave variation, which does not cancel in a DiD; stable
differences between areas do), :math:`m` responses per area and wave, and for a panel a
correlation :math:`r` between a resident's two answers,

.. math::

    V_d = 2\\Big(\\rho_{aw}\\sigma^2 + (1 - r)\\frac{(1 - \\rho_{aw})\\sigma^2}{m}\\Big), \\qquad
    SE = \\sqrt{V_d \\Big(\\frac{1}{G_T} + \\frac{1}{G_C}\\Big)}, \\qquad
    MDC = \\delta_{\\nu}\\, SE,

with :math:`r = 0` for independent cross-sections and :math:`\\delta_\\nu` the noncentrality
at which a two-sided *t* test on :math:`\\nu` degrees of freedom has the wanted power
(:func:`analysis.did.detectable_multiplier`; exact for normal area changes, 2.80 for 5% and
80% with many areas, 5.65 with 2 + 2 areas). Treating stable area differences as part of the
within-area variance, as this does, errs on the safe side.

:func:`simulate_design` draws survey data for a design, plain (the planner's own model) or
messy (stable area effects, unequal and area-dependent response counts, weights, scores
bounded to 0-100, area-wave variation differing between areas), to check a plan or the
analysis by simulation (``bench/bench_did.py``).

References
----------
Bloom, H. S. (1995). Minimum detectable effects: A simple way to report the statistical
power of experimental designs. *Evaluation Review*, 19(5), 547-556.

Murray, D. M. (1998). *Design and analysis of group-randomized trials*. Oxford University
Press.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from analysis.did import FEW_AREAS, bell_mccaffrey_df, detectable_multiplier

__all__ = [
    "DEFAULT_ICC",
    "DEFAULT_SD",
    "plan_design",
    "responses_needed",
    "simulate_design",
    "simulated_responses",
]

#: Planning defaults for a 0-100 index before a city has waves of its own
#: (docs/statistics.md, "Planning"): a total standard deviation of about 20 points and 3% of
#: the variance between area-waves. Assumptions, not measurements.
DEFAULT_SD = 20.0
DEFAULT_ICC = 0.03


def _check(sd: float, icc: float, panel_correlation: float | None) -> float:
    if not sd > 0:
        raise ValueError("sd must be positive.")
    if not 0 <= icc < 1:
        raise ValueError("icc must be in [0, 1).")
    r = 0.0 if panel_correlation is None else float(panel_correlation)
    if not -1 < r < 1:
        raise ValueError("panel_correlation must be in (-1, 1).")
    return r


def _change_variance(sd: float, icc: float, r: float, m: float) -> float:
    """Variance of one area's change, after minus before."""
    return 2 * (icc * sd**2 + (1 - r) * (1 - icc) * sd**2 / m)


def plan_design(
    treated_areas: int,
    comparison_areas: int,
    responses_per_area: float,
    *,
    sd: float,
    icc: float,
    panel_correlation: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    target_change: float | None = None,
) -> dict[str, Any]:
    """Minimum detectable change (MDC) of a difference-in-differences design.

    Parameters
    ----------
    treated_areas, comparison_areas : int
        Areas per arm (each surveyed before and after).
    responses_per_area : float
        Complete responses per area and wave (the same people twice in a panel).
    sd : float
        Total standard deviation of the index (0-100 points; about 20 for the indices
        here, see docs/statistics.md).
    icc : float
        Share of the index's variance between area-waves (area-by-wave variation that does
        not cancel in a DiD), e.g. 0.02.
    panel_correlation : float, optional
        Correlation of a resident's two answers in a panel; None for two independent
        samples.
    alpha, power : float
        Two-sided significance level and wanted power.
    target_change : float, optional
        A change (points) to plan for: the responses per area it needs are returned.

    Returns
    -------
    dict
        ``mdc`` (points), ``se``, ``df``, ``multiplier`` (MDC / SE), ``mdc_unlimited``
        (the MDC with infinitely many responses per area: the floor that only more areas
        lower), ``responses_per_area_needed`` (for ``target_change``: an int, or None when
        no number of responses reaches it with these areas), ``caution`` (None or why
        the design is too small) and the inputs.

    Raises
    ------
    ValueError
        For fewer than 2 areas in an arm, fewer than 1 response, or parameters out of range.
    """
    gt, gc = int(treated_areas), int(comparison_areas)
    if min(gt, gc) < 2:
        raise ValueError("Each arm needs at least 2 areas: 1 area per arm cannot give an interval.")
    if not responses_per_area >= 1:
        raise ValueError("responses_per_area must be at least 1.")
    r = _check(sd, icc, panel_correlation)
    df = bell_mccaffrey_df(gt, gc)
    multiplier = detectable_multiplier(df, alpha, power)
    arms = 1 / gt + 1 / gc
    se = math.sqrt(_change_variance(sd, icc, r, responses_per_area) * arms)
    floor = multiplier * math.sqrt(2 * icc * sd**2 * arms)
    needed = None
    if target_change is not None:
        needed = responses_needed(
            gt, gc, target_change, sd=sd, icc=icc, panel_correlation=panel_correlation,
            alpha=alpha, power=power,
        )  # fmt: skip
    caution = None
    if min(gt, gc) < FEW_AREAS:
        caution = (
            f"{gt} + {gc} areas give {df:.0f} degrees of freedom: only changes of "
            f"{multiplier * se:.1f} points or more are likely to be found; more areas, not "
            "more letters, lower this."
        )
    inputs = dict(treated_areas=gt, comparison_areas=gc, responses_per_area=responses_per_area,
                  sd=sd, icc=icc, panel_correlation=panel_correlation, alpha=alpha,
                  power=power)  # fmt: skip
    return {
        "mdc": multiplier * se, "se": se, "df": df, "multiplier": multiplier,
        "mdc_unlimited": floor, "responses_per_area_needed": needed, "caution": caution,
        **inputs,
    }  # fmt: skip


def responses_needed(
    treated_areas: int,
    comparison_areas: int,
    target_change: float,
    *,
    sd: float,
    icc: float,
    panel_correlation: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
) -> int | None:
    """Complete responses per area and wave for the MDC to reach ``target_change``.

    Solves :math:`MDC(m) = target` for :math:`m` (rounded up). Returns None when even
    infinitely many responses per area would not do: the area-by-wave variation alone
    makes the MDC larger than the target, and only more areas help.
    """
    gt, gc = int(treated_areas), int(comparison_areas)
    if min(gt, gc) < 2:
        raise ValueError("Each arm needs at least 2 areas.")
    if not target_change > 0:
        raise ValueError("target_change must be positive.")
    r = _check(sd, icc, panel_correlation)
    multiplier = detectable_multiplier(bell_mccaffrey_df(gt, gc), alpha, power)
    # Largest variance of an area's change that still gives MDC <= target.
    allowed = (target_change / multiplier) ** 2 / (1 / gt + 1 / gc)
    room = allowed / 2 - icc * sd**2
    if room <= 0:
        return None
    return max(1, math.ceil((1 - r) * (1 - icc) * sd**2 / room - 1e-9))


def simulated_responses(
    rng: np.random.Generator,
    treated_areas: int,
    comparison_areas: int,
    responses_per_area: float,
    *,
    sd: float,
    icc: float,
    effect: float = 0.0,
    messy: bool = False,
    panel_correlation: float | None = None,
) -> pd.DataFrame:
    """One simulated survey: columns ``y``, ``w``, ``wave`` (0, 1), ``area``, ``treated``.

    Plain: exactly the planner's model (normal scores, ``responses_per_area`` per area and
    wave, area-wave shocks with variance ``icc * sd**2``, unit weights). Messy adds stable
    area effects (SD 8 points), response counts that differ by area and by wave (lognormal,
    SD 0.5 on the log scale, at least 30), weights uniform on [0.5, 2], area-wave shock SDs
    that differ between areas (0.5 to 1.5 times the planned one) and scores bounded to
    0-100. A true ``effect`` is added to the treated areas' second wave. With a
    ``panel_correlation`` the same residents answer twice (same counts in both waves, no
    attrition; column ``person``), their two within-area deviations correlated so.
    """
    y, w, wave, area, treated = _draw(
        rng, treated_areas, comparison_areas, responses_per_area,
        sd=sd, icc=icc, effect=effect, messy=messy, panel=panel_correlation,
    )  # fmt: skip
    frame = pd.DataFrame({"y": y, "w": w, "wave": wave, "area": area, "treated": treated[area]})
    if panel_correlation is not None:
        frame["person"] = np.tile(np.arange(len(frame) // 2), 2)
    return frame


def _draw(
    rng: np.random.Generator,
    treated_areas: int,
    comparison_areas: int,
    responses_per_area: float,
    *,
    sd: float,
    icc: float,
    effect: float,
    messy: bool,
    panel: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Scores, weights, waves and areas of one survey, and which areas are treated."""
    g = treated_areas + comparison_areas
    treated = np.arange(g) < treated_areas
    person_sd = math.sqrt((1 - icc) * sd**2)
    shock_sd = np.full(g, math.sqrt(icc) * sd)
    level = np.full(g, 50.0)
    counts = np.full((g, 2), round(responses_per_area))
    if messy:
        shock_sd = shock_sd * rng.uniform(0.5, 1.5, g)
        level = level + rng.normal(0, 8, g)
        size = rng.lognormal(0, 0.5, g)[:, None] * rng.lognormal(0, 0.25, (g, 2))
        counts = np.maximum(30, np.round(responses_per_area * size)).astype(int)
    if panel is not None:
        counts[:, 1] = counts[:, 0]
    shocks = rng.normal(0, 1, (g, 2)) * shock_sd[:, None]
    area = np.repeat(np.tile(np.arange(g), 2), counts.T.ravel())
    wave = np.repeat(np.repeat([0, 1], g), counts.T.ravel())
    mean = level[area] + shocks[area, wave] + effect * wave * treated[area]
    if panel is None:
        y = mean + rng.normal(0, person_sd, area.size)
    else:  # Wave 1 lists the same residents in the same order as wave 0.
        first = rng.normal(0, 1, area.size // 2)
        second = panel * first + math.sqrt(1 - panel**2) * rng.normal(0, 1, first.size)
        y = mean + person_sd * np.concatenate([first, second])
    w = np.ones(area.size)
    if messy:
        y = np.clip(y, 0, 100)
        w = rng.uniform(0.5, 2, area.size)
    return y, w, wave, area, treated


def simulate_design(
    treated_areas: int,
    comparison_areas: int,
    responses_per_area: float,
    *,
    sd: float,
    icc: float,
    effect: float = 0.0,
    messy: bool = False,
    panel_correlation: float | None = None,
    replications: int = 1000,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Area changes (weighted mean after minus before) of simulated surveys.

    Draws ``replications`` surveys with :func:`simulated_responses` and returns the treated
    and the comparison areas' changes, shapes ``(replications, treated_areas)`` and
    ``(replications, comparison_areas)``, ready for :func:`analysis.did.area_contrast`
    (the inference of :func:`analysis.difference_in_differences`, vectorised).
    """
    rng = np.random.default_rng(seed)
    g = treated_areas + comparison_areas
    changes = np.empty((replications, g))
    for k in range(replications):
        y, w, wave, area, _ = _draw(
            rng, treated_areas, comparison_areas, responses_per_area,
            sd=sd, icc=icc, effect=effect, messy=messy, panel=panel_correlation,
        )  # fmt: skip
        cell = area * 2 + wave
        means = (np.bincount(cell, w * y, 2 * g) / np.bincount(cell, w, 2 * g)).reshape(g, 2)
        changes[k] = means[:, 1] - means[:, 0]
    return changes[:, :treated_areas], changes[:, treated_areas:]
