"""Aggregate tables: no suppressed count can be recomputed from what is published."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from surveyapp.exports.aggregates import MIN_CELL, aggregate_table, relations


def _rows(cells: dict[tuple[int, str, str], int], seed: int = 0) -> pd.DataFrame:
    """Dataset rows: ``n`` responses per (wave, group, area) with index scores."""
    rng = np.random.default_rng(seed)
    frames = []
    for (wave, group, area), n in cells.items():
        frames.append(
            pd.DataFrame(
                {
                    "initiative_id": 1,
                    "wave_order": wave,
                    "wave": f"{wave}. Wave",
                    "group": group,
                    "area": area,
                    "weight": 1.0,
                    "flag_exclude": 0,
                    "idx_trust": rng.uniform(20, 80, n),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def recoverable(table: pd.DataFrame) -> list[int]:
    """Suppressed rows whose count follows from the published counts and the sum relations.

    A hidden cell is determined when its unit vector lies in the row space of the relations
    restricted to the hidden cells (linear algebra, not the suppression code's own rule).
    """
    hidden = [i for i in table.index if table.at[i, "suppressed"]]
    if not hidden:
        return []
    position = {row: k for k, row in enumerate(hidden)}
    equations = []
    for total, parts in relations(table):
        row = np.zeros(len(hidden))
        for member, sign in [(total, 1.0)] + [(p, -1.0) for p in parts]:
            if member in position:
                row[position[member]] += sign
        if row.any():
            equations.append(row)
    if not equations:
        return []
    matrix = np.array(equations)
    rank = np.linalg.matrix_rank(matrix)
    found = []
    for row, k in position.items():
        unit = np.zeros(len(hidden))
        unit[k] = 1.0
        if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
            found.append(row)
    return found


def test_small_cells_are_suppressed_with_a_complement() -> None:
    cells = {
        (1, "treated", "north"): 6,  # primary
        (1, "treated", "east"): 40,
        (1, "treated", "south"): 25,
        (1, "comparison", "west"): 50,
        (1, "comparison", "hill"): 45,
    }
    table = aggregate_table(_rows(cells), ["idx_trust"])
    by_area = table[table["level"] == "area"].set_index("area")
    assert by_area.loc["north", "suppressed"] == "primary"
    assert pd.isna(by_area.loc["north", "n"]) and pd.isna(by_area.loc["north", "mean"])
    # Treated subtotal (71) minus east (40) would give north: the smaller other area goes too.
    assert by_area.loc["south", "suppressed"] == "complementary"
    assert by_area.loc["east", "suppressed"] == ""
    assert by_area.loc["east", "n"] == 40 and 20 < by_area.loc["east", "mean"] < 80
    assert by_area.loc["south", "n"] is pd.NA or pd.isna(by_area.loc["south", "n"])
    total = table[table["level"] == "wave"].iloc[0]
    assert total["n"] == sum(cells.values()) and total["suppressed"] == ""
    assert recoverable(table) == []


def test_means_need_thirty_counts_need_ten() -> None:
    table = aggregate_table(
        _rows({(1, "treated", "a"): 12, (1, "treated", "b"): 13, (1, "comparison", "c"): 40}),
        ["idx_trust"],
    )
    a = table[table["area"] == "a"].iloc[0]
    assert a["n"] == 12 and pd.isna(a["mean"]) and a["suppressed"] == ""


def test_a_small_group_hides_another_group_not_the_total() -> None:
    cells = {
        (1, "treated", "a"): 4,
        (1, "treated", "b"): 3,
        (1, "comparison", "c"): 40,
        (1, "comparison", "d"): 35,
        (1, "", "e"): 30,
    }
    table = aggregate_table(_rows(cells), ["idx_trust"])
    groups = table[table["level"] == "group"].set_index("group")
    assert groups.loc["treated", "suppressed"] == "primary"
    assert groups.loc[""]["suppressed"] == "complementary"  # the smaller other group
    assert recoverable(table) == []


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.tuples(
            st.integers(1, 2),
            st.sampled_from(["treated", "comparison", ""]),
            st.sampled_from(["a", "b", "c", "d"]),
        ),
        st.integers(1, 60),
        min_size=1,
        max_size=16,
    )
)
def test_no_suppressed_cell_can_be_recomputed(cells: dict) -> None:
    # An area belongs to one group: keep the first group seen per area.
    group_of: dict[str, str] = {}
    clean = {}
    for (wave, group, area), n in cells.items():
        group = group_of.setdefault(area, group)
        clean[(wave, group, area)] = n
    table = aggregate_table(_rows(clean), ["idx_trust"])
    published = table[table["suppressed"] == ""]
    assert (published["n"] >= MIN_CELL).all()
    assert recoverable(table) == []
