"""Index by wave x area x group, with small cells suppressed so that they stay hidden.

For every index and wave the table has one row per area (``level = "area"``), a subtotal per
design group (``"group"``: treated, comparison, or outside the design) and the wave total
(``"wave"``). Counts and means are of responses without a quality flag, weighted like the
validation report (:func:`analysis.weighted_mean_ci`).

Disclosure control:

- **primary**: a cell with fewer than :data:`MIN_CELL` responses is suppressed (no count, no
  mean);
- **complementary**: a published total equals the sum of its parts, so a single suppressed
  part could be recomputed by subtraction. In every relation (group subtotal = its areas,
  wave total = its groups) further parts, smallest first, are suppressed until the published
  figures say nothing about a small cell beyond "<10" (:func:`analysis.disclosure.
  suppress_counts`, the platform's one rule), the total only when no parts are left.
- means are given only from :data:`analysis.MIN_N` responses on (precision); the count of a
  cell between the two thresholds is published. A subtotal's or total's mean is withheld
  when, with the published means of its parts, it would give the mean of fewer than
  :data:`analysis.MIN_N` responses (:func:`analysis.disclosure.suppress_estimates`).
- the rows come from the published sample (:func:`analysis.disclosure.publication_sample`),
  so the table changes only in steps of 10 responses per wave and area.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis import MIN_N, weighted_mean_ci
from analysis.disclosure import MIN_CELL, suppress_counts, suppress_estimates

COLUMNS = [
    "index",
    "initiative_id",
    "wave_order",
    "wave",
    "level",
    "group",
    "area",
    "n",
    "mean",
    "ci_lower",
    "ci_upper",
    "suppressed",
]


def aggregate_table(
    data: pd.DataFrame, indices: list[str], *, min_cell: int = MIN_CELL, min_n: int = MIN_N
) -> pd.DataFrame:
    """The suppressed table (see module notes) from dataset rows.

    Parameters
    ----------
    data : pandas.DataFrame
        Dataset rows with ``wave_order``, ``wave``, ``area``, ``group``, ``weight``,
        ``flag_exclude`` and the index columns.
    indices : list of str
        Index columns (``idx_trust``, ...).

    Returns
    -------
    pandas.DataFrame
        :data:`COLUMNS`; ``suppressed`` is ``""``, ``"primary"`` or ``"complementary"``, and
        suppressed rows have no count or mean.
    """
    rows: list[dict[str, Any]] = []
    kept = data[data["flag_exclude"] == 0] if len(data) else data
    for index in indices:
        scored = kept[kept[index].notna()] if len(kept) else kept
        waves = scored.groupby(["initiative_id", "wave_order", "wave"], sort=True)
        for (initiative, order, wave), in_wave in waves:
            cells = [("wave", "", "", in_wave)]
            for group, in_group in in_wave.groupby("group", sort=True):
                cells.append(("group", group, "", in_group))
                for area, in_area in in_group.groupby("area", sort=True):
                    cells.append(("area", group, area, in_area))
            for level, group, area, part in cells:
                estimate = weighted_mean_ci(part[index], part["weight"], min_n=min_n)
                rows.append(
                    {
                        "index": index,
                        "initiative_id": int(initiative),
                        "wave_order": int(order),
                        "wave": wave,
                        "level": level,
                        "group": group,
                        "area": area,
                        "n": int(estimate["n"]),
                        "mean": estimate["mean"],
                        "ci_lower": estimate["ci_lower"],
                        "ci_upper": estimate["ci_upper"],
                    }
                )
    table = pd.DataFrame(rows, columns=COLUMNS[:-1]).reset_index(drop=True)
    table["suppressed"] = np.where(table["n"] < min_cell, "primary", "")
    _complement(table)
    hidden = table["suppressed"] != ""
    for column in ("mean", "ci_lower", "ci_upper"):
        table[column] = table[column].astype(float).mask(hidden)
    _complement_means(table, min_n)
    table["n"] = table["n"].astype("Int64").mask(hidden)
    return table[COLUMNS]


def relations(table: pd.DataFrame) -> list[tuple[int, list[int]]]:
    """(total row, part rows) of every sum relation in the table, by row position."""
    found = []
    for _key, rows in table.groupby(["index", "initiative_id", "wave_order"], sort=False):
        total = rows.index[rows["level"] == "wave"]
        groups = rows[rows["level"] == "group"]
        found.append((int(total[0]), [int(i) for i in groups.index]))
        for group, subtotal in groups.groupby("group"):
            areas = rows[(rows["level"] == "area") & (rows["group"] == group)]
            found.append((int(subtotal.index[0]), [int(i) for i in areas.index]))
    return found


def _complement(table: pd.DataFrame) -> None:
    """Suppress further cells until no relation lets a small cell be narrowed down.

    ``table`` has a default (0..n-1) index.
    """
    links = relations(table)
    changed = True
    while changed:
        changed = False
        for total, parts in links:
            hidden = [p for p in parts if table.at[p, "suppressed"]]
            if table.at[total, "suppressed"]:
                if not hidden and parts:  # the parts would add up to the hidden total
                    smallest = min(parts, key=lambda row: table.at[row, "n"])
                    table.at[smallest, "suppressed"] = "complementary"
                    changed = True
                continue
            result = suppress_counts({p: int(table.at[p, "n"]) for p in parts}, already=hidden)
            extra = [total] if result.total else []
            if len(result.cells) == 1 and not extra:  # one hidden part: total minus the rest
                shown = [p for p in parts if p not in result.cells]
                extra = [min(shown, key=lambda row: table.at[row, "n"])] if shown else [total]
            for row in [*result.cells, *extra]:
                if not table.at[row, "suppressed"]:
                    table.at[row, "suppressed"] = "complementary"
                    changed = True


def _complement_means(table: pd.DataFrame, min_n: int) -> None:
    """Withhold a total's mean where it would give the mean of withheld parts together."""
    links = relations(table)
    changed = True
    while changed:
        changed = False
        for total, parts in links:
            if pd.isna(table.at[total, "mean"]):
                continue
            sizes = {p: int(table.at[p, "n"]) for p in parts}
            withheld = [p for p in parts if pd.isna(table.at[p, "mean"]) and sizes[p] >= min_n]
            if suppress_estimates(sizes, hidden=withheld, min_n=min_n).total:
                table.loc[total, ["mean", "ci_lower", "ci_upper"]] = np.nan
                changed = True
