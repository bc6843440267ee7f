"""Panel waves: paired change against R's t.test, attrition by area, precision gained."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import attrition_by_area, panel_summary
from analysis.panel import panel_pairs

DATA = Path(__file__).parent / "data" / "panel_pairs.csv"

# From tests/analysis/panel_pairs.R (R 4.x): t.test(follow_up, baseline, paired = TRUE)
# and the Welch t.test of the same 45 pairs' scores as two independent samples.
R_PAIRED = {
    "n_pairs": 45,
    "change": 5.3104444444,
    "se": 1.6792581622,
    "ci_lower": 1.9261219952,
    "ci_upper": 8.6947668937,
    "pvalue": 0.002833976722,
}
R_SE_WELCH = 3.0158216157
R_CORRELATION = 0.6908607367


def _data() -> pd.DataFrame:
    return pd.read_csv(DATA, keep_default_na=False, na_values={"score": [""]})


def test_paired_change_matches_r_t_test() -> None:
    result = panel_summary(_data(), "score", "wave", "panel_id", "baseline", "follow-up")
    assert result["withheld"] is None
    for key, expected in R_PAIRED.items():
        assert result[key] == pytest.approx(expected, rel=1e-8), key
    assert result["se_independent"] == pytest.approx(R_SE_WELCH, rel=1e-8)
    assert result["correlation"] == pytest.approx(R_CORRELATION, rel=1e-8)
    # Pairing is worth (3.016 / 1.679)^2 = 3.2 times as many independent respondents.
    assert result["precision_gain"] == pytest.approx((R_SE_WELCH / R_PAIRED["se"]) ** 2)
    assert result["precision_gain"] > 3


def test_rows_without_panel_id_never_pair() -> None:
    data = _data()
    assert (data["panel_id"] == "").sum() == 10
    pairs = panel_pairs(data, "wave", "panel_id", "baseline", "follow-up")
    assert pairs.sum() == 90 and (data.loc[pairs, "panel_id"] != "").all()
    # Without panel ids, nothing pairs and the estimate is withheld with its reason.
    result = panel_summary(data.assign(panel_id=""), "score", "wave", "panel_id", 0, 1)
    assert result["n_pairs"] == 0 and result["withheld"]
    assert np.isnan(result["se_independent"])


def test_few_pairs_are_withheld() -> None:
    data = _data()
    few = data[data["panel_id"].isin([f"p{i:03d}" for i in range(20)])]
    result = panel_summary(few, "score", "wave", "panel_id", "baseline", "follow-up")
    assert result["n_pairs"] == 15 and "n = 15 < 30" in result["withheld"]
    assert np.isnan(result["change"]) and np.isnan(result["precision_gain"])


def test_attrition_by_area_counts_households_of_the_first_wave() -> None:
    table = attrition_by_area(_data(), "wave", "area", "panel_id", "baseline", "follow-up")
    assert list(table.index) == ["D1", "D2", "S3", "all"]
    assert table.loc["D1", "answered_before"] == 20 and table.loc["D1", "answered_both"] == 15
    assert table.loc["all"].tolist() == [60, 45, 0.75]
    # Households new in the follow-up (n000..n004) are not counted as retained anywhere.
    assert table["answered_both"].iloc[:-1].sum() == 45
