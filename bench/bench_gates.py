"""How often the comparability gate withholds, by rule: invariant data and drifting items.

Two waves of one index, one factor with standardized loadings .75, ``N`` respondents per
wave, 1% of answers skipped at random; two index shapes:

- *four 4-5 point items* (like perceived safety): items of 4, 5, 4, 5 categories;
- *yes/no and 5-6 point*: three yes/no items and two of 5 and 6 categories.

Conditions: *invariant* (the same model in both waves), and *drift d* (the latent
responses of the first two items are ``d`` SD higher at the second wave, so that their
thresholds shift by ``d`` SD; the factor mean does not change). For each replication
:func:`analysis.index_comparability` runs by ML and by WLSMV under two rules: the
CFI/RMSEA cut-offs alone (``alpha=None``, the ML rule) and the cut-offs *and* a
significant scaled difference test (``alpha=.05``, the report's WLSMV rule). Printed:
the percentage of runs judged *not comparable* (and *partial*). On invariant data that
is the false withholding rate; with drift, "not comparable" or "partial" (with a
drifting item freed) is the right answer. Usage::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/bench_gates.py      # 60 per condition
    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/bench_gates.py 30
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
from scipy import stats

from analysis import index_comparability

N = 600
SHAPES = {"four 4-5 point": (4, 5, 4, 5), "yes/no and 5-6 point": (2, 2, 2, 5, 6)}
DRIFTS = (0.0, 0.3, 0.5)
RULES = {"ML": ("ML", None), "WLSMV cut-offs": ("WLSMV", None), "WLSMV + test": ("WLSMV", 0.05)}


def simulate(categories: tuple[int, ...], drift: float, n: int, rng: np.random.Generator):
    """Two waves of answers (codes 1..K) and the wave of each row."""
    frames = []
    for wave in ("1", "2"):
        eta = rng.standard_normal(n)
        columns = {}
        for j, k in enumerate(categories):
            y = 0.75 * eta + np.sqrt(1 - 0.75**2) * rng.standard_normal(n)
            if wave == "2" and j < 2:
                y = y + drift
            cuts = stats.norm.ppf(np.linspace(0, 1, k + 1)[1:-1])
            x = 1.0 + np.searchsorted(cuts, y)
            x[rng.random(n) < 0.01] = np.nan
            columns[f"i{j + 1}"] = x
        frames.append(pd.DataFrame(columns).assign(wave=wave))
    return pd.concat(frames, ignore_index=True)


def replication(args: tuple[str, float, int]) -> list[dict]:
    shape, drift, seed = args
    categories = SHAPES[shape]
    data = simulate(categories, drift, N, np.random.default_rng([seed, int(drift * 10)]))
    items = [f"i{j + 1}" for j in range(len(categories))]
    rows = []
    for rule, (estimator, alpha) in RULES.items():
        check = index_comparability(
            data, items, data["wave"], what="waves", estimator=estimator, alpha=alpha
        )
        rows.append({"shape": shape, "drift": drift, "rule": rule, "status": check["status"]})
    return rows


def main(reps: int = 60) -> None:
    start = time.perf_counter()
    tasks = [(s, d, r) for s in SHAPES for d in DRIFTS for r in range(reps)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        rows = [row for chunk in pool.map(replication, tasks, chunksize=4) for row in chunk]
    frame = pd.DataFrame(rows)
    frame["withheld"] = frame["status"] == "not_comparable"
    frame["partial"] = frame["status"] == "partial"
    frame["unchecked"] = frame["status"] == "unchecked"
    table = frame.groupby(["shape", "drift", "rule"])[["withheld", "partial", "unchecked"]]
    print(f"Comparability gate, % of {reps} replications, {N} per wave (drift in SD):")
    print((table.mean() * 100).round(0).unstack("rule").to_string())
    print(f"\n{len(tasks)} replications in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 60)
