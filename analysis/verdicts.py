"""Verdict cut-offs: the one place the report's thresholds are written down.

Fit indices are judged by the cut-offs of Hu & Bentler (1999): CFI and TLI >= .95 good,
>= .90 acceptable; RMSEA <= .06 good, <= .08 acceptable; SRMR <= .08 good, <= .10
acceptable. Reliability (omega total, alpha): >= .80 good, >= .70 acceptable (Nunnally &
Bernstein, 1994). KMO >= .80 good, >= .60 acceptable (Kaiser, 1974). Invariance levels
hold when CFI drops by at most .010 and RMSEA rises by at most .015 (Chen, 2007).
These are conventions, not laws; the report says so in plain language.
Badges also need a minimum sample (:data:`MIN_FIT_N`, :data:`MIN_RELIABILITY_N`,
:data:`MIN_INVARIANCE_N`), set by simulation so that a verdict is right at least 80% of the
time; below it the report shows the figures with "n/a".

The validation report (:mod:`analysis.report`), its template, the invariance tests
(:mod:`analysis.invariance`) and the app's dashboards all read these constants.

References
----------
Hu, L., & Bentler, P. M. (1999). Cutoff criteria for fit indexes in covariance structure
analysis: Conventional criteria versus new alternatives. *Structural Equation
Modeling*, 6(1), 1-55.

Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of measurement
invariance. *Structural Equation Modeling*, 14(3), 464-504.

Kaiser, H. F. (1974). An index of factorial simplicity. *Psychometrika*, 39, 31-36.

Nunnally, J. C., & Bernstein, I. H. (1994). *Psychometric theory* (3rd ed.). McGraw-Hill.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "EXPLANATIONS",
    "MAX_DELTA_CFI",
    "MAX_DELTA_RMSEA",
    "MIN_FIT_N",
    "MIN_INVARIANCE_N",
    "MIN_ITEM_REST_R",
    "MIN_LOADING",
    "MIN_OMEGA_ITEMS",
    "MIN_RELIABILITY_N",
    "THRESHOLDS",
    "VERDICTS",
    "WLSMV_DIFFERENCE_ALPHA",
    "invariance_verdict",
    "judge",
    "level_holds",
    "small_sample_reason",
    "thresholds_json",
    "verdict",
    "withhold_badges",
]

#: (good, acceptable, higher_is_better) per statistic.
THRESHOLDS: dict[str, tuple[float, float, bool]] = {
    "cfi": (0.95, 0.90, True),
    "tli": (0.95, 0.90, True),
    "rmsea": (0.06, 0.08, False),
    "srmr": (0.08, 0.10, False),
    "omega": (0.80, 0.70, True),
    "omega_ordinal": (0.80, 0.70, True),
    "alpha": (0.80, 0.70, True),
    "kmo": (0.80, 0.60, True),
}

#: An invariance level holds when CFI drops by at most this from the previous level...
MAX_DELTA_CFI = 0.010
#: ... and RMSEA rises by at most this (Chen, 2007).
MAX_DELTA_RMSEA = 0.015
#: With ordered items (WLSMV) a level fails only when the cut-offs above are exceeded
#: *and* lavaan's scaled difference test (satorra.2000) is significant at this level:
#: the scaled CFI/RMSEA changes of 3-5 item indices are too noisy on their own
#: (docs/statistics.md, bench/bench_gates.py).
WLSMV_DIFFERENCE_ALPHA = 0.05
#: Standardized loadings below this are weak.
MIN_LOADING = 0.40
#: Item-rest correlations below this are weak.
MIN_ITEM_REST_R = 0.30
#: Omega total needs a one-factor model with at least this many items.
MIN_OMEGA_ITEMS = 3

# Minimum samples for the badges, set by simulation (bench/bench_badges.py, BENCHMARKS.md):
# data from the TRUE model of the core questionnaire (22 ordered items, four constructs,
# loadings 0.75), 100 replications per n; a badge is shown from the smallest n at which its
# verdict is the right one at least 80% of the time (Monte Carlo SE 4 points).
#: Responses the CFA used at the reference wave for the fit badges (CFI, TLI, RMSEA, SRMR).
#: All four right (CFI, TLI, RMSEA and SRMR "good"): 0% at n = 30 and 50, 14% at 75, 79% at
#: 100, 100% at 150. SRMR sets it (CFI, TLI and RMSEA alone: 87-99% from n = 50).
MIN_FIT_N = 150
#: Complete responses on a construct's items for its reliability badges.
#: Categorical omega (the badge) right for a construct .024 below the .80 cut-off
#: (population .776): 63% at n = 100, 67% at 150, 80% at 200, 92% at 300 (omega 84% and
#: alpha 86% at 200); .044 above it: 95-100% from n = 50. Within .005 of a cut-off the
#: verdict is a coin toss at any n (.803: 58-69%); the bootstrap interval shows that.
MIN_RELIABILITY_N = 200
#: Complete responses per group for the invariance tests (and their badge).
#: "Scalar holds" across two waves of the true model: 81% at n = 30 per wave, 91% at 50,
#: 97-100% from 75 (ML). By WLSMV, as the report fits the ordered core questionnaire
#: (empty categories merged, the rule of :func:`level_holds`): 87% at 50, 93% at 75, 100%
#: at 100 (30 replications; ``bench/bench_badges.py --wlsmv``), so 50 serves both. This is
#: the rate on invariant data only, not the power to detect non-invariance, which is
#: lower in small groups.
MIN_INVARIANCE_N = 50

#: The verdict words, best first; "n/a" when a statistic could not be computed.
VERDICTS = ("good", "acceptable", "poor", "n/a")

#: Plain-language explanations of each statistic (English; the HTML template translates them).
EXPLANATIONS = {
    "cfi": "CFI compares the model with a model in which the questions are unrelated; "
    "1 is perfect, at least 0.95 is good and at least 0.90 acceptable (Hu & Bentler 1999).",
    "tli": "TLI is like CFI but penalises complicated models; at least 0.95 is good.",
    "rmsea": "RMSEA is the model's error per degree of freedom; at most 0.06 is good and at "
    "most 0.08 acceptable (Hu & Bentler 1999).",
    "srmr": "SRMR is the average gap between observed and model-implied correlations; at most "
    "0.08 is good.",
    "omega": "Omega says how consistently the questions of a theme measure one thing; at "
    "least 0.70 is acceptable for comparing groups and at least 0.80 is good.",
    "omega_ordinal": "Categorical omega is the reliability of the 0-100 index as scored from "
    "ordered answers (Green & Yang 2009); read it like omega.",
    "alpha": "Cronbach's alpha is an older measure of consistency; read it like omega.",
    "kmo": "KMO says whether the answers share enough in common for factor analysis; at "
    "least 0.60 is acceptable and at least 0.80 good.",
}


def level_holds(
    delta_cfi: float,
    delta_rmsea: float,
    delta_pvalue: float | None = None,
    alpha: float | None = None,
    max_delta_cfi: float = MAX_DELTA_CFI,
    max_delta_rmsea: float = MAX_DELTA_RMSEA,
) -> bool:
    """Whether an invariance level holds against the previous one.

    It holds when CFI drops by at most ``max_delta_cfi`` and RMSEA rises by at most
    ``max_delta_rmsea``; with ``alpha`` (WLSMV: :data:`WLSMV_DIFFERENCE_ALPHA`) it also
    holds when the difference test's p-value is at least ``alpha``.
    """
    if -delta_cfi <= max_delta_cfi and delta_rmsea <= max_delta_rmsea:
        return True
    if alpha is None or delta_pvalue is None or math.isnan(delta_pvalue):
        return False
    return delta_pvalue >= alpha


def judge(metric: str, value: float | None) -> str:
    """The verdict word of one statistic.

    Parameters
    ----------
    metric : str
        A key of :data:`THRESHOLDS` (``"cfi"``, ``"tli"``, ``"rmsea"``, ``"srmr"``,
        ``"omega"``, ``"alpha"`` or ``"kmo"``).
    value : float or None
        The statistic; None or a non-finite value gives ``"n/a"``.

    Returns
    -------
    str
        ``"good"``, ``"acceptable"``, ``"poor"`` or ``"n/a"``.
    """
    good, ok, higher = THRESHOLDS[metric]
    if value is None or not math.isfinite(value):
        return "n/a"
    if higher:
        return "good" if value >= good else "acceptable" if value >= ok else "poor"
    return "good" if value <= good else "acceptable" if value <= ok else "poor"


def verdict(metric: str, value: float | None) -> dict[str, Any]:
    """Judge one statistic against :data:`THRESHOLDS`, with its explanation.

    Parameters
    ----------
    metric : str
        A key of :data:`THRESHOLDS`.
    value : float or None
        The statistic.

    Returns
    -------
    dict
        ``metric``, ``value`` (None when not finite), ``verdict`` (see :func:`judge`)
        and ``explanation`` (plain language, :data:`EXPLANATIONS`).
    """
    finite = value is not None and math.isfinite(value)
    return {
        "metric": metric,
        "value": value if finite else None,
        "verdict": judge(metric, value),
        "explanation": EXPLANATIONS[metric],
    }


def invariance_verdict(name: str, holds: dict[str, bool]) -> dict[str, str]:
    """The verdict on comparing index means across groups, from the levels that hold.

    Parameters
    ----------
    name : str
        What the groups are (``"wave"``, ``"language"``), used in the explanation.
    holds : dict of str to bool
        Whether each level (``"configural"``, ``"metric"``, ``"scalar"``) holds.

    Returns
    -------
    dict
        ``verdict``: ``"good"`` (scalar invariance: means comparable), ``"acceptable"``
        (metric only: compare means with caution) or ``"poor"``; ``explanation``.
    """
    if holds.get("scalar"):
        text = f"Scalar invariance holds across {name}s: index means can be compared."
        return {"verdict": "good", "explanation": text}
    if holds.get("metric"):
        text = (
            f"Only metric invariance holds across {name}s: relations can be "
            "compared, but compare means with caution."
        )
        return {"verdict": "acceptable", "explanation": text}
    text = (
        f"Invariance fails across {name}s: the questions may not mean the same "
        "thing in each group; do not compare means."
    )
    return {"verdict": "poor", "explanation": text}


def small_sample_reason(n: int, minimum: int, what: str) -> str | None:
    """Why a badge is withheld on ``n`` responses, or None when ``n >= minimum``."""
    if n >= minimum:
        return None
    return f"fewer than {minimum} answers (n = {n}): the {what} verdict would be wrong too often"


def withhold_badges(verdicts: list[dict[str, Any]], reason: str | None) -> list[dict[str, Any]]:
    """The verdicts with ``"n/a"`` for each badge when ``reason`` is given (values kept)."""
    if reason is None:
        return verdicts
    return [{**v, "verdict": "n/a"} for v in verdicts]


def thresholds_json() -> dict[str, dict[str, Any]]:
    """:data:`THRESHOLDS` as the report's JSON lists them (``good``, ``acceptable``, ...)."""
    return {
        k: {"good": g, "acceptable": a, "higher_is_better": h}
        for k, (g, a, h) in THRESHOLDS.items()
    }
