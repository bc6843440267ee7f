"""Report stages 6 and 7: the frozen scoring model, and index means and change by wave.

Indices are scored with one scoring model for every wave (frozen at the reference wave,
or given), so that change is measured on one ruler. Means and wave-to-wave changes per
arm treat responses as independent; difference-in-differences compares the areas' changes
(CR2, Bell-McCaffrey degrees of freedom: :func:`analysis.difference_in_differences`).
Estimates on fewer than :data:`analysis.change.MIN_N` responses are withheld.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import pandas as pd

from analysis import svg
from analysis.change import MIN_N, wave_change, wave_means
from analysis.did import difference_in_differences
from analysis.disclosure import mask_count, suppress_counts, suppress_estimates
from analysis.instrument_model import InstrumentModel
from analysis.report.values import call_or_reason, mask_reason, masked_count
from analysis.scoring import freeze_scoring_model, score, verify_scoring_model
from analysis.variance_components import variance_components
from analysis.weighting import design_effect

__all__ = ["construct_changes", "construct_dids", "construct_means", "index_stage", "scoring_stage"]

_DID_METHOD = "Area-level changes, CR2 standard error, t with Bell-McCaffrey df"


def scoring_stage(
    kept: pd.DataFrame,
    spec: InstrumentModel,
    reference_label: str,
    given: Mapping[str, Any] | None,
) -> tuple[dict[str, Any] | None, str | None]:
    """The scoring model of the indices: the one given (checked), or one frozen now.

    Parameters
    ----------
    kept : pandas.DataFrame
        Kept responses (raw codes) with the wave label in ``_wave``.
    spec : InstrumentModel
    reference_label : str
        The wave to freeze the model at.
    given : mapping, optional
        A model frozen earlier (:func:`analysis.freeze_scoring_model`).

    Returns
    -------
    tuple
        ``(model, None)``, or ``(None, reason)`` when no model could be frozen.

    Raises
    ------
    ValueError
        If the given model's hash does not match or its items are not in the data.
    """
    if given is not None:
        verify_scoring_model(given)
        absent = sorted(set(given["items"]) - set(kept.columns))
        if absent:
            raise ValueError(
                f"Item column(s) of the scoring model missing from the data: {absent}."
            )
        return dict(given), None
    return call_or_reason(
        freeze_scoring_model,
        kept[kept["_wave"] == reference_label],
        spec.model,
        {i: spec.scale[i] for i in spec.items},
        reverse=sorted(spec.reverse),
        instrument=spec.name,
        reference_label=reference_label,
    )


def index_stage(
    kept: pd.DataFrame,
    spec: InstrumentModel,
    model: Mapping[str, Any],
    labels: Sequence[str],
    *,
    columns: Mapping[str, Hashable | None],
    notes: list[str],
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, str]]:
    """Index means, changes and difference-in-differences of every construct.

    Parameters
    ----------
    kept : pandas.DataFrame
        Kept responses with the wave label in ``_wave``.
    spec : InstrumentModel
    model : mapping
        The scoring model (:func:`scoring_stage`).
    labels : sequence of str
        Wave labels in order.
    columns : mapping
        The ``weight``, ``group`` and ``area`` column labels (``weight`` may be None).
    notes : list of str
        The report's notes; what was left out and why is appended.

    Returns
    -------
    indices : dict
        The report's ``indices`` section, by construct id.
    weights : list of dict
        Design effect and effective n per wave (weighted reports only).
    charts : dict of str to str
        One trend chart per construct (``"trend:<id>"``).
    """
    scored, weights = _scored(kept, model, labels, columns, notes)
    arms = ["treated", "comparison"] if "_arm" in scored else []
    indices: dict[str, Any] = {}
    charts: dict[str, str] = {}
    for construct in spec.constructs:
        cid = construct.id
        means, changes = [], []
        for arm in [*arms, "all"]:
            part = scored if arm == "all" else scored[scored["_arm"] == arm]
            means += construct_means(part, cid, labels, arm)
            changes += construct_changes(part, cid, labels, arm)
        if arms:
            protect_arms(scored, cid, means, changes)
        dids = construct_dids(scored, cid, labels, columns)
        indices[cid] = {"label": construct.label, "means": means, "changes": changes, "did": dids}
        if "_area" in scored:  # for planning the next waves (analysis.variance_components)
            indices[cid]["variance"] = variance_components(scored, cid, "_wave", "_area")
        series = {
            arm: [
                None
                if m["withheld"] or m["mean"] is None
                else (m["mean"], m["ci_lower"], m["ci_upper"])
                for m in means
                if m["arm"] == arm
            ]
            for arm in arms or ["all"]
        }
        charts[f"trend:{cid}"] = svg.trend_chart(
            labels, series, title=f"{construct.label}: index by wave (95% CI)"
        )
    return indices, weights, charts


def _scored(
    kept: pd.DataFrame,
    model: Mapping[str, Any],
    labels: Sequence[str],
    columns: Mapping[str, Hashable | None],
    notes: list[str],
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Index scores with ``_wave``, ``_w`` (weight), ``_arm``, ``_area``, ``_treated``."""
    weight, group, area = columns["weight"], columns["group"], columns["area"]
    scored = pd.concat([kept[["_wave"]], score(kept, model)], axis=1)
    has_weight = weight is not None and weight in kept.columns
    scored["_w"] = pd.to_numeric(kept[weight], errors="coerce") if has_weight else 1.0
    weights = []
    if weight is not None and not has_weight:
        notes.append(f"Weight column {weight!r} not found: estimates are unweighted.")
    if has_weight:
        for label in labels:
            deff, n_eff = design_effect(scored.loc[scored["_wave"] == label, "_w"])
            weights.append({"wave": label, "design_effect": deff, "n_effective": n_eff})
    if len(labels) < 2:
        notes.append("Only one wave: no change or difference-in-differences estimates.")
    if group in kept.columns:
        arm_values = kept[group].astype("string").str.lower()
        scored["_arm"] = arm_values.where(arm_values.isin(["treated", "comparison"]))
        scored["_treated"] = scored["_arm"] == "treated"
    else:
        notes.append(f"No {group!r} column: no treated/comparison split or DiD.")
        scored["_treated"] = False
    if area in kept.columns:
        scored["_area"] = kept[area]
    return scored, weights


def construct_means(
    part: pd.DataFrame, cid: str, labels: Sequence[str], arm: str
) -> list[dict[str, Any]]:
    """Weighted index mean with 95% CI per wave, withheld below ``MIN_N`` responses.

    Parameters
    ----------
    part : pandas.DataFrame
        Scored responses of one arm (see :func:`index_stage`).
    cid : str
        The construct (index column).
    labels : sequence of str
        Wave labels in order; a wave without responses gets an empty, withheld row.
    arm : str
        ``"treated"``, ``"comparison"`` or ``"all"``.

    Returns
    -------
    list of dict
    """
    table = wave_means(part, cid, "_wave", weight="_w")
    by_wave = {str(r["_wave"]): r for r in table.to_dict(orient="records")}
    rows = []
    for label in labels:
        r = by_wave.get(label)
        n = 0 if r is None else int(r["n"])
        # A table with some withheld waves holds NaN (truthy) in the others.
        withheld = r is None or (isinstance(r["withheld"], str) and bool(r["withheld"]))
        rows.append(
            {
                "arm": arm,
                "wave": label,
                "n": mask_count(n),
                "mean": None if r is None else r["mean"],
                "ci_lower": None if r is None else r["ci_lower"],
                "ci_upper": None if r is None else r["ci_upper"],
                "withheld": f"n = {mask_count(n)} < {MIN_N}: estimate withheld (disclosure control)"
                if withheld
                else None,
            }
        )
    return rows


#: Why the mean of all areas is withheld although it rests on enough responses.
COMPLEMENT_REASON = (
    "withheld so that a smaller group's mean cannot be recomputed from it (disclosure control)"
)


def protect_arms(
    scored: pd.DataFrame, cid: str, means: list[dict[str, Any]], changes: list[dict[str, Any]]
) -> None:
    """Complementary suppression across the arms and "all" of each wave, in place.

    "All" is treated + comparison + responses outside the design ("other", never shown
    on its own), so with the arms' means and sizes it would give the mean of a withheld
    arm (or of "other"). Per wave, :func:`analysis.disclosure.suppress_estimates` decides
    whether the mean of "all" is withheld, and :func:`analysis.disclosure.suppress_counts`
    whether its n is hidden (``"≥10"``); changes resting on a withheld mean are withheld.

    Parameters
    ----------
    scored : pandas.DataFrame
        Scored responses with ``_wave`` and ``_arm`` (see :func:`index_stage`).
    cid : str
        The construct.
    means, changes : list of dict
        Rows of :func:`construct_means` and :func:`construct_changes` of every arm.
    """
    answered = scored[scored[cid].notna() & scored["_w"].notna()]
    arm = answered["_arm"].astype("object").where(answered["_arm"].notna(), "other")
    sizes = answered.groupby([answered["_wave"].astype(str), arm]).size()
    hidden_all: dict[str, int] = {}
    withheld: set[tuple[str, str]] = set()
    for row in means:
        wave = row["wave"]
        n = {a: int(sizes.get((wave, a), 0)) for a in ("treated", "comparison", "other")}
        counts = suppress_counts(n, prefer_total=True)
        if row["arm"] == "all":
            estimates = suppress_estimates(n, hidden=["other"])
            row["n"] = mask_count(sum(n.values()), suppressed=counts.total)
            if counts.total:
                hidden_all[wave] = sum(n.values())
                row["withheld"] = _hide_n(row["withheld"], hidden_all[wave])
            if estimates.total and not row["withheld"]:
                row.update(mean=None, ci_lower=None, ci_upper=None, withheld=COMPLEMENT_REASON)
        if row["withheld"]:
            withheld.add((row["arm"], wave))
    for ch in changes:
        if ch["arm"] == "all":
            for side in ("before", "after"):
                if ch[side] in hidden_all and isinstance(ch[f"n_{side}"], int):
                    ch[f"n_{side}"] = mask_count(ch[f"n_{side}"], suppressed=True)
                    ch["withheld"] = _hide_n(ch["withheld"], hidden_all[ch[side]])
        if ch["withheld"] is None and (
            (ch["arm"], ch["before"]) in withheld or (ch["arm"], ch["after"]) in withheld
        ):
            stats = ("change", "ci_lower", "ci_upper", "pvalue", "effect_size")
            ch.update(dict.fromkeys(stats), withheld=COMPLEMENT_REASON)


def _hide_n(reason: str | None, n: int) -> str | None:
    """A withheld reason without the hidden count ``n`` ("n = 16 < 30" -> "n = ≥10 < 30")."""
    if reason and reason.startswith(f"n = {n} "):
        return f"n = {mask_count(n, suppressed=True)} " + reason[len(f"n = {n} ") :]
    return reason


def construct_changes(
    part: pd.DataFrame, cid: str, labels: Sequence[str], arm: str
) -> list[dict[str, Any]]:
    """Change of the index between consecutive waves, with CI and effect size.

    Parameters
    ----------
    part, cid, labels, arm
        See :func:`construct_means`.

    Returns
    -------
    list of dict
    """
    rows = []
    for before, after in itertools.pairwise(labels):
        ch = wave_change(part, cid, "_wave", before, after, weight="_w")
        rows.append(
            {
                "arm": arm,
                "before": before,
                "after": after,
                "n_before": masked_count(ch["n_before"]),
                "n_after": masked_count(ch["n_after"]),
                **{k: ch[k] for k in ("change", "ci_lower", "ci_upper", "pvalue", "effect_size")},
                "withheld": mask_reason(ch["withheld"]),
            }
        )
    return rows


def construct_dids(
    scored: pd.DataFrame,
    cid: str,
    labels: Sequence[str],
    columns: Mapping[str, Hashable | None],
) -> list[dict[str, Any]]:
    """Difference-in-differences, treated vs comparison areas, between consecutive waves.

    Parameters
    ----------
    scored : pandas.DataFrame
        Scored responses (see :func:`index_stage`).
    cid : str
        The construct.
    labels : sequence of str
        Wave labels in order.
    columns : mapping
        The ``group`` and ``area`` column labels, named when one is missing.

    Returns
    -------
    list of dict
        One estimate per pair of waves, or one ``skipped`` entry with the reason.
    """
    if "_arm" not in scored:
        return [{"skipped": f"No {columns['group']!r} column: no treated vs comparison DiD."}]
    if "_area" not in scored:
        return [{"skipped": f"No {columns['area']!r} column: DiD needs areas as clusters."}]
    tc = scored[scored["_arm"].notna()]
    rows = []
    for before, after in itertools.pairwise(labels):
        d = difference_in_differences(
            tc, cid, "_wave", "_area", "_treated", before, after, weight="_w"
        )
        estimates = ("did", "se", "ci_lower", "ci_upper", "pvalue", "effect_size")
        rows.append(
            {
                "before": before,
                "after": after,
                "cells": {
                    k: {"n": masked_count(v["n"]), "mean": v.get("mean")}
                    for k, v in d["cells"].items()
                },
                "n_areas_treated": d["n_areas_treated"],
                "n_areas_comparison": d["n_areas_comparison"],
                **{k: d[k] for k in estimates},
                "df": d["df"],
                "method": _DID_METHOD,
                "caution": d["caution"],
                "withheld": mask_reason(d["withheld"]),
            }
        )
    return rows
