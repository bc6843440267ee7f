"""Time the analysis pipeline on synthetic survey data: 10k, 100k and 1M responses.

Pipeline per size (30 items = 6 constructs x 5 items on a 1-5 scale, 2 waves, 40
areas of which half are treated): clean (all five flags), score with a frozen scoring
model, rake weights per area x wave to age band x gender margins, then wave means,
wave-to-wave change and difference-in-differences for every construct.

Each size runs in its own subprocess so that the peak memory (``ru_maxrss``) belongs to
that size alone. Usage::

    .venv/bin/python bench/bench_analysis.py            # 10k, 100k, 1M
    .venv/bin/python bench/bench_analysis.py 10000      # one size
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

N_CONSTRUCTS, ITEMS_PER_CONSTRUCT, N_AREAS = 6, 5, 40


def synthetic(n: int, seed: int = 0) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Survey-like data with int8 item codes and a few negative (missing) codes."""
    rng = np.random.default_rng(seed)
    constructs = {
        f"c{c}": [f"c{c}_i{i}" for i in range(ITEMS_PER_CONSTRUCT)] for c in range(N_CONSTRUCTS)
    }
    columns = {}
    for items in constructs.values():
        latent = rng.standard_normal(n).astype(np.float32)
        for item in items:
            raw = np.clip(np.rint(3 + latent + rng.standard_normal(n, dtype=np.float32)), 1, 5)
            codes = raw.astype(np.int8)
            codes[rng.random(n) < 0.02] = -1
            columns[item] = codes
    data = pd.DataFrame(columns)
    data["area"] = rng.integers(0, N_AREAS, n).astype(np.int16)
    data["wave"] = rng.integers(0, 2, n).astype(np.int8)
    data["treated"] = data["area"] < N_AREAS // 2
    data["age_band"] = pd.Categorical(rng.choice(["18-34", "35-64", "65+"], n, p=[0.3, 0.5, 0.2]))
    data["gender"] = pd.Categorical(rng.choice(["f", "m"], n))
    data["seconds"] = rng.gamma(9.0, 40.0, n).astype(np.float32)
    data["attention"] = np.where(rng.random(n) < 0.03, 1, 3).astype(np.int8)
    return data, constructs


def run(n: int) -> dict[str, float]:
    """Run the pipeline once on ``n`` responses; return the seconds per stage."""
    from analysis import (
        clean,
        difference_in_differences,
        freeze_scoring_model,
        rake,
        score,
        wave_change,
        wave_means,
    )

    data, constructs = synthetic(n)
    items = [item for group in constructs.values() for item in group]
    timings: dict[str, float] = {"n": n}

    start = time.perf_counter()
    cleaning = clean(
        data,
        items,
        duration="seconds",
        mixed_keyed_blocks={"c0": constructs["c0"]},
        duplicate_keys=["area", "wave"],
        attention_checks={"attention": 3},
    )
    kept = data.loc[~cleaning.flags["exclude"].to_numpy()]
    timings["clean"] = time.perf_counter() - start

    start = time.perf_counter()
    reference = kept[kept["wave"] == 0].head(5000)
    model = freeze_scoring_model(
        reference,
        constructs,
        dict.fromkeys(items, (1, 5)),
        reverse=constructs["c0"][:2],
    )
    scores = score(kept, model)
    timings["score"] = time.perf_counter() - start

    start = time.perf_counter()
    margins = pd.Series(
        [120, 110, 260, 240, 150, 120],
        index=pd.MultiIndex.from_product([["18-34", "35-64", "65+"], ["f", "m"]]),
    )
    weights = np.full(len(kept), np.nan)
    for positions in kept.groupby(["area", "wave"], observed=True).indices.values():
        group = kept.iloc[positions]
        weights[positions] = rake(group, {("age_band", "gender"): margins}).weights.to_numpy()
    timings["weights"] = time.perf_counter() - start

    start = time.perf_counter()
    frame = pd.concat([kept[["area", "wave", "treated"]], scores], axis=1)
    frame["weight"] = weights
    for construct in constructs:
        wave_means(frame, construct, "wave", weight="weight", by=["treated"])
        wave_change(frame, construct, "wave", 0, 1, weight="weight", cluster="area")
        difference_in_differences(
            frame, construct, "wave", "area", "treated", 0, 1, weight="weight"
        )
    timings["change"] = time.perf_counter() - start
    timings["total"] = sum(v for k, v in timings.items() if k != "n")
    timings["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return timings


def main() -> None:
    """Print the timing table, one subprocess per size."""
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        print(json.dumps(run(int(sys.argv[2]))))
        return
    sizes = [int(a) for a in sys.argv[1:]] or [10_000, 100_000, 1_000_000]
    rows = []
    for n in sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n)],
            check=True,
            capture_output=True,
            text=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    table = pd.DataFrame(rows).set_index("n")
    print(table.round(2).to_markdown() if _has_tabulate() else table.round(2).to_string())


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
