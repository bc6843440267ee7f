"""Disclosure control: the one rule every published figure obeys.

Two thresholds:

- :data:`MIN_CELL`: a count of responses below 10 is never shown exactly to anyone but a
  city's admins ("<10"), and a table cell below it is suppressed, so that a small group of
  residents cannot be singled out.
- :data:`MIN_N`: no estimate (mean, change, reliability, fit) is published from fewer than
  30 responses: below that it is too imprecise to mean anything, and close to describing
  individuals.

Thresholds alone are not enough: a hidden figure comes back by subtraction from the figures
around it ("all" minus "treated"), or by polling a figure before and after one new answer.
Three functions close those doors, and every publisher (report, API, dashboards, monitoring,
aggregate table) uses them:

- :func:`publication_sample`: figures are computed from a *published sample* that only
  grows in whole steps of :data:`MIN_CELL` responses per wave and area, from whole past
  days, so two publications never differ by fewer than 10 responses of any area;
- :func:`suppress_counts`: complementary suppression of counts that add up to a shown
  total, chosen so that the shown figures tell nothing about a hidden count beyond "<10";
- :func:`suppress_estimates`: the same for means of parts of a group (arms and "all"), so
  that no mean of fewer than :data:`MIN_N` responses comes back from the others.

References: Hundepool et al. (2012), *Statistical Disclosure Control*, Wiley, ch. 4 and 5
(cell suppression, protection intervals); Duncan, Elliot & Salazar-González (2011),
*Statistical Confidentiality*, Springer, ch. 6 (differencing attacks).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import pandas as pd

__all__ = [
    "HIDDEN",
    "MIN_CELL",
    "MIN_N",
    "SMALL",
    "Suppression",
    "mask_count",
    "publication_sample",
    "suppress_counts",
    "suppress_estimates",
]

K = TypeVar("K", bound=Hashable)

#: Counts of responses below this are shown as "<10" (and table cells suppressed).
MIN_CELL = 10
#: Smallest number of responses behind any published estimate.
MIN_N = 30
#: How a suppressed count below :data:`MIN_CELL` reads.
SMALL = f"<{MIN_CELL}"
#: How a count of :data:`MIN_CELL` or more reads when it is hidden to protect a small one.
HIDDEN = f"≥{MIN_CELL}"


@dataclass(frozen=True)
class Suppression:
    """Which cells of a table (and whether its total) must not be shown.

    ``cells`` holds the keys of the suppressed cells (small ones and their complements);
    ``total`` is True when the total must be hidden too, because no choice of cells
    protects the small ones while it is shown.
    """

    cells: frozenset[Hashable]
    total: bool = False

    def __contains__(self, key: object) -> bool:
        return key in self.cells


def mask_count(n: int, *, suppressed: bool = False, exact: bool = False) -> int | str:
    """A count as published: exact, ``"<10"`` when small, ``"≥10"`` when hidden as complement.

    Parameters
    ----------
    n : int
        The count.
    suppressed : bool
        True when :func:`suppress_counts` chose the cell.
    exact : bool
        True for a city's admins, who see exact counts.
    """
    n = int(n)
    if exact or n == 0 or (n >= MIN_CELL and not suppressed):
        return n
    return SMALL if n < MIN_CELL else HIDDEN


def _protected(values: list[int], primary: list[bool], hidden: list[bool], total: int) -> bool:
    """True when the shown total tells nothing about a hidden small count beyond "<10".

    What an attacker knows of each hidden cell: a small one lies in [1, 9], a complement
    in [10, inf), a cell never published in [0, inf). With the total they know the hidden
    cells' sum; each small cell must still be able to take every value from 1 to 9.
    """
    if not any(primary):
        return True
    lows = [1 if p else (0 if h else MIN_CELL) for p, h in zip(primary, hidden, strict=True)]
    highs = [MIN_CELL - 1 if p else None for p in primary]
    rest = total  # sum of the hidden cells
    for i, is_primary in enumerate(primary):
        if not is_primary:
            continue
        others_low = sum(lows) - lows[i]
        others_high = sum(h for j, h in enumerate(highs) if j != i and h is not None)
        unbounded = any(h is None for j, h in enumerate(highs) if j != i)
        if rest - others_low < MIN_CELL - 1:
            return False  # the largest value it can take is below 9
        if not unbounded and rest - others_high > 1:
            return False  # the smallest value it can take is above 1
    return True


def suppress_counts(
    cells: Mapping[K, int],
    *,
    hidden: Iterable[K] = (),
    prefer_total: bool = False,
    already: Iterable[K] = (),
) -> Suppression:
    """Primary and complementary suppression of counts that add up to a shown total.

    Every count from 1 to 9 is suppressed (primary). Then, smallest first, further
    non-zero cells are suppressed until the total and the shown cells narrow no small
    cell below what "<10" already says (each could still be anything from 1 to 9; see
    :func:`_protected`). Zeros stay shown (suppressing them adds nothing). When no choice
    of cells protects them, or ``prefer_total`` is set, the total is hidden instead.

    Parameters
    ----------
    cells : mapping
        Count per cell; together the cells make up the total (``sum(cells.values())``).
    hidden : iterable
        Cells that are never published (such as responses outside an initiative's
        design): they protect the others but are not returned.
    prefer_total : bool
        Hide the total rather than further cells when a small cell needs protection
        (for a total that is shown nowhere else, such as an "all areas" figure).
    already : iterable
        Cells hidden already (by another table sharing them); they stay hidden.

    Returns
    -------
    Suppression
    """
    never = set(hidden)
    keys = list(cells)
    values = [int(cells[k]) for k in keys]
    primary = [k not in never and 0 < v < MIN_CELL for k, v in zip(keys, values, strict=True)]
    chosen = {k for k, p in zip(keys, primary, strict=True) if p}
    if not chosen:
        return Suppression(frozenset(already) & set(keys))
    chosen |= set(already) & set(keys)
    if prefer_total:
        return Suppression(frozenset(chosen), total=True)
    in_set = [k in chosen or (k in never and cells[k] > 0) for k in keys]
    candidates = sorted(
        (v, i) for i, (k, v) in enumerate(zip(keys, values, strict=True)) if v > 0 and not in_set[i]
    )
    while True:
        members = [i for i, inside in enumerate(in_set) if inside]
        total = sum(values[i] for i in members)
        if _protected(
            [values[i] for i in members],
            [primary[i] for i in members],
            [keys[i] in never for i in members],
            total,
        ):
            return Suppression(frozenset(keys[i] for i in members if keys[i] not in never))
        if not candidates:
            return Suppression(frozenset(k for k, v in cells.items() if v > 0) - never, True)
        _value, index = candidates.pop(0)
        in_set[index] = True


def suppress_estimates(
    sizes: Mapping[K, int],
    *,
    hidden: Iterable[K] = (),
    min_n: int = MIN_N,
) -> Suppression:
    """Which means of the parts of a group, and whether the group's mean, to withhold.

    The mean of a group and the means of some of its parts give, with their sizes, the
    mean of the remaining parts together. So the withheld parts (those under ``min_n``
    responses, and ``hidden`` ones never published) must together hold at least ``min_n``
    responses, or the group's own mean is withheld (``total``).

    Parameters
    ----------
    sizes : mapping
        Responses behind each part's mean; together the parts make up the group.
    hidden : iterable
        Parts never published on their own (they still hide the others).
    min_n : int
        Smallest number of responses behind a published mean.

    Returns
    -------
    Suppression
        ``cells``: parts whose mean is withheld; ``total``: withhold the group's mean.
    """
    never = set(hidden)
    withheld = {k for k, n in sizes.items() if k not in never and 0 < n < min_n}
    pooled = sum(n for k, n in sizes.items() if k in withheld or k in never)
    return Suppression(frozenset(withheld), total=bool(withheld) and pooled < min_n)


def publication_sample(
    frame: pd.DataFrame,
    *,
    cell: list[str],
    day: str,
    order: str,
    today: date,
    step: int = MIN_CELL,
    counts: str | None = None,
) -> pd.Series:
    """Which responses published figures are computed from (a boolean mask of ``frame``).

    Responses are taken from whole past days only (``day`` before ``today``), in a fixed
    order (by ``day``, then ``order``), and per ``cell`` (a wave and an area) only the first
    multiple of ``step``: 40 of 47. A response sent today joins tomorrow at the earliest,
    and only when its cell has ``step`` new ones. Because past days never gain responses,
    every published sample contains the previous one, and two samples differ by 0 or at
    least ``step`` responses in every cell, and so in every union of cells (an arm, a wave).
    Polling before and after one new answer therefore shows the same figures.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per complete response.
    cell : list of str
        Columns naming the smallest group any figure is published for (wave and area).
    day : str
        Column with the day the response was sent (date or ISO text).
    order : str
        Column with a unique, stable key (the response id).
    today : date
        Today (UTC): responses sent today or later are left out.
    step : int
    counts : str, optional
        Boolean column of the responses that count towards a step (those kept by
        cleaning, so that the kept ones too move only in steps); the others are taken
        when they come before the last counted one taken. Default: all count.

    Returns
    -------
    pandas.Series
        True for the responses in the published sample.
    """
    if frame.empty:
        return pd.Series(True, index=frame.index, dtype=bool)
    days = pd.to_datetime(frame[day], errors="coerce")
    past = days < pd.Timestamp(today)
    ranked: Any = frame.assign(_day=days, _past=past).sort_values(["_day", order])
    ranked = ranked[ranked["_past"]]
    keys = [ranked[c].astype("string").fillna("") for c in cell]
    counted = ranked[counts].astype(bool) if counts else pd.Series(True, index=ranked.index)
    # Counted responses up to and including each one, and the cell's whole tens.
    running = counted.astype(int).groupby(keys, dropna=False).cumsum()
    limit = (counted.astype(int).groupby(keys, dropna=False).transform("sum") // step) * step
    keep = (running <= limit) & (counted | (running < limit))
    return pd.Series(frame.index.isin(keep[keep].index), index=frame.index)
