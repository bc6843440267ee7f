"""Ordinal items: polychoric correlations and WLSMV, against lavaan 0.6-14.

The reference numbers come from ``lavaan_wlsmv_reference.R`` (beside this file) on the
psych ``bfi`` subset in ``data/bfi_ordinal.csv``; see ``data/README.md``.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import polychoric
from analysis.bivariate_normal import bvn_cdf
from analysis.polychoric import ordinal_data
from tests.analysis import lavaan_wlsmv_reference as ref

DATA = Path(__file__).parent / "data"
CASES = [ref.BFI_SIX_POINT, ref.BFI_YES_NO]


@pytest.fixture(scope="module")
def bfi() -> pd.DataFrame:
    return pd.read_csv(DATA / "bfi_ordinal.csv")


def test_bivariate_normal_cdf_known_values() -> None:
    # P(X <= 0, Y <= 0) = 1/4 + asin(rho) / (2 pi); infinite limits give the margins.
    for rho in (-0.95, -0.5, 0.0, 0.3, 0.8, 0.99):
        assert bvn_cdf(0.0, 0.0, rho) == pytest.approx(0.25 + np.arcsin(rho) / (2 * np.pi))
    assert bvn_cdf(np.inf, 0.5, 0.3) == pytest.approx(0.691462461)
    assert bvn_cdf(-np.inf, 0.5, 0.3) == 0.0


@pytest.mark.parametrize("case", CASES, ids=["six-point", "yes-no"])
def test_polychoric_matches_lavcor(bfi: pd.DataFrame, case: dict) -> None:
    # lavCor(d, ordered = items, missing = "pairwise")
    result = polychoric(bfi[case["items"]])
    assert list(result.index) == case["items"] == list(result.columns)
    np.testing.assert_allclose(result.to_numpy(), case["polychoric"], atol=1e-6)


@pytest.mark.parametrize("case", CASES, ids=["six-point", "yes-no"])
def test_thresholds_match_lavaan(bfi: pd.DataFrame, case: dict) -> None:
    data = ordinal_data(bfi[case["items"]])
    np.testing.assert_allclose(np.concatenate(data.thresholds), case["thresholds"], atol=1e-8)


def test_polychoric_uses_pairwise_complete_rows(bfi: pd.DataFrame) -> None:
    items = ["N1", "N2"]
    both = bfi[items].dropna()
    # The pair uses the rows where both are answered; the other rows only move the
    # thresholds (each item's own answers), which changes rho in the fourth decimal.
    assert polychoric(bfi[items]).iloc[0, 1] == pytest.approx(polychoric(both).iloc[0, 1], abs=2e-3)


def test_tetrachoric_two_empty_cells_is_perfect() -> None:
    frame = pd.DataFrame({"a": [0, 0, 1, 1, 1], "b": [0, 0, 1, 1, 1]})
    assert polychoric(frame).iloc[0, 1] == 1.0


def test_constant_item_is_rejected() -> None:
    with pytest.raises(ValueError, match="two different answers"):
        polychoric(pd.DataFrame({"a": [1, 1, 1], "b": [1, 2, 3]}))
