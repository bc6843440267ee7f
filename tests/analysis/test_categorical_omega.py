"""Categorical omega (Green & Yang 2009) against semTools, and the report's reliability of
the index as published.

Reference: semTools 0.5.6 ``compRelSEM(fit, ord.scale = TRUE)`` on lavaan 0.6.14 WLSMV fits
(``semtools_categorical_omega.R`` beside this file; Debian's r-cran-semtools, run once).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analysis as an
from analysis.categorical_omega import categorical_omega
from analysis.reliability import reliability

DATA = Path(__file__).parent / "data" / "bfi_ordinal.csv"
NEUROTICISM = ["N1", "N2", "N3", "N4"]


@pytest.fixture(scope="module")
def bfi() -> pd.DataFrame:
    return pd.read_csv(DATA)


def test_matches_semtools(bfi: pd.DataFrame) -> None:
    assert categorical_omega(bfi, NEUROTICISM) == pytest.approx(0.8411635527, abs=1e-6)
    binary = ["E1b", "E2b", "E3b", "E4b", "E5b"]
    assert categorical_omega(bfi, binary) == pytest.approx(0.04104831203, abs=1e-6)


def test_the_index_scale_and_unequal_gaps(bfi: pd.DataFrame) -> None:
    # Rescaling every item to 0-100 the same way leaves omega as it is ...
    pomp = (bfi[NEUROTICISM] - 1) / 5 * 100
    assert categorical_omega(pomp, NEUROTICISM) == pytest.approx(0.8411635527, abs=1e-6)
    # ... an item on a wider scale weighs more, as in the index: gaps act as weights.
    wider = bfi[NEUROTICISM].assign(N1=bfi["N1"] * 2)
    weighted = categorical_omega(bfi, NEUROTICISM, weights={"N1": 2, "N2": 1, "N3": 1, "N4": 1})
    assert categorical_omega(wider, NEUROTICISM) == pytest.approx(weighted, abs=1e-9)
    assert abs(weighted - 0.8411635527) > 0.005


def test_report_reliability_is_that_of_the_published_index() -> None:
    """Two items on 0-10, two on 1-5: alpha of the raw codes lets the 0-10 items dominate;
    the index averages the items rescaled to 0-100, and its reliability is reported."""
    rng = np.random.default_rng(4)
    n = 600
    f = rng.standard_normal(n)
    items = {}
    for name, (low, high), loading in [
        ("a", (0, 10), 0.85), ("b", (0, 10), 0.85), ("c", (1, 5), 0.3), ("d", (1, 5), 0.3)
    ]:  # fmt: skip
        y = loading * f + np.sqrt(1 - loading**2) * rng.standard_normal(n)
        cuts = np.quantile(y, np.linspace(0, 1, high - low + 2)[1:-1])
        items[name] = low + np.searchsorted(cuts, y)
    data = pd.DataFrame(items)
    data["wave"] = "w1"
    scales = {"a": [0, 10], "b": [0, 10], "c": [1, 5], "d": [1, 5]}
    items = {name: {"scale": scale} for name, scale in scales.items()}
    mixed = {"constructs": {"m": {"label": "Mixed", "items": items}}}
    report = an.build_report(data, mixed, n_boot=0, invariance=())
    entry = report.content["constructs"]["m"]["reliability"]
    pomp = data[["a", "b"]] * 10
    pomp[["c", "d"]] = (data[["c", "d"]] - 1) * 25
    assert entry["alpha"] == pytest.approx(reliability(pomp, ["a", "b", "c", "d"], n_boot=0).alpha)
    raw = reliability(data, ["a", "b", "c", "d"], n_boot=0).alpha
    assert abs(entry["alpha"] - raw) > 0.02  # the raw codes would report another number
    metrics = [v["metric"] for v in entry["verdicts"]]
    assert metrics[0] == "omega_ordinal" and set(metrics) == {"omega_ordinal", "omega", "alpha"}
