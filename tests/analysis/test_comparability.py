"""Comparability gates: a change is a number only where its index measures the same thing.

Reference numbers for partial invariance come from lavaan 0.6.14
(``lavaan_partial_invariance.R`` beside this file, run once with Debian's r-cran-lavaan).
The simulations are messy on purpose: eight areas with their own levels, area-by-wave
shocks, and response counts that differ by area and wave.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import analysis as an
from analysis.invariance import partial_scalar_fit

INSTRUMENTS = Path(__file__).resolve().parents[2] / "instruments"
AREAS = {f"t{i}": "treated" for i in range(4)} | {f"c{i}": "comparison" for i in range(4)}


def test_partial_scalar_fit_matches_lavaan(holzinger, hs_model) -> None:
    # group.partial = c("x3~1", "x7~1"): chisq 129.422480, df 58, cfi .919367, rmsea .090456
    fit = partial_scalar_fit(holzinger, hs_model, "school", ["x3", "x7"])
    assert fit["chi2"] == pytest.approx(129.422480, abs=5e-4)
    assert fit["df"] == 58
    assert fit["cfi"] == pytest.approx(0.919367, abs=5e-4)
    assert fit["rmsea"] == pytest.approx(0.090456, abs=5e-4)
    # speed alone, x7's intercept free: chisq 0.200954 on 3 df.
    one = partial_scalar_fit(holzinger, {"speed": ["x7", "x8", "x9"]}, "school", ["x7"])
    assert one["chi2"] == pytest.approx(0.200954, abs=5e-4) and one["df"] == 3


def test_speed_is_partially_comparable_across_schools(holzinger) -> None:
    """lavaan: scalar fails for speed (chisq 16.266, df 4, CFI .923 against 1.000); with
    x7's intercept free it fits again (0.201, df 3)."""
    check = an.index_comparability(
        holzinger, ["x7", "x8", "x9"], holzinger["school"], what="schools"
    )
    assert check["status"] == "partial"
    assert check["freed"] == ["x7"]
    assert "x7" in check["reason"]


@pytest.fixture(scope="module")
def spec() -> an.InstrumentModel:
    from surveyapp.instruments import load_instrument

    instrument = load_instrument(INSTRUMENTS / "social-cohesion-safety" / "1.0.0.yaml")
    return an.from_instrument(instrument, modules=["core"])


def simulate(spec: an.InstrumentModel, drifting: list[str], seed: int) -> pd.DataFrame:
    """Two waves, no real change anywhere; the ``drifting`` items are answered higher at
    the second wave (their meaning shifted, e.g. a reworded translation)."""
    rng = np.random.default_rng(seed)
    frames = []
    levels = {area: rng.normal(0, 0.3) for area in AREAS}
    for wave in ("1. Baseline", "2. Follow-up"):
        for area, arm in AREAS.items():
            n = int(rng.integers(45, 95))  # response differs by area and wave
            shock = rng.normal(0, 0.1)
            factor = levels[area] + shock + rng.standard_normal((n, len(spec.constructs)))
            columns = {}
            for j, construct in enumerate(spec.constructs):
                for item in construct.items:
                    y = 0.75 * factor[:, j] + np.sqrt(1 - 0.75**2) * rng.standard_normal(n)
                    if wave == "2. Follow-up" and item in drifting:
                        y = y + 0.8
                    low, high = spec.scale[item]
                    cuts = stats.norm.ppf(np.linspace(0, 1, int(high - low) + 2)[1:-1])
                    x = low + np.searchsorted(cuts, y).astype(float)
                    columns[item] = low + high - x if item in spec.reverse else x
            frame = pd.DataFrame(columns)
            frame["wave"], frame["area"], frame["group"] = wave, area, arm
            frame["language"] = "en"
            frame["duration_seconds"] = rng.normal(400, 60, n).round()
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _safety(spec: an.InstrumentModel, data: pd.DataFrame) -> dict:
    report = an.build_report(data, spec, n_boot=0, invariance=())
    return report.content["indices"]["perceived_safety"]


def test_two_drifting_items_withhold_the_change(spec: an.InstrumentModel) -> None:
    safety = next(c for c in spec.constructs if c.id == "perceived_safety")
    drifting = [item for item in safety.items if item not in spec.reverse][:2]
    assert len(safety.items) == 4 and len(drifting) == 2
    index = _safety(spec, simulate(spec, drifting, seed=5))
    assert index["comparability"]["waves"]["1. Baseline | 2. Follow-up"]["status"] == (
        "not_comparable"
    )
    for row in [*index["changes"], *index["did"]]:
        assert row["ci_lower"] is None and row["pvalue"] is None
        assert row["withheld"].startswith("Not comparable")
    # The other indices, whose items did not drift, keep their numbers.
    trust = an.build_report(simulate(spec, drifting, seed=5), spec, n_boot=0, invariance=())
    trust_all = next(c for c in trust.content["indices"]["trust"]["changes"] if c["arm"] == "all")
    assert trust_all["change"] is not None and trust_all["comparable"]


def test_without_drift_the_change_is_published(spec: an.InstrumentModel) -> None:
    index = _safety(spec, simulate(spec, [], seed=5))
    assert index["comparability"]["waves"]["1. Baseline | 2. Follow-up"]["status"] == "comparable"
    assert index["comparability"]["arms"]["status"] == "comparable"
    every = next(c for c in index["changes"] if c["arm"] == "all")
    assert every["change"] is not None and abs(every["change"]) < 5  # no real change


def test_one_drifting_item_of_eight_is_named_and_freed(spec: an.InstrumentModel) -> None:
    trust = next(c for c in spec.constructs if c.id == "trust")
    drifting = [item for item in trust.items if item not in spec.reverse][-1:]
    report = an.build_report(simulate(spec, drifting, seed=9), spec, n_boot=0, invariance=())
    index = report.content["indices"]["trust"]
    check = index["comparability"]["waves"]["1. Baseline | 2. Follow-up"]
    assert check["status"] == "partial" and check["freed"] == drifting
    every = next(c for c in index["changes"] if c["arm"] == "all")
    assert every["change"] is not None and drifting[0] in every["comparability_note"]


def test_too_few_answers_cannot_be_checked_and_show_no_number(spec: an.InstrumentModel) -> None:
    data = simulate(spec, [], seed=3)
    small = data.groupby(["wave", "area"]).head(5)  # 40 per wave
    index = _safety(spec, small)
    check = index["comparability"]["waves"]["1. Baseline | 2. Follow-up"]
    assert check["status"] == "unchecked" and "at least 50" in check["reason"]
    every = next(c for c in index["changes"] if c["arm"] == "all")
    assert every["change"] is None and every["withheld"]
