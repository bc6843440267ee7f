"""Report stage 4: each construct's items and reliability at the reference wave.

Omega total (the primary coefficient) and Cronbach's alpha, each with a seeded
percentile bootstrap interval: alpha's from :func:`analysis.reliability.reliability`,
omega's from :func:`analysis.reliability.omega_bootstrap_ci` (all resamples fitted at
once).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis.categorical_omega import categorical_omega
from analysis.instrument_model import ConstructModel, InstrumentModel
from analysis.items import item_analysis, item_distributions
from analysis.reliability import omega_bootstrap_ci, reliability
from analysis.report.values import MIN_CELL, call_or_reason, masked_count
from analysis.verdicts import (
    MIN_OMEGA_ITEMS,
    MIN_RELIABILITY_N,
    small_sample_reason,
    verdict,
    withhold_badges,
)

__all__ = ["constructs_stage", "index_scale", "ordered_items", "reliability_entry"]


def constructs_stage(
    reference: pd.DataFrame,
    spec: InstrumentModel,
    *,
    n_boot: int,
    seed: int,
    withheld: str | None,
) -> dict[str, Any]:
    """Item analysis, answer distributions and reliability of every construct.

    Parameters
    ----------
    reference : pandas.DataFrame
        Kept responses of the reference wave, items reverse-coded
        (:func:`~analysis.report.values.keyed_items`).
    spec : InstrumentModel
    n_boot, seed : int
        Bootstrap resamples and seed of the reliability intervals.
    withheld : str, optional
        Why the reference wave is too small to report on; then every construct says so.

    Returns
    -------
    dict
        The report's ``constructs`` section, by construct id.
    """
    out: dict[str, Any] = {}
    for construct in spec.constructs:
        entry: dict[str, Any] = {"label": construct.label, "items": list(construct.items)}
        if withheld:
            entry["withheld"] = withheld
        else:
            entry.update(_construct_tables(reference, spec, construct))
            entry["reliability"] = reliability_entry(
                index_scale(reference, spec, list(construct.items)),
                list(construct.items),
                n_boot=n_boot,
                seed=seed,
                ordered=ordered_items(spec, list(construct.items)),
            )
        out[construct.id] = entry
    return out


def _construct_tables(
    reference: pd.DataFrame, spec: InstrumentModel, construct: ConstructModel
) -> dict[str, Any]:
    cols = list(construct.items)
    rows = [
        {
            "item": item,
            "reverse": item in spec.reverse,
            "scale": list(spec.scale[str(item)]),
            "n": masked_count(row["n"]),
            "missing_share": row["missing_share"],
            "mean": row["mean"],
            "sd": row["sd"],
            "item_rest_r": row["item_rest_r"],
        }
        for item, row in item_analysis(reference, cols).iterrows()
    ]
    distribution = [
        {
            "item": r["item"],
            "value": None if pd.isna(r["value"]) else r["value"],
            "n": masked_count(r["n"]),
            "share": r["share"] if r["n"] >= MIN_CELL else None,
        }
        for r in item_distributions(reference, cols).to_dict(orient="records")
    ]
    return {"item_analysis": rows, "distribution": distribution}


def index_scale(reference: pd.DataFrame, spec: InstrumentModel, cols: list[str]) -> pd.DataFrame:
    """The items rescaled to 0-100 (POMP), as the index averages them: reliability is then
    that of the index as published, also when the items have different answer scales."""
    out = reference[cols].apply(pd.to_numeric, errors="coerce")
    for item in cols:
        low, high = spec.scale[str(item)]
        out[item] = (out[item] - low) / (high - low) * 100.0
    return out


def ordered_items(spec: InstrumentModel, cols: list[str]) -> bool:
    """Whether every item is answered on an integer scale of 2 to 11 categories."""
    return all(
        float(low).is_integer() and float(high).is_integer() and 1 <= high - low <= 10
        for low, high in (spec.scale[str(item)] for item in cols)
    )


def reliability_entry(
    reference: pd.DataFrame,
    cols: list[str],
    *,
    n_boot: int,
    seed: int,
    ordered: bool = False,
) -> dict[str, Any]:
    """Omega total and alpha of one construct, with intervals and verdicts.

    Parameters
    ----------
    reference : pandas.DataFrame
        Reverse-coded responses of the reference wave.
    cols : list of str
        The construct's items.
    n_boot, seed : int
        Bootstrap resamples and seed.

    Returns
    -------
    dict
        ``n``, ``n_boot``, ``alpha``, ``alpha_ci``, ``omega``, ``omega_ci``,
        ``verdicts`` (omega first) and ``note``; or ``skipped`` with the reason. Below
        :data:`~analysis.verdicts.MIN_RELIABILITY_N` complete responses the coefficients
        are shown but every verdict is ``"n/a"`` and ``badges_withheld`` says why.
    """
    rel, reason = call_or_reason(
        reliability, reference, cols, n_boot=n_boot, seed=seed, omega=False
    )
    if rel is None:
        return {"skipped": reason}
    enough = len(cols) >= MIN_OMEGA_ITEMS
    omega_point, omega_reason = call_or_reason(
        reliability, reference, cols, n_boot=0, seed=seed, omega=enough
    )
    values = reference[cols].dropna().to_numpy(dtype=float)
    omega_value = omega_point.omega if omega_point is not None else float("nan")
    verdicts = [verdict("omega", omega_value), verdict("alpha", rel.alpha)]
    if ordered and enough:
        # On the 0-100 items: the omega of their sum is the omega of their mean, the index.
        ordinal, _reason = call_or_reason(categorical_omega, reference, cols)
        if ordinal is not None:
            verdicts.insert(0, verdict("omega_ordinal", ordinal))
    withheld = small_sample_reason(int(rel.n), MIN_RELIABILITY_N, "reliability")
    extra = {"badges_withheld": withheld} if withheld else {}
    return {
        "n": masked_count(rel.n),
        "n_boot": n_boot,
        "alpha": rel.alpha,
        "alpha_ci": list(rel.alpha_ci),
        "omega": omega_value,
        "omega_ci": list(omega_bootstrap_ci(values, n_boot, seed)),
        "verdicts": withhold_badges(verdicts, withheld),
        "note": omega_reason
        or (None if enough else f"Omega needs at least {MIN_OMEGA_ITEMS} items."),
        **extra,
    }
