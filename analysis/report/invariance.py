"""Report stage 5: measurement invariance across waves and languages.

Configural, metric and scalar multi-group CFAs (:func:`analysis.measurement_invariance`)
on the groups with enough responses; the verdict says whether index means may be
compared (:func:`analysis.verdicts.invariance_verdict`). The estimator is the CFA's
(:func:`analysis.report.fit.cfa_estimator`): WLSMV with pairwise deletion when every item
is ordered (a group counts the responses with at least one answer), else ML on complete
responses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from analysis.instrument_model import InstrumentModel
from analysis.invariance import measurement_invariance
from analysis.report.fit import cfa_estimator
from analysis.report.values import call_or_reason, masked_count, records
from analysis.verdicts import invariance_verdict

__all__ = ["invariance_entry", "invariance_stage"]


def invariance_stage(
    keyed: pd.DataFrame,
    spec: InstrumentModel,
    sources: dict[str, pd.Series | None],
    *,
    requested: Sequence[str],
    min_n: int,
) -> dict[str, Any]:
    """Invariance across each kind of group, or the reason it was not tested.

    Parameters
    ----------
    keyed : pandas.DataFrame
        Kept responses, items reverse-coded.
    spec : InstrumentModel
    sources : dict of str to pandas.Series or None
        The group of each kept response by kind (``"wave"``, ``"language"``); None when
        the data have no such column.
    requested : sequence of str
        The kinds to test; the others are reported as not requested.
    min_n : int
        Groups with fewer complete responses are left out.

    Returns
    -------
    dict
        The report's ``invariance`` section, by kind.
    """
    out: dict[str, Any] = {}
    for name, source in sources.items():
        if name not in requested:
            out[name] = {"skipped": f"Invariance across {name}s was not requested."}
        elif source is None:
            out[name] = {"skipped": f"No {name} column in the data."}
        else:
            out[name] = invariance_entry(keyed, spec, name, source, min_n=min_n)
    return out


def invariance_entry(
    keyed: pd.DataFrame, spec: InstrumentModel, name: str, source: pd.Series, *, min_n: int
) -> dict[str, Any]:
    """Invariance across the groups of one kind.

    Parameters
    ----------
    keyed : pandas.DataFrame
        Kept responses, items reverse-coded.
    spec : InstrumentModel
    name : str
        The kind of group (``"wave"``, ``"language"``), named in the texts.
    source : pandas.Series
        The group of each response (aligned with ``keyed``).
    min_n : int
        Least responses per group (complete ones under ML; with an answer under WLSMV).

    Returns
    -------
    dict
        ``estimator``, ``groups`` (with masked counts), ``left_out``, and ``levels`` with
        a ``verdict``, or ``skipped`` with the reason.
    """
    items = spec.items
    estimator = cfa_estimator(spec)
    sub = keyed[items].copy()
    sub["_g"] = source.astype("string")
    sub = sub[sub["_g"].notna()]
    answered = sub[items].notna()
    counted = answered.any(axis=1) if estimator == "WLSMV" else answered.all(axis=1)
    sizes = counted.groupby(sub["_g"]).sum()
    enough = [g for g, n in sizes.items() if n >= min_n]
    kind = "responses" if estimator == "WLSMV" else "complete responses"
    entry: dict[str, Any] = {
        "estimator": estimator,
        "groups": [{"group": str(g), "n": masked_count(n)} for g, n in sizes.items()],
        "left_out": [
            f"{name} {g}: n = {masked_count(n)} {kind} < {min_n}"
            for g, n in sizes.items()
            if n < min_n
        ],
    }
    if len(enough) < 2:
        entry["skipped"] = (
            f"Fewer than 2 {name} groups with at least {min_n} {kind}: invariance cannot be tested."
        )
        return entry
    sub = sub[sub["_g"].isin(enough) & counted]
    sub["_g"] = sub["_g"].astype(str)
    table, reason = call_or_reason(
        measurement_invariance, sub, spec.model, "_g", estimator=estimator
    )
    if table is None:
        entry["skipped"] = reason
        return entry
    levels = records(table)
    entry["levels"] = levels
    entry["verdict"] = invariance_verdict(name, {row["level"]: row["holds"] for row in levels})
    return entry
