"""The disclosure rule: stepped samples, complementary suppression of counts and of means."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.disclosure import (
    HIDDEN,
    MIN_CELL,
    SMALL,
    mask_count,
    publication_sample,
    suppress_counts,
    suppress_estimates,
)


def _attacker_bounds(cells: dict[str, int], hidden: set[str]) -> dict[str, tuple[int, float]]:
    """What the shown total and shown cells say about each hidden small cell."""
    rest = sum(cells[k] for k in hidden)
    prior = {
        k: (1, MIN_CELL - 1) if cells[k] < MIN_CELL else (MIN_CELL, float("inf")) for k in hidden
    }
    bounds = {}
    for key in hidden:
        if cells[key] >= MIN_CELL:
            continue
        others_low = sum(prior[k][0] for k in hidden if k != key)
        others_high = sum(prior[k][1] for k in hidden if k != key)
        bounds[key] = (max(1, rest - others_high), min(MIN_CELL - 1, rest - others_low))
    return bounds


def test_a_single_small_cell_takes_a_complement_that_tells_nothing() -> None:
    cells = {"en": 41, "fr": 5, "ar": 0}
    result = suppress_counts(cells)
    assert result.cells == {"en", "fr"} and not result.total
    assert _attacker_bounds(cells, set(result.cells)) == {"fr": (1, 9)}


def test_a_complement_just_over_10_is_not_enough() -> None:
    # fr + nl = 17 with nl >= 10 would put fr at 1..7: the next cell is hidden too.
    cells = {"en": 41, "fr": 5, "nl": 12}
    assert suppress_counts(cells).cells == {"en", "fr", "nl"}


def test_two_nines_cannot_protect_each_other() -> None:
    # 18 = 9 + 9 gives both: with nothing else to hide, the total must go.
    result = suppress_counts({"a": 9, "b": 9})
    assert result.total and result.cells == {"a", "b"}


def test_never_published_cells_protect_the_others() -> None:
    result = suppress_counts({"treated": 50, "comparison": 2, "other": 12}, hidden=["other"])
    assert result.cells == {"comparison"} and not result.total


def test_counts_read_small_or_hidden() -> None:
    assert mask_count(0) == 0 and mask_count(3) == SMALL and mask_count(12) == 12
    assert mask_count(12, suppressed=True) == HIDDEN
    assert mask_count(3, exact=True) == 3 and mask_count(12, suppressed=True, exact=True) == 12


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from("abcdefg"), st.integers(0, 60), min_size=1))
def test_no_small_count_is_narrowed_by_the_total(cells: dict[str, int]) -> None:
    result = suppress_counts(cells)
    assert {k for k, n in cells.items() if 0 < n < MIN_CELL} <= result.cells
    if not result.total:
        for low, high in _attacker_bounds(cells, set(result.cells)).values():
            assert (low, high) == (1, MIN_CELL - 1)


def test_the_mean_of_all_goes_when_it_would_give_a_small_arms_mean() -> None:
    assert suppress_estimates({"treated": 50, "comparison": 2}).total
    assert suppress_estimates({"treated": 50, "comparison": 20}).total
    assert not suppress_estimates({"treated": 50, "comparison": 40}).total
    # Responses outside the design are never shown alone: with them, the rest is >= 30.
    both = suppress_estimates({"treated": 50, "comparison": 2, "other": 40}, hidden=["other"])
    assert both.cells == {"comparison"} and not both.total


def _responses(per_day: list[tuple[int, str]], start: date) -> pd.DataFrame:
    rows = []
    for offset, (count, area) in enumerate(per_day):
        rows += [{"wave": 1, "area": area, "day": start + timedelta(days=offset)}] * count
    frame = pd.DataFrame(rows)
    frame["id"] = range(len(frame))
    return frame


def test_the_sample_takes_whole_tens_of_past_days() -> None:
    frame = _responses([(7, "a"), (6, "a"), (25, "b"), (4, "a")], date(2026, 1, 1))
    sample = publication_sample(
        frame, cell=["wave", "area"], day="day", order="id", today=date(2026, 1, 4)
    )
    chosen = frame[sample]
    # Area a: 13 before the last day (today) -> 10; area b: 25 -> 20.
    assert chosen.groupby("area").size().to_dict() == {"a": 10, "b": 20}
    assert chosen[chosen["area"] == "a"]["id"].tolist() == list(range(10))


def test_uncounted_responses_join_with_the_step_they_precede() -> None:
    frame = _responses([(12, "a")], date(2026, 1, 1))
    frame["kept"] = [True, False] + [True] * 10
    sample = publication_sample(
        frame, cell=["wave", "area"], day="day", order="id", today=date(2026, 2, 1), counts="kept"
    )
    assert sample.tolist() == [True] * 11 + [False]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 14), st.sampled_from("abc"), st.booleans()),
        min_size=1,
        max_size=120,
    )
)
def test_samples_only_grow_and_only_by_tens(answers: list[tuple[int, str, bool]]) -> None:
    """Polling every day: each sample holds the last, plus 0 or >= 10 per area."""
    start = date(2026, 3, 1)
    frame = pd.DataFrame(
        [{"wave": 1, "area": a, "day": start + timedelta(days=d), "kept": k} for d, a, k in answers]
    )
    frame["id"] = range(len(frame))
    previous: set[int] = set()
    for today in range(16):
        sample = publication_sample(
            frame,
            cell=["wave", "area"],
            day="day",
            order="id",
            today=start + timedelta(days=today),
            counts="kept",
        )
        now = set(frame.loc[sample, "id"])
        assert previous <= now
        added = frame[frame["id"].isin(now - previous)]
        for _area, part in added.groupby("area"):
            assert int(part["kept"].sum()) >= MIN_CELL
        previous = now
