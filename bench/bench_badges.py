"""Minimum samples for the report's badges: how often the verdict is right, by n.

Data from the TRUE model of the core questionnaire
(``instruments/social-cohesion-safety/1.0.0.yaml``, modules ``core``: 22 ordered items,
four constructs), as the report tests make them: standardized loadings 0.75, factor
correlations 0.3, answers cut at normal quantiles into equally likely codes (already
reverse-coded, as the report's ``keyed`` responses are). For each n and replication:

- *fit*: the report's CFA (:func:`analysis.report.fit.fit_stage`: WLSMV for these ordered
  items); the right verdict for the true model is ``"good"`` for CFI, TLI, RMSEA and SRMR;
- *reliability*: categorical omega (the badge), omega and alpha of each construct's 0-100
  index; the right verdict is the one of the population value, computed once on 200,000
  responses (Monte Carlo error of the population value < 0.002);
- *invariance*: two waves of n each from the same true model,
  :func:`analysis.measurement_invariance` (ML); the right verdict is "scalar holds".

With ``--wlsmv`` only the invariance badge is simulated, by WLSMV as the report fits the
(all ordered) core questionnaire: :func:`invariance_wlsmv` for n in :data:`WLSMV_NS`,
printing how often the test could be computed, how many runs merged an empty category,
and how often "scalar holds" under the report's rule (a level fails only when its
CFI/RMSEA change exceeds the cut-offs *and* the scaled difference test is significant
at .05) and under the cut-offs alone.

A rate p over R replications has Monte Carlo SE sqrt(p (1 - p) / R): 4.0 points at 80%
with R = 100. Usage::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/bench_badges.py      # 100 per n
    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/bench_badges.py 40   # fewer
    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/bench_badges.py --wlsmv 40
"""

from __future__ import annotations

import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from analysis import from_instrument, measurement_invariance
from analysis.categorical_omega import categorical_omega
from analysis.instrument_model import InstrumentModel
from analysis.reliability import reliability
from analysis.report.fit import fit_stage
from analysis.report.reliability import index_scale
from analysis.verdicts import MAX_DELTA_CFI, MAX_DELTA_RMSEA, judge

ROOT = Path(__file__).resolve().parents[1]
NS = (30, 50, 75, 100, 150, 200, 300)
WLSMV_NS = (50, 75, 100)
FIT = ("cfi", "tli", "rmsea", "srmr")
COEFFICIENTS = ("omega_ordinal", "omega", "alpha")
LOADING, CORRELATION, POPULATION_N = 0.75, 0.3, 200_000


def core_model() -> InstrumentModel:
    """The core questionnaire's model, as the report builds it."""
    from surveyapp.instruments import load_instrument

    path = ROOT / "instruments" / "social-cohesion-safety" / "1.0.0.yaml"
    return from_instrument(load_instrument(path), modules=["core"])


def simulate(spec: InstrumentModel, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """n reverse-coded responses from the true factor model."""
    k = len(spec.constructs)
    phi = np.full((k, k), CORRELATION)
    np.fill_diagonal(phi, 1.0)
    factors = rng.standard_normal((n, k)) @ np.linalg.cholesky(phi).T
    columns = {}
    for j, construct in enumerate(spec.constructs):
        for item in construct.items:
            noise = math.sqrt(1 - LOADING**2) * rng.standard_normal(n)
            y = LOADING * factors[:, j] + noise
            low, high = spec.scale[item]
            cuts = stats.norm.ppf(np.linspace(0, 1, int(high - low) + 2)[1:-1])
            columns[item] = low + np.searchsorted(cuts, y).astype(float)
    return pd.DataFrame(columns)


def coefficients(spec: InstrumentModel, data: pd.DataFrame) -> dict[tuple[str, str], float]:
    """(construct, coefficient) -> value, on the 0-100 items as the report computes them."""
    out = {}
    for construct in spec.constructs:
        cols = list(construct.items)
        scaled = index_scale(data, spec, cols)
        rel = reliability(scaled, cols, n_boot=0, seed=0, omega=True)
        out[construct.id, "omega_ordinal"] = categorical_omega(scaled, cols)
        out[construct.id, "omega"] = rel.omega
        out[construct.id, "alpha"] = rel.alpha
    return out


def replication(args: tuple[int, int, dict[tuple[str, str], str]]) -> dict[str, bool]:
    """One replication at n: whether each badge gives the right verdict."""
    n, seed, truth = args
    spec = core_model()
    rng = np.random.default_rng([n, seed])
    data = simulate(spec, n, rng)
    right: dict[str, bool] = {}
    section, _charts = fit_stage(data, spec)
    words = {v["metric"]: v["verdict"] for v in section.get("verdicts", [])}
    for metric in FIT:
        right[metric] = words.get(metric) == "good"
    right["fit"] = all(right[m] for m in FIT)
    try:
        values = coefficients(spec, data)
    except (ValueError, np.linalg.LinAlgError):
        values = {}
    for key, word in truth.items():
        right[f"{key[0]}/{key[1]}"] = judge(key[1], values.get(key)) == word
    waves = pd.concat(
        [data.assign(_g="1"), simulate(spec, n, rng).assign(_g="2")], ignore_index=True
    )
    try:
        table = measurement_invariance(waves, spec.model, "_g")
        right["scalar"] = bool(table.loc["scalar", "holds"])
    except (ValueError, np.linalg.LinAlgError):
        right["scalar"] = False
    return right


def invariance_wlsmv(args: tuple[int, int]) -> dict[str, float]:
    """One replication of the WLSMV invariance badge at n per wave."""
    n, seed = args
    spec = core_model()
    rng = np.random.default_rng([n, seed, 7])
    waves = pd.concat(
        [simulate(spec, n, rng).assign(_g="1"), simulate(spec, n, rng).assign(_g="2")],
        ignore_index=True,
    )
    out = {"n": n, "computed": 0.0, "collapsed": 0.0, "scalar": 0.0, "scalar_cutoffs": 0.0}
    try:
        table = measurement_invariance(waves, spec.model, "_g", estimator="WLSMV")
    except (ValueError, ArithmeticError, np.linalg.LinAlgError):
        return out
    later = table.loc[["metric", "scalar"]]
    cutoffs = (-later["delta_cfi"] <= MAX_DELTA_CFI) & (later["delta_rmsea"] <= MAX_DELTA_RMSEA)
    out.update(
        computed=1.0,
        collapsed=float(bool(table.attrs["collapsed"])),
        scalar=float((cutoffs | (later["delta_pvalue"] >= 0.05)).all()),
        scalar_cutoffs=float(cutoffs.all()),
    )
    return out


def main_wlsmv(reps: int) -> None:
    start = time.perf_counter()
    tasks = [(n, r) for n in WLSMV_NS for r in range(reps)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = pd.DataFrame(pool.map(invariance_wlsmv, tasks, chunksize=2))
    table = results.groupby("n").mean() * 100
    print(
        f"Invariance badge by WLSMV, % of {reps} replications (MC SE at 80%: "
        f"{100 * math.sqrt(0.16 / reps):.1f} points), n per wave:"
    )
    print(table.round(0).to_string())
    print(f"\n{len(tasks)} replications in {time.perf_counter() - start:.0f} s")


def main(reps: int = 100) -> None:
    spec = core_model()
    start = time.perf_counter()
    population = coefficients(spec, simulate(spec, POPULATION_N, np.random.default_rng(0)))
    truth = {key: judge(key[1], value) for key, value in population.items()}
    print(f"Population values ({POPULATION_N:,} responses):")
    for (construct, coefficient), value in population.items():
        print(f"  {construct:17s} {coefficient:13s} {value:.3f} {truth[construct, coefficient]}")
    tasks = [(n, r, truth) for n in NS for r in range(reps)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(replication, tasks, chunksize=4))
    rates = pd.DataFrame(results)
    rates["n"] = [n for n, _r, _t in tasks]
    table = rates.groupby("n").mean() * 100
    print(
        f"\nRight verdict, % of {reps} replications (MC SE at 80%: "
        f"{100 * math.sqrt(0.16 / reps):.1f} points); invariance: n per wave"
    )
    head = ["cfi", "tli", "rmsea", "srmr", "fit", "scalar"]
    print(table[head].round(0).to_string())
    for coefficient in COEFFICIENTS:
        cols = [c for c in table.columns if c.endswith("/" + coefficient)]
        print(f"\nReliability, {coefficient} (population verdict in brackets):")
        names = {c: f"{c.split('/')[0]}[{truth[c.split('/')[0], coefficient]}]" for c in cols}
        sub = table[cols].rename(columns=names)
        print(sub.round(0).to_string())
    print(f"\n{len(tasks)} replications in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--wlsmv"]
    count = int(args[0]) if args else 100
    if "--wlsmv" in sys.argv:
        main_wlsmv(count)
    else:
        main(count)
