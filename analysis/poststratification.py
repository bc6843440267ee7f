"""Population weights for one area and wave: post-stratification to the joint age band x
gender table, with a documented collapsing of thin cells.

Each respondent in cell *c* weighs :math:`N_c / n_c` (the cell's population over its
respondents), so the weights of an area and wave add up to the area's population: pooled
means then weigh each area by its population, not by how many of its residents answered.
With the joint table known, this is exact where raking the two margins separately would
only match the margins (Kalton & Flores-Cervantes, 2003).

Cells with fewer than ``min_count`` respondents give unstable weights (one person carrying
a whole cell). They are collapsed, in this order, until every cell has at least
``min_count`` respondents or everything is one cell:

1. genders within an age band: a band with a thin gender cell is weighted as one cell;
2. neighbouring age bands: a thin band (or group of bands) is merged with the neighbour
   that has fewer respondents (the younger one on a tie).

Respondents outside the table's categories (a gender the table does not count, "prefer
not to say", no answer) carry the average weight of the area's other respondents.

References
----------
Kalton, G., & Flores-Cervantes, I. (2003). Weighting methods. *Journal of Official
Statistics*, 19(2), 81-97.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["PostStratification", "poststratify"]

#: A cell with fewer respondents than this is collapsed with its neighbours.
MIN_COUNT = 5


@dataclass(frozen=True)
class PostStratification:
    """Weights of one area and wave, and how the cells were formed.

    Attributes
    ----------
    weights : pandas.Series
        Indexed like the respondents; they add up to the table's population (respondents
        outside its categories carry the mean weight on top).
    groups : list of str
        The weighting cells used, as "band/gender" or "bands 3-4" labels.
    collapsed : bool
        Whether any thin cell was merged.
    """

    weights: pd.Series
    groups: list[str] = field(default_factory=list)
    collapsed: bool = False


def poststratify(
    people: pd.DataFrame,
    population: Mapping[tuple[str, str], float],
    *,
    min_count: int = MIN_COUNT,
    counted: np.ndarray | pd.Series | None = None,
) -> PostStratification:
    """Weights for ``people`` (columns ``age_band`` and ``gender``, codes as strings).

    ``population`` maps (age band, gender) to the number of residents. ``counted`` (all
    rows by default) marks the respondents the weights are computed from, for example
    those kept after cleaning: they add up to the population, and the other rows get the
    weight of their cell. Raises ValueError when no counted respondent is in a populated
    cell.
    """
    table = {cell: float(n) for cell, n in population.items() if n > 0}
    bands = sorted({band for band, _gender in table}, key=_band_order)
    cells = list(zip(people["age_band"], people["gender"], strict=True))
    inside = np.array([cell in table for cell in cells], dtype=bool)
    kept = np.ones(len(cells), dtype=bool) if counted is None else np.asarray(counted, dtype=bool)
    use = inside & kept
    counts = pd.Series([c for c, ok in zip(cells, use, strict=True) if ok]).value_counts()
    if not use.any():
        raise ValueError("no respondent in the population table's categories")
    blocks = _blocks(bands, table, counts, min_count)
    group_of: dict[tuple[str, str], int] = {}
    labels, totals = [], []
    for number, (block_bands, split) in enumerate(_expand(blocks, table)):
        members = [c for c in table if c[0] in block_bands and (split is None or c[1] == split)]
        for cell in members:
            group_of[cell] = number
        labels.append(_label(block_bands, split))
        totals.append(sum(table[c] for c in members))
    group = np.array([group_of.get(cell, -1) for cell in cells])
    n_group = np.bincount(group[use], minlength=len(totals)).astype(float)
    per_person = np.divide(totals, n_group, out=np.zeros(len(totals)), where=n_group > 0)
    weights = np.where(inside, per_person[np.where(inside, group, 0)], np.nan)
    weights[~inside] = weights[use].mean()
    collapsed = len(labels) < len(table)
    return PostStratification(pd.Series(weights, index=people.index), labels, collapsed)


def _band_order(band: str) -> tuple[float, str]:
    try:
        return (float(band), band)
    except ValueError:
        return (float("inf"), band)


def _blocks(
    bands: list[str],
    table: Mapping[tuple[str, str], float],
    counts: pd.Series,
    min_count: int,
) -> list[tuple[list[str], bool]]:
    """Runs of age bands, each with whether its genders stay separate cells."""
    blocks: list[tuple[list[str], bool]] = []
    for band in bands:
        genders = [c for c in table if c[0] == band]
        split = len(genders) > 1 and all(counts.get(c, 0) >= min_count for c in genders)
        blocks.append(([band], split))

    def size(block: tuple[list[str], bool]) -> int:
        return int(sum(counts.get(c, 0) for c in table if c[0] in block[0]))

    while len(blocks) > 1:
        thin = [i for i, b in enumerate(blocks) if not b[1] and size(b) < min_count]
        if not thin:
            break
        i = min(thin, key=lambda j: (size(blocks[j]), j))
        neighbours = [j for j in (i - 1, i + 1) if 0 <= j < len(blocks)]
        j = min(neighbours, key=lambda k: (size(blocks[k]), k))
        low, high = sorted((i, j))
        merged = (blocks[low][0] + blocks[high][0], False)
        blocks[low : high + 1] = [merged]
    return blocks


def _expand(
    blocks: list[tuple[list[str], bool]], table: Mapping[tuple[str, str], float]
) -> list[tuple[list[str], str | None]]:
    """Weighting cells: a split band gives one cell per gender, any other block one cell."""
    out: list[tuple[list[str], str | None]] = []
    for block_bands, split in blocks:
        if split:
            genders = sorted({g for b, g in table if b == block_bands[0]})
            out.extend((block_bands, gender) for gender in genders)
        else:
            out.append((block_bands, None))
    return out


def _label(block_bands: list[str], split: str | None) -> str:
    bands = block_bands[0] if len(block_bands) == 1 else f"{block_bands[0]}-{block_bands[-1]}"
    return f"age band {bands}, " + (f"gender {split}" if split else "all genders")
