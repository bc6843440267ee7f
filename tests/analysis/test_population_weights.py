"""Population weights: no spurious change when only who answered changes.

A city of eight areas of very different size, safety and age structure, surveyed twice
with no real change anywhere (only small area-by-wave shocks, whose effect is the true
change of each replication). Between the waves only the response composition moves: the
large areas answer less, older residents answer more, and response rates differ by area.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import poststratify, wave_change

BANDS = [str(b) for b in range(1, 7)]
GENDERS = ["1", "2"]


def _city(rng: np.random.Generator) -> list[dict]:
    areas = []
    for a in range(8):
        population = int(rng.integers(2_000, 20_000))
        young = rng.uniform(0.5, 2.0)  # age structure: share of young bands relative to old
        shares = np.array([young ** (3 - b) for b in range(6)])
        shares = np.repeat(shares / shares.sum() / 2, 2)
        table = {
            (band, gender): round(population * share)
            for (band, gender), share in zip(
                [(b, g) for b in BANDS for g in GENDERS], shares, strict=True
            )
        }
        # The large, central areas feel safer than the small outer ones.
        level = rng.normal(52, 5) + 12 * (population > 10_000)
        areas.append({"code": f"a{a}", "table": table, "level": level})
    return areas


def _wave(rng: np.random.Generator, areas: list[dict], wave: int) -> pd.DataFrame:
    rows = []
    for area in areas:
        shock = rng.normal(0, 1.5)
        area["shocks"] = [*area.get("shocks", []), shock]
        # Response rates: area-specific, lower in large areas at the second wave, higher
        # for older residents (more so at the second wave).
        base = rng.uniform(0.02, 0.08)
        big = sum(area["table"].values()) > 10_000
        rate = base * (0.4 if (big and wave == 2) else 1.0)
        for (band, gender), n_pop in area["table"].items():
            age_pull = 1 + (0.25 if wave == 2 else 0.08) * (int(band) - 1)
            n = rng.binomial(n_pop, min(1.0, rate * age_pull))
            mean = area["level"] + shock - 3.0 * (int(band) - 3.5) + 2.0 * (gender == "2")
            y = np.clip(rng.normal(mean, 18, size=n), 0, 100)
            rows.append(
                pd.DataFrame(
                    {"area": area["code"], "age_band": band, "gender": gender, "y": y, "wave": wave}
                )
            )
    return pd.concat(rows, ignore_index=True)


def _true_mean(areas: list[dict], wave: int) -> float:
    """The population mean of the (unclipped) model: what a census would find."""
    total, weighted = 0.0, 0.0
    for area in areas:
        for (band, gender), n_pop in area["table"].items():
            mean = area["level"] + area["shocks"][wave - 1] - 3.0 * (int(band) - 3.5)
            weighted += n_pop * (mean + 2.0 * (gender == "2"))
            total += n_pop
    return weighted / total


def _weights(data: pd.DataFrame, areas: list[dict], *, per_area_mean_one: bool) -> pd.Series:
    weights = pd.Series(np.nan, index=data.index)
    tables = {area["code"]: area["table"] for area in areas}
    for (_wave, code), cell in data.groupby(["wave", "area"]):
        result = poststratify(cell[["age_band", "gender"]], tables[code])
        w = result.weights
        weights[cell.index] = w / w.mean() if per_area_mean_one else w
    return weights


def test_composition_shift_leaves_no_spurious_change() -> None:
    rng = np.random.default_rng(20261207)
    bias_population, bias_mean_one = [], []
    for _ in range(25):
        areas = _city(rng)
        data = pd.concat([_wave(rng, areas, 1), _wave(rng, areas, 2)], ignore_index=True)
        truth = _true_mean(areas, 2) - _true_mean(areas, 1)
        for per_area, out in ((False, bias_population), (True, bias_mean_one)):
            data["weight"] = _weights(data, areas, per_area_mean_one=per_area)
            change = wave_change(data, "y", "wave", 1, 2, weight="weight")
            out.append(change["change"] - truth)
    # Clipping to 0-100 moves the observed means a little; it is the same in both waves.
    assert abs(np.mean(bias_population)) < 1.0
    # The old weights (mean 1 in each area and wave) let the areas weigh by their answers:
    # the shift in who answered shows up as a change of several points.
    assert abs(np.mean(bias_mean_one)) > 1.5


def test_thin_cells_are_merged_and_weights_add_up_to_the_population() -> None:
    table = {(b, g): 500 for b in BANDS for g in GENDERS}
    people = pd.DataFrame(
        {
            "age_band": ["1"] * 2 + ["2"] * 12 + ["3"] * 12 + ["4"] * 12 + ["5"] * 12 + ["6"] * 1,
            "gender": (["1", "2"] * 26)[:51],
        }
    )
    result = poststratify(people, table)
    assert result.collapsed
    assert result.groups[0] == "age band 1-2, all genders"  # two people in band 1: merged
    assert result.groups[-1] == "age band 5-6, all genders"
    assert result.weights.sum() == pytest.approx(6_000)
    # A respondent outside the table's genders carries the average weight.
    extra = pd.concat([people, pd.DataFrame({"age_band": ["3"], "gender": ["3"]})])
    extra.index = range(len(extra))
    weights = poststratify(extra, table).weights
    assert weights.iloc[-1] == pytest.approx(weights.iloc[:-1].mean())


def test_only_counted_rows_make_the_weights() -> None:
    table = {("1", "1"): 100, ("1", "2"): 100}
    people = pd.DataFrame({"age_band": ["1"] * 12, "gender": ["1", "2"] * 6})
    counted = np.array([True] * 10 + [False] * 2)  # two dropped by cleaning
    weights = poststratify(people, table, counted=counted).weights
    assert weights[counted].sum() == pytest.approx(200)
    assert weights.iloc[-1] == pytest.approx(weights.iloc[1])  # same cell, same weight


def test_a_wave_column_named_w_is_refused_not_mixed_up_with_the_weight() -> None:
    data = pd.DataFrame({"y": [50.0] * 40 + [60.0] * 40, "w": [1] * 40 + [2] * 40})
    data["weight"] = 1.0
    with pytest.raises(ValueError, match="'y' and 'w' are used internally"):
        wave_change(data.rename(columns={"y": "score"}), "score", "w", 1, 2, weight="weight")
