"""Panel waves: paired change, attrition by area, and the precision pairing gains.

A panel household's answers in two waves share a pseudonymous panel id. Where both waves
have an answer of the same household (a *pair*), the change of an index can be estimated
within households, which removes the stable differences between households from its
standard error. :func:`panel_summary` sets that paired estimate beside the one that
treats the same answers as two independent samples (a Welch two-sample comparison), so
that the gain is a number: ``(se_independent / se_paired) ** 2`` is how many times as
many respondents two independent samples would need for the same precision.

:func:`attrition_by_area` counts, per area, the households that answered the earlier wave
and how many of them answered the later one too.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from analysis.change import MIN_N, estimation_frame, panel_change, weighted_mean_ci

__all__ = ["attrition_by_area", "panel_members", "panel_pairs", "panel_summary"]


def panel_members(data: pd.DataFrame, person: Hashable) -> pd.Series:
    """True for rows with a panel id (not missing, not empty)."""
    ids = data[person]
    return ids.notna() & (ids.astype(str).str.strip() != "")


def panel_pairs(
    data: pd.DataFrame, wave: Hashable, person: Hashable, before: Any, after: Any
) -> pd.Series:
    """True for rows of ``before`` or ``after`` whose panel id answered both waves."""
    member = panel_members(data, person)
    ids_before = set(data[person][member & (data[wave] == before)])
    ids_after = set(data[person][member & (data[wave] == after)])
    both = ids_before & ids_after
    return member & data[wave].isin([before, after]) & data[person].isin(both)


def panel_summary(
    data: pd.DataFrame,
    index: Hashable,
    wave: Hashable,
    person: Hashable,
    before: Any,
    after: Any,
    *,
    weight: Hashable | None = None,
    level: float = 0.95,
    min_n: int = MIN_N,
) -> dict[str, Any]:
    """Paired change of ``index`` between two waves and its precision against unpaired.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per response; rows without a panel id are left out.
    index, wave, person : column label
        Index score, wave and panel id columns.
    before, after : object
        The two waves.
    weight : column label, optional
        Weights of the ``before`` wave for the paired estimate; each wave's own weights
        for the independent one.
    level : float, default 0.95
    min_n : int, default 30
        Fewer pairs and every estimate is withheld.

    Returns
    -------
    dict
        What :func:`analysis.change.panel_change` returns (``n_pairs``, ``change``,
        ``se``, ``ci_lower``, ``ci_upper``, ``pvalue``, ``effect_size``, ``withheld``),
        and ``se_independent`` (the same answers as two independent samples),
        ``correlation`` (of a household's two scores) and ``precision_gain``
        (``(se_independent / se) ** 2``).
    """
    members = data[panel_members(data, person)]
    paired = panel_change(
        members, index, wave, person, before, after, weight=weight, level=level, min_n=min_n
    )
    result = paired | {"se_independent": np.nan, "correlation": np.nan, "precision_gain": np.nan}
    if paired["withheld"]:
        return result
    frame = estimation_frame(members, index, weight, [wave, person])
    frame = frame[panel_pairs(frame, wave, person, before, after)]
    frame = frame.drop_duplicates([wave, person])
    ses = []
    for which in (before, after):
        part = frame[frame[wave] == which]
        ses.append(weighted_mean_ci(part["y"], part["w"], level=level, min_n=min_n)["se"])
    se_independent = float(np.hypot(*ses))
    wide = frame.pivot(index=person, columns=wave, values="y")
    correlation = float(np.corrcoef(wide[before], wide[after])[0, 1])
    gain = (se_independent / paired["se"]) ** 2 if paired["se"] > 0 else np.nan
    return result | {
        "se_independent": se_independent,
        "correlation": correlation,
        "precision_gain": float(gain),
    }


def attrition_by_area(
    data: pd.DataFrame, wave: Hashable, area: Hashable, person: Hashable, before: Any, after: Any
) -> pd.DataFrame:
    """Per area: households that answered ``before``, and how many answered ``after`` too.

    A household's area is the one of its ``before`` answer. Rows without a panel id are
    left out. Returns a frame indexed by area with ``answered_before``, ``answered_both``
    and ``retained`` (their ratio), sorted by area, and a last row ``"all"``.
    """
    members = data[panel_members(data, person)]
    first = members[members[wave] == before].drop_duplicates(person)
    later = set(members[person][members[wave] == after])
    first = first.assign(_both=first[person].isin(later))
    table = first.groupby(area, sort=True).agg(
        answered_before=(person, "size"), answered_both=("_both", "sum")
    )
    table.loc["all"] = [int(table["answered_before"].sum()), int(table["answered_both"].sum())]
    table = table.astype(int)
    table["retained"] = table["answered_both"] / table["answered_before"]
    return table
