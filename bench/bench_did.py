"""Few-area difference-in-differences: size of the test and power at the planned MDC.

Simulated before/after surveys (:func:`analysis.planning.simulated_responses`), total SD 20
points, 3% of the variance between area-waves (``icc``), 80 responses per area and wave:

- *plain*: exactly the planner's model (normal scores, equal counts, unit weights);
- *messy*: plus stable area effects (SD 8), response counts differing by area and wave
  (lognormal, at least 30), weights on [0.5, 2], area-wave shock SDs 0.5-1.5 times the
  planned one, scores bounded to 0-100.

Table 1, size: how often a true null is rejected at 5% by the project's method (area-level
changes, CR2 SE, Bell-McCaffrey df), by the same SE with Welch-Satterthwaite df, and by the
old default (CR1 on pooled cell means, t(G - 1)). Table 2, power: how often the project's
method finds a true change equal to :func:`analysis.plan_design`'s MDC (80% planned).
Monte Carlo SE of a rate p over R replications: sqrt(p (1 - p) / R), 0.49 points at 5% and
0.89 points at 80% with R = 2,000. Usage::

    .venv/bin/python bench/bench_did.py           # 2,000 replications per row (~2 min)
    .venv/bin/python bench/bench_did.py 500       # fewer
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
from scipy import stats

from analysis import plan_design
from analysis.did import area_contrast
from analysis.planning import simulate_design, simulated_responses

SD, ICC, M = 20.0, 0.03, 80
BALANCED = [(2, 2), (3, 3), (5, 5), (10, 10), (20, 20)]
UNBALANCED = [(2, 6), (3, 10)]


def _sums(data: pd.DataFrame, g: int) -> tuple[np.ndarray, np.ndarray]:
    cell = data["area"].to_numpy() * 2 + data["wave"].to_numpy()
    w = data["w"].to_numpy()
    wy = w * data["y"].to_numpy()
    return (
        np.bincount(cell, w, 2 * g).reshape(g, 2),
        np.bincount(cell, wy, 2 * g).reshape(g, 2),
    )


def _cr1_pvalue(w: np.ndarray, wy: np.ndarray, treated: np.ndarray) -> float:
    """The old default: CR1 by area on the pooled cell means, t(G - 1)."""
    did, influence = 0.0, np.zeros(len(w))
    for arm, sign_arm in ((treated, 1.0), (~treated, -1.0)):
        for post, sign_post in ((0, -1.0), (1, 1.0)):
            total = w[arm, post].sum()
            mean = wy[arm, post].sum() / total
            did += sign_arm * sign_post * mean
            influence[arm] += sign_arm * sign_post * (wy[arm, post] - mean * w[arm, post]) / total
    g = len(w)
    se = np.sqrt(g / (g - 1) * (influence**2).sum())
    return float(2 * stats.t.sf(abs(did) / se, g - 1))


def size_row(gt: int, gc: int, messy: bool, reps: int, seed: int) -> dict[str, object]:
    """Rejection rates at 5% of three methods on the same simulated surveys without effect."""
    rng = np.random.default_rng(seed)
    treated = np.arange(gt + gc) < gt
    changes, cr1 = np.empty((reps, gt + gc)), np.empty(reps)
    for k in range(reps):
        data = simulated_responses(rng, gt, gc, M, sd=SD, icc=ICC, messy=messy)
        w, wy = _sums(data, gt + gc)
        changes[k] = wy[:, 1] / w[:, 1] - wy[:, 0] / w[:, 0]
        cr1[k] = _cr1_pvalue(w, wy, treated)
    t, c = changes[:, :gt], changes[:, gt:]
    area = area_contrast(t, c)
    vt, vc = t.var(axis=1, ddof=1) / gt, c.var(axis=1, ddof=1) / gc
    welch_df = (vt + vc) ** 2 / (vt**2 / (gt - 1) + vc**2 / (gc - 1))
    welch = 2 * stats.t.sf(np.abs(area["did"]) / area["se"], welch_df)
    return {
        "areas": f"{gt} + {gc}",
        "data": "messy" if messy else "plain",
        "R": reps,
        "area CR2-BM %": 100 * float((area["pvalue"] < 0.05).mean()),
        "BM df": area["df"],
        "Welch df %": 100 * float((welch < 0.05).mean()),
        "CR1 t(G-1) %": 100 * float((cr1 < 0.05).mean()),
    }


def power_row(gt: int, gc: int, messy: bool, reps: int, seed: int) -> dict[str, object]:
    """How often the MDC planned for 80% power is found (the planner's own sd and icc)."""
    plan = plan_design(gt, gc, M, sd=SD, icc=ICC)
    t, c = simulate_design(
        gt, gc, M, sd=SD, icc=ICC, effect=plan["mdc"], messy=messy, replications=reps, seed=seed
    )
    found = float((area_contrast(t, c)["pvalue"] < 0.05).mean())
    return {
        "areas": f"{gt} + {gc}",
        "data": "messy" if messy else "plain",
        "R": reps,
        "df": plan["df"],
        "MDC (points)": plan["mdc"],
        "MDC, unlimited letters": plan["mdc_unlimited"],
        "found %": 100 * found,
    }


def main() -> None:
    """Print both tables (markdown)."""
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    start = time.perf_counter()
    size = [
        size_row(gt, gc, messy, reps, seed=17 * gt + gc + messy)
        for gt, gc in BALANCED + UNBALANCED
        for messy in (False, True)
    ]
    power = [
        power_row(gt, gc, messy, reps, seed=1000 + 17 * gt + gc + messy)
        for gt, gc in BALANCED + UNBALANCED
        for messy in (False, True)
    ]
    print(f"sd {SD}, icc {ICC}, {M} responses per area and wave; {reps} replications per row\n")
    print("Size: % of true nulls rejected at 5%\n")
    print(pd.DataFrame(size).to_markdown(index=False, floatfmt=".1f"))
    print("\nPower at the planned MDC (80% planned)\n")
    print(pd.DataFrame(power).to_markdown(index=False, floatfmt=".1f"))
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
