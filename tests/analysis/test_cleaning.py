"""Cleaning flags: each rule, the recorded parameters and the summary."""

import json

import numpy as np
import pandas as pd
import pytest

from analysis import CLEANING_FLAGS, clean

ITEMS = ["a1", "a2", "a3", "a4", "a5", "a6"]


@pytest.fixture
def data() -> pd.DataFrame:
    rows = [
        [1, 2, 4, 5, 3, 2, 300, 3],  # 0 ok
        [2, 3, 3, 4, 5, 1, 280, 3],  # 1 ok
        [4, 4, 4, 4, 4, 4, 310, 3],  # 2 straight-liner on the mixed-keyed block
        [1, -1, -1, -1, -1, 2, 290, 3],  # 3 incomplete (2 of 6 answered)
        [5, 1, 2, 3, 4, 2, 60, 3],  # 4 speeder (60 s < 0.5 x median)
        [1, 2, 4, 5, 3, 2, 305, 3],  # 5 duplicate of row 0
        [2, 4, 1, 3, 5, 3, 295, 1],  # 6 failed attention check
    ]
    return pd.DataFrame(rows, columns=[*ITEMS, "seconds", "check"])


@pytest.fixture
def result(data):
    return clean(
        data, ITEMS, duration="seconds",
        mixed_keyed_blocks={"trust": ["a1", "a2", "a3", "a4"]},
        attention_checks={"check": 3},
    )  # fmt: skip


def test_each_rule_flags_its_case(result) -> None:
    flags = result.flags
    expected = {
        "straightliner": [2], "incomplete": [3], "speeder": [4],
        "duplicate": [5], "failed_attention": [6],
    }  # fmt: skip
    for flag, rows in expected.items():
        assert flags.index[flags[flag]].tolist() == rows, flag
    assert flags["exclude"].tolist() == [False, False, True, True, True, True, True]


def test_nothing_is_dropped_and_kept_rows_are_available(data, result) -> None:
    assert len(result.flags) == len(data)
    assert result.kept(data).index.tolist() == [0, 1]


def test_summary_and_parameters(result) -> None:
    summary = result.summary()
    assert summary.loc["speeder", "n"] == 1
    assert summary.loc["kept", "n"] == 2
    assert list(summary.index[: len(CLEANING_FLAGS)]) == CLEANING_FLAGS
    parameters = result.parameters
    assert parameters["speeder_fraction"] == 0.5
    assert parameters["median_duration_seconds"] == 295.0
    json.dumps(parameters)  # travels with the dataset


def test_straightlining_on_same_keyed_items_is_not_flagged(data) -> None:
    result = clean(data, ITEMS)
    assert not result.flags["straightliner"].any()
    assert not result.flags["speeder"].any()


def test_missing_column_is_an_error(data) -> None:
    with pytest.raises(ValueError, match="not in the data"):
        clean(data, ITEMS, duration="nope")


def test_status_column_marks_incomplete(data) -> None:
    status = np.where(data.index == 1, "draft", "complete")
    result = clean(data.assign(status=status), ITEMS, status="status")
    assert result.flags.loc[1, "incomplete"]
