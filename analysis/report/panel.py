"""The report's panel section: paired change, attrition by area and precision gained.

Only when some panel household answered two consecutive waves. Disclosure control as
everywhere (:mod:`analysis.disclosure`): the pairs used are the first whole tens of
pairs in a fixed order (the later answer's place in the published sample), estimates
need :data:`~analysis.change.MIN_N` pairs, and attrition counts from 1 to 9 are hidden
with their complements.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import pandas as pd

from analysis.change import MIN_N
from analysis.disclosure import mask_count, suppress_counts
from analysis.instrument_model import InstrumentModel
from analysis.panel import attrition_by_area, panel_members, panel_summary
from analysis.report.values import MIN_CELL
from analysis.scoring import score

__all__ = ["panel_stage"]

_ESTIMATES = ("change", "se", "ci_lower", "ci_upper", "pvalue")


def _whole_tens(frame: pd.DataFrame, person: Hashable, before: str, after: str) -> set[Any]:
    """Panel ids paired in ``before`` and ``after``: the first whole tens, in a fixed order."""
    ids_before = set(frame[person][frame["_wave"] == before])
    later = frame[(frame["_wave"] == after) & frame[person].isin(ids_before)]
    ordered = list(dict.fromkeys(later[person]))  # the published sample's order
    return set(ordered[: len(ordered) // MIN_CELL * MIN_CELL])


def _attrition(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of :func:`analysis.attrition_by_area` with small counts and complements hidden."""
    areas = [a for a in table.index if a != "all"]
    hidden: dict[str, Any] = {}
    for column in ("answered_before", "answered_both"):
        cells = {a: int(table.loc[a, column]) for a in areas}
        hidden[column] = suppress_counts(cells)
    rows = []
    for key in [*areas, "all"]:
        row: dict[str, Any] = {"area": str(key)}
        shown = True
        for column, suppression in hidden.items():
            gone = key in suppression or (key == "all" and suppression.total)
            row[column] = mask_count(int(table.loc[key, column]), suppressed=gone)
            shown = shown and isinstance(row[column], int)
        row["retained"] = float(table.loc[key, "retained"]) if shown else None
        rows.append(row)
    return rows


def panel_stage(
    kept: pd.DataFrame,
    spec: InstrumentModel,
    model: Mapping[str, Any],
    labels: Sequence[str],
    columns: Mapping[str, Hashable | None],
) -> list[dict[str, Any]]:
    """One entry per pair of consecutive waves with panel pairs; empty when there are none.

    Parameters
    ----------
    kept : pandas.DataFrame
        Kept responses with ``_wave``, in the published sample's order.
    spec : InstrumentModel
    model : mapping
        The scoring model.
    labels : sequence of str
        Wave labels in order.
    columns : mapping
        ``panel`` (the panel id column) and ``area``.
    """
    person, area = columns.get("panel"), columns["area"]
    if person is None or person not in kept.columns:
        return []
    members = kept[panel_members(kept, person)]
    if members.empty:
        return []
    scored = pd.concat([members[["_wave", person]], score(members, model)], axis=1)
    scored["_area"] = members[area] if area in members.columns else ""
    entries = []
    for before, after in itertools.pairwise(labels):
        pairs = _whole_tens(scored, person, before, after)
        if not pairs:
            continue
        both = scored[scored[person].isin(pairs)]
        indices = []
        for construct in spec.constructs:
            result = panel_summary(both, construct.id, "_wave", person, before, after)
            entry = {"construct": construct.id, "label": construct.label}
            entry |= {k: result[k] for k in (*_ESTIMATES, "se_independent", "precision_gain")}
            entry["withheld"] = result["withheld"] and (
                f"n = {mask_count(result['n_pairs'])} pairs < {MIN_N}: withheld "
                "(disclosure control)"
            )
            indices.append(entry)
        # Households counted as retained: only the published whole tens of pairs.
        first = scored[scored["_wave"] == before]
        later = scored[(scored["_wave"] == after) & scored[person].isin(pairs)]
        table = attrition_by_area(
            pd.concat([first, later]), "_wave", "_area", person, before, after
        )
        entries.append(
            {
                "before": before,
                "after": after,
                "n_pairs": mask_count(len(pairs)),
                "attrition": _attrition(table),
                "indices": indices,
            }
        )
    return entries
