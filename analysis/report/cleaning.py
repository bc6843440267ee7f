"""Report stage 1: cleaning flags (never silent drops) and the responses kept."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import pandas as pd

from analysis.cleaning import STRAIGHTLINE_MIN_ITEMS, CleaningResult, clean
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
        "n_responses": masked_count(len(frame)),
        "n_kept": masked_count(len(kept)),
        "by_wave": [
            {
                "wave": label,
                "n": masked_count((frame["_wave"] == label).sum()),
                "n_kept": masked_count((kept["_wave"] == label).sum()),
            }
            for label in labels
        ],
    }
    return kept, section
