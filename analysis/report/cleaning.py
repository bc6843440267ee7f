"""Report stage 1: cleaning flags (never silent drops) and the responses kept."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import pandas as pd

from analysis.cleaning import STRAIGHTLINE_MIN_ITEMS, CleaningResult, clean
from analysis.disclosure import mask_count, suppress_counts
from analysis.instrument_model import InstrumentModel
from analysis.report.values import MIN_CELL, masked_count

__all__ = ["STRAIGHTLINE_MIN_ITEMS", "cleaning_stage", "kept_rows", "report_cleaning"]


def report_cleaning(
    frame: pd.DataFrame,
    spec: InstrumentModel,
    *,
    wave: Hashable,
    area: Hashable,
    duration: Hashable | None,
) -> CleaningResult:
    """The report's cleaning rules applied to ``frame`` (see :func:`cleaning_stage`)."""
    return clean(
        frame,
        spec.items,
        duration=duration if duration in frame.columns else None,
        mixed_keyed_blocks=spec.straightline_blocks(min_items=STRAIGHTLINE_MIN_ITEMS),
        straightline_min_items=STRAIGHTLINE_MIN_ITEMS,
        attention_checks={k: v for k, v in spec.attention_checks.items() if k in frame.columns},
        duplicate_keys=[c for c in (wave, area) if c in frame.columns],
        known_duplicates="collection_duplicate" if "collection_duplicate" in frame else None,
        known_bursts="collection_burst" if "collection_burst" in frame else None,
    )


def kept_rows(
    frame: pd.DataFrame,
    spec: InstrumentModel,
    *,
    wave: Hashable = "wave",
    area: Hashable = "area",
    duration: Hashable | None = "duration_seconds",
) -> pd.Series:
    """True for each response the report keeps after cleaning (weights are computed
    from these)."""
    kept = report_cleaning(frame, spec, wave=wave, area=area, duration=duration).kept(frame)
    return pd.Series(frame.index.isin(kept.index), index=frame.index)


def cleaning_stage(
    frame: pd.DataFrame,
    spec: InstrumentModel,
    labels: Sequence[str],
    *,
    wave: Hashable,
    area: Hashable,
    duration: Hashable | None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Flag speeders, straight-liners, duplicates and failed checks; keep the rest.

    Parameters
    ----------
    frame : pandas.DataFrame
        Responses with the wave label in ``_wave``.
    spec : InstrumentModel
        Items, mixed-keyed grids and attention checks.
    labels : sequence of str
        Wave labels in order.
    wave, area : column label
        Duplicates are looked for within wave and area (when those columns exist).
    duration : column label, optional
        Completion time in seconds for the speeder rule.

    Returns
    -------
    kept : pandas.DataFrame
        The responses without any flag.
    section : dict
        The report's ``cleaning`` section: parameters, counts per flag and per wave
        (counts below :data:`~analysis.report.values.MIN_CELL` masked).
    """
    cleaning = report_cleaning(frame, spec, wave=wave, area=area, duration=duration)
    kept = cleaning.kept(frame)
    section = {
        "parameters": cleaning.parameters,
        "summary": [
            {
                "flag": flag,
                "n": masked_count(row["n"]),
                "share": row["share"] if row["n"] >= MIN_CELL else None,
            }
            for flag, row in cleaning.summary().iterrows()
        ],
        **_protected_counts(frame["_wave"], kept["_wave"], labels),
    }
    return kept, section


def _protected_counts(sent: pd.Series, kept: pd.Series, labels: Sequence[str]) -> dict[str, Any]:
    """Responses and kept responses, in total and per wave, so that none under 10 comes back.

    The waves add up to the totals and "sent minus kept" is the number dropped, so a total
    is hidden (``"≥10"``) where a wave's count is under 10, and a kept count where fewer
    than 10 were dropped (:func:`analysis.disclosure.suppress_counts`).
    """
    n = {label: int((sent == label).sum()) for label in labels}
    k = {label: int((kept == label).sum()) for label in labels}
    hide_n = suppress_counts(n, prefer_total=True).total
    hide_k = suppress_counts(k, prefer_total=True).total
    dropped = {label: n[label] - k[label] for label in labels}
    total_dropped = len(sent) - len(kept)
    return {
        "n_responses": mask_count(len(sent), suppressed=hide_n),
        "n_kept": mask_count(len(kept), suppressed=hide_k or 0 < total_dropped < MIN_CELL),
        "by_wave": [
            {
                "wave": label,
                "n": mask_count(n[label]),
                "n_kept": mask_count(k[label], suppressed=0 < dropped[label] < MIN_CELL),
            }
            for label in labels
        ],
    }
