"""The report's panel section: only with pairs, paired change more precise, attrition."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import analysis as an

from .test_report import AREAS, simulate

PER_AREA = 60
PAIRED = 37  # per area: 148 pairs, of which the first 140 (whole tens) are published


@pytest.fixture(scope="module")
def model() -> an.InstrumentModel:
    from surveyapp.instruments import load_instrument

    from .test_report import INSTRUMENTS

    instrument = load_instrument(INSTRUMENTS / "social-cohesion-safety" / "1.0.0.yaml")
    return an.from_instrument(instrument, modules=["core"])


def _panel(model: an.InstrumentModel, paired: int = PAIRED) -> pd.DataFrame:
    """Two waves; in each area ``paired`` households answer both, mostly as before."""
    data = simulate(model, {"2025": PER_AREA, "2026": PER_AREA}, seed=7)
    rng = np.random.default_rng(7)
    data["panel_id"] = ""
    items = list(model.scale)
    for area in AREAS:
        first = data.index[(data["wave"] == "2025") & (data["area"] == area)]
        later = data.index[(data["wave"] == "2026") & (data["area"] == area)]
        data.loc[first, "panel_id"] = [f"{area}-{i}" for i in range(len(first))]
        for i, (a, b) in enumerate(zip(first[:paired], later[:paired], strict=True)):
            data.loc[b, "panel_id"] = f"{area}-{i}"
            keep = rng.random(len(items)) < 0.7  # a household answers much as it did
            data.loc[b, np.array(items)[keep]] = data.loc[a, np.array(items)[keep]].to_numpy()
    return data


def _report(data: pd.DataFrame, model: an.InstrumentModel) -> an.Report:
    return an.build_report(data, model, n_boot=20, invariance=(), title="Panel")


def test_paired_change_is_reported_with_its_precision_and_attrition(
    model: an.InstrumentModel,
) -> None:
    report = _report(_panel(model), model)
    (entry,) = report.content["panel"]
    assert (entry["before"], entry["after"]) == ("2025", "2026")
    assert entry["n_pairs"] == 140  # whole tens of the 148 pairs
    for index in entry["indices"]:
        assert index["withheld"] is None or index["withheld"] is False
        assert index["ci_lower"] < index["change"] < index["ci_upper"]
        # Households answering much as before: the paired estimate is far more precise.
        assert index["se"] < index["se_independent"]
        assert index["precision_gain"] > 1.5
    rows = {row["area"]: row for row in entry["attrition"]}
    assert set(rows) == {*AREAS, "all"}
    assert rows["all"]["answered_before"] == 4 * PER_AREA
    assert rows["all"]["answered_both"] == 140
    assert rows["all"]["retained"] == pytest.approx(140 / 240)
    html = report.to_html()
    assert "Panel households that answered twice" in html and "Attrition by area" in html


def test_no_panel_section_without_pairs(model: an.InstrumentModel) -> None:
    data = _panel(model)
    report = _report(data.assign(panel_id=""), model)
    assert "panel" not in report.content
    assert "Panel households" not in report.to_html()


def test_few_pairs_are_withheld_and_small_counts_hidden(model: an.InstrumentModel) -> None:
    report = _report(_panel(model, paired=5), model)  # 20 pairs: published, but < 30
    (entry,) = report.content["panel"]
    assert entry["n_pairs"] == 20
    assert all("pairs < 30" in index["withheld"] for index in entry["indices"])
    assert all(index["change"] is None for index in entry["indices"])
    assert {row["answered_both"] for row in entry["attrition"][:-1]} == {"<10"}
