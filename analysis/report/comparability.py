"""Report stage 8: the comparability gates on every change and difference-in-differences.

Each index is checked on the items it is scored from (:func:`analysis.index_comparability`)
across the two waves of each change, across treated and comparison areas, and across
languages. A change is published as a number only when its index is comparable (or
partially comparable, with the freed items named) across its two waves; a
difference-in-differences also across the arms. A language group that fails withholds
both; language groups too small to check are left out of that check (a city's second
language often has few answers), and the report says so.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import pandas as pd

from analysis.comparability import MIN_GROUP_N, index_comparability
from analysis.instrument_model import InstrumentModel
from analysis.report.fit import cfa_estimator

__all__ = ["apply_gates", "comparability_stage"]

_NUMBERS = ("change", "did", "se", "ci_lower", "ci_upper", "pvalue", "effect_size")
_PUBLISHABLE = ("comparable", "partial")


def comparability_stage(
    keyed: pd.DataFrame,
    kept: pd.DataFrame,
    model: Mapping[str, Any],
    labels: Sequence[str],
    columns: Mapping[str, Hashable | None],
    spec: InstrumentModel | None = None,
) -> dict[str, dict[str, Any]]:
    """The checks per index: ``waves`` (by ``"before | after"``), ``arms``, ``languages``.

    ``spec`` (the instrument) decides the estimator of each index
    (:func:`~analysis.report.fit.cfa_estimator` on its items); without it, ML.
    """
    group, language = columns["group"], columns["language"]
    arms = None
    if group in kept.columns:
        values = kept[group].astype("string").str.lower()
        arms = values.where(values.isin(["treated", "comparison"]))
    out: dict[str, dict[str, Any]] = {}
    for cid, construct in model.get("constructs", {}).items():
        items = [item for item in construct["items"] if item in keyed.columns]
        known = spec is not None and all(item in spec.scale for item in items)
        estimator = cfa_estimator(spec, items) if spec is not None and known else "ML"
        waves = {}
        for before, after in itertools.pairwise(labels):
            pair = keyed["_wave"].isin([before, after])
            waves[f"{before} | {after}"] = index_comparability(
                keyed[pair],
                items,
                keyed.loc[pair, "_wave"],
                what=f"waves {before} and {after}",
                estimator=estimator,
            )
        entry: dict[str, Any] = {"waves": waves, "estimator": estimator}
        if arms is not None:
            entry["arms"] = index_comparability(
                keyed, items, arms, what="treated and comparison areas", estimator=estimator
            )
        if language in kept.columns:
            entry["languages"] = _languages(keyed, items, kept[language], estimator)
        out[cid] = entry
    return out


def _languages(
    keyed: pd.DataFrame, items: list[Hashable], language: pd.Series, estimator: str
) -> dict[str, Any]:
    answered = keyed[items].notna()
    counted = answered.any(axis=1) if estimator == "WLSMV" else answered.all(axis=1)
    sizes = counted.groupby(language.astype("string")).sum()
    large = [str(g) for g, n in sizes.items() if n >= MIN_GROUP_N]
    if len(large) < 2:
        kind = "answers" if estimator == "WLSMV" else "complete answers"
        return {
            "status": "unchecked",
            "reason": f"Fewer than two languages with {MIN_GROUP_N} {kind}: "
            "not checked across languages.",
            "freed": [],
        }
    chosen = language.astype("string").where(language.astype("string").isin(large))
    return index_comparability(
        keyed, items, chosen, what=f"languages {', '.join(large)}", estimator=estimator
    )


def apply_gates(indices: dict[str, Any], gates: Mapping[str, Mapping[str, Any]]) -> None:
    """Withhold every change and DiD whose index is not comparable across its groups."""
    for cid, entry in indices.items():
        gate = gates.get(cid)
        if not isinstance(entry, dict) or gate is None:
            continue
        entry["comparability"] = gate
        language = gate.get("languages")
        for row in entry.get("changes", []):
            checks = [gate["waves"].get(f"{row['before']} | {row['after']}")]
            _gate(row, [*checks, _failed_only(language)])
        for row in entry.get("did", []):
            if "skipped" in row:
                continue
            checks = [gate["waves"].get(f"{row['before']} | {row['after']}"), gate.get("arms")]
            _gate(row, [*checks, _failed_only(language)])


def _failed_only(check: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    return check if check is not None and check["status"] == "not_comparable" else None


def _gate(row: dict[str, Any], checks: list[Mapping[str, Any] | None]) -> None:
    blocking = [c for c in checks if c is not None and c["status"] not in _PUBLISHABLE]
    partial = [c for c in checks if c is not None and c["status"] == "partial"]
    if blocking:
        if not row.get("withheld"):
            status = "Not comparable" if blocking[0]["status"] == "not_comparable" else "Unchecked"
            row["withheld"] = f"{status}: {blocking[0]['reason']}"
        for key in _NUMBERS:
            if key in row:
                row[key] = None
        row["comparable"] = False
        return
    row["comparable"] = True
    if partial:
        row["comparability_note"] = " ".join(c["reason"] for c in partial)
