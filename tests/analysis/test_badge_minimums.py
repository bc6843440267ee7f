"""Badges need the simulated minimum samples (bench/bench_badges.py, issue 18).

Below :data:`analysis.verdicts.MIN_FIT_N` complete responses the fit indices are shown
without badges, below :data:`analysis.verdicts.MIN_RELIABILITY_N` the reliability
coefficients; from those sizes on the badges are back. True-model data as in
``test_report.py``.
"""

from __future__ import annotations

import pandas as pd
import pytest

import analysis as an
from analysis import verdicts
from surveyapp.console.dashboard_data import initiative_dashboard

from .test_report import INSTRUMENTS, simulate


@pytest.fixture(scope="module")
def model() -> an.InstrumentModel:
    from surveyapp.instruments import load_instrument

    instrument = load_instrument(INSTRUMENTS / "social-cohesion-safety" / "1.0.0.yaml")
    return an.from_instrument(instrument, modules=["core"])


@pytest.fixture(scope="module")
def pool(model: an.InstrumentModel) -> pd.DataFrame:
    """Complete responses (no "don't know") of one wave from the true model."""
    data = simulate(model, {"2025": 75}, seed=7)
    return data[(data[model.items] >= 0).all(axis=1)].reset_index(drop=True)


def _report(pool: pd.DataFrame, model: an.InstrumentModel, n: int) -> dict:
    report = an.build_report(pool.head(n), model, n_boot=10, invariance=())
    return report.to_json()


def test_the_minimums_are_the_documented_ones() -> None:
    assert verdicts.MIN_FIT_N == 150
    assert verdicts.MIN_RELIABILITY_N == 200
    assert verdicts.MIN_INVARIANCE_N == 50
    assert min(verdicts.MIN_FIT_N, verdicts.MIN_RELIABILITY_N) >= an.MIN_N
    assert an.build_report.__wrapped__.__kwdefaults__["min_invariance_n"] == 50


def test_badges_are_withheld_below_the_minimum(pool: pd.DataFrame, model) -> None:
    n = min(verdicts.MIN_FIT_N, verdicts.MIN_RELIABILITY_N) - 1
    content = _report(pool, model, n)
    cfa = content["cfa"]
    assert cfa["cfi"] is not None  # the figures are still shown
    assert {v["verdict"] for v in cfa["verdicts"]} == {"n/a"}
    assert cfa["badges_withheld"].startswith(f"fewer than {verdicts.MIN_FIT_N} answers")
    assert "fit verdict would be wrong too often" in cfa["badges_withheld"]
    dashboard = initiative_dashboard(content, [])
    assert dashboard.fit is not None and dashboard.fit.verdict == "n/a"
    assert {panel.reliability.verdict for panel in dashboard.panels} == {"n/a"}
    for entry in content["constructs"].values():
        rel = entry["reliability"]
        assert rel["omega"] is not None
        assert {v["verdict"] for v in rel["verdicts"]} == {"n/a"}
        assert "reliability verdict would be wrong too often" in rel["badges_withheld"]
    assert content["parameters"]["min_fit_n"] == verdicts.MIN_FIT_N
    html = an.build_report(pool.head(n), model, n_boot=10, invariance=()).to_html()
    assert "fit verdict would be wrong too often" in html


def test_badges_are_shown_from_the_minimum(pool: pd.DataFrame, model) -> None:
    n = max(verdicts.MIN_FIT_N, verdicts.MIN_RELIABILITY_N)
    content = _report(pool, model, n + 20)  # cleaning may drop a few
    assert content["cfa"]["n"] >= n
    cfa = content["cfa"]
    assert "badges_withheld" not in cfa
    assert "n/a" not in {v["verdict"] for v in cfa["verdicts"]}
    dashboard = initiative_dashboard(content, [])
    assert dashboard.fit is not None and dashboard.fit.verdict != "n/a"
    assert "n/a" not in {panel.reliability.verdict for panel in dashboard.panels}
    for entry in content["constructs"].values():
        rel = entry["reliability"]
        assert rel["n"] >= n
        assert "badges_withheld" not in rel


def test_disclosure_floor_still_withholds_everything(pool: pd.DataFrame, model) -> None:
    content = _report(pool, model, an.MIN_N - 1)
    assert "withheld" in content["cfa"]
    assert all("withheld" in entry for entry in content["constructs"].values())
