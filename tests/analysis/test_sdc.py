"""Disclosure risk of microdata: frequencies, individual risk and local suppression.

Reference: sdcMicro's ``freqCalc`` (a missing key value matches every value) and
``indivRisk(method = "approx")``/``measure_risk`` (Benedetti-Franconi), whose formulas are
in sdcMicro's R/indivRisk.R. sdcMicro is not packaged for Debian, so the expected figures
below are worked by hand from those formulas (pk = fk / Fk):

- fk = 1, Fk = 10: pk/(1-pk) log(1/pk) = (0.1/0.9) ln 10 = 0.255843
- fk = 2, Fk = 20: pk/(1-pk) - (pk/(1-pk))^2 log(1/pk) = 0.111111 - 0.012346 ln 10 = 0.082684
- fk = 3, Fk = 30: pk/(fk - (1-pk)) = 0.1 / 2.1 = 0.047619
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.sdc import individual_risk, key_frequencies, local_suppression, measure


def test_individual_risk_matches_the_benedetti_franconi_approximation() -> None:
    risk = individual_risk(np.array([1, 2, 3]), np.array([10.0, 20.0, 30.0]))
    assert risk == pytest.approx([0.255843, 0.082684, 0.047619], abs=1e-6)
    # Unweighted (the sample is the population): one in fk.
    assert individual_risk(np.array([1, 4]), np.array([1.0, 4.0])) == pytest.approx([1, 0.25])


def test_missing_key_values_match_every_value() -> None:
    keys = pd.DataFrame(
        {"area": ["A", "A", "A", "B"], "age": [1, 1, np.nan, 1], "sex": [1, 2, 2, 1]}
    )
    freq = key_frequencies(keys, [10, 10, 10, 10])
    # Row 2 (age missing) could be row 1; rows 0 and 3 stand alone.
    assert freq["fk"].tolist() == [1, 2, 2, 1]
    assert freq["Fk"].tolist() == [10, 20, 20, 10]


def test_measure_counts_uniques_and_k_violations() -> None:
    keys = pd.DataFrame({"area": list("AAAAABC"), "age": [1, 1, 1, 1, 1, 2, 3]})
    risk = measure(keys, k=5)
    assert (risk.records, risk.combinations, risk.sample_uniques, risk.below_k) == (7, 3, 2, 2)
    assert risk.expected_reidentifications == pytest.approx(5 * 0.2 + 2 * 1)


def test_local_suppression_blanks_the_least_important_value_that_suffices() -> None:
    keys = pd.DataFrame(
        {"area": ["A"] * 6, "gender": [1, 1, 1, 1, 1, 1], "household": [2, 2, 2, 2, 2, 3]}
    )
    for importance in (["gender", "household"], ["household", "gender"]):
        out = local_suppression(keys, 5, importance=importance)
        # Only a blank household size makes the last row one of six.
        assert out.isna().sum().to_dict() == {"area": 0, "gender": 0, "household": 1}
        assert key_frequencies(out)["fk"].min() >= 5
    keys.loc[5, "gender"] = 2
    out = local_suppression(keys, 5, importance=["gender", "household"])
    # Neither value alone suffices: both go, the area (not in importance) stays.
    assert out.isna().sum().to_dict() == {"area": 0, "gender": 1, "household": 1}
    assert key_frequencies(out)["fk"].min() >= 5
