"""Shared fixtures for the analysis tests."""

from pathlib import Path

import pandas as pd
import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def holzinger() -> pd.DataFrame:
    """The 301-case HolzingerSwineford1939 data (see data/README.md)."""
    return pd.read_csv(DATA / "HolzingerSwineford1939.csv")


@pytest.fixture(scope="session")
def hs_model() -> dict[str, list[str]]:
    """lavaan's textbook three-factor model for the Holzinger & Swineford data."""
    return {
        "visual": ["x1", "x2", "x3"],
        "textual": ["x4", "x5", "x6"],
        "speed": ["x7", "x8", "x9"],
    }
