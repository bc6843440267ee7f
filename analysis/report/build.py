"""The orchestrator: runs the report's stages in order and gathers their sections.

Stages: cleaning (:mod:`~analysis.report.cleaning`), structure
(:mod:`~analysis.report.structure`), fit (:mod:`~analysis.report.fit`), items and
reliability (:mod:`~analysis.report.reliability`), invariance
(:mod:`~analysis.report.invariance`), scoring model and change
(:mod:`~analysis.report.change`). Structure, fit and reliability are assessed at the
reference wave and withheld when it has fewer than :data:`analysis.change.MIN_N` complete
responses (disclosure control); from there to the simulated minimums of
:mod:`analysis.verdicts` (``MIN_FIT_N``, ``MIN_RELIABILITY_N``) the figures are shown but
their badges are "n/a". Invariance is tested on groups of at least ``MIN_INVARIANCE_N``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis.change import MIN_N
from analysis.instrument_model import InstrumentModel
from analysis.report.answer import answer_section, multiplicity
from analysis.report.change import index_stage, scoring_stage
from analysis.report.cleaning import cleaning_stage
from analysis.report.comparability import apply_gates, comparability_stage
from analysis.report.document import REPORT_FORMAT, Report
from analysis.report.fit import fit_stage
from analysis.report.invariance import invariance_stage
from analysis.report.panel import panel_stage
from analysis.report.reliability import constructs_stage
from analysis.report.structure import structure_stage
from analysis.report.values import MIN_CELL, json_safe, keyed_items
from analysis.threads import one_blas_thread
from analysis.verdicts import (
    MIN_FIT_N,
    MIN_INVARIANCE_N,
    MIN_RELIABILITY_N,
    thresholds_json,
)

__all__ = ["build_report", "fit_scoring_model", "wave_labels"]


@dataclass(frozen=True)
class _Responses:
    """The kept responses, raw and reverse-coded, with what the later stages need."""

    spec: InstrumentModel
    kept: pd.DataFrame
    keyed: pd.DataFrame
    labels: list[str]
    reference_label: str
    columns: dict[str, Hashable | None]
    notes: list[str]


@one_blas_thread
def build_report(
    data: pd.DataFrame,
    instrument_spec: InstrumentModel | Mapping[str, Any],
    *,
    wave: Hashable = "wave",
    area: Hashable = "area",
    group: Hashable = "group",
    language: Hashable = "language",
    weight: Hashable | None = None,
    duration: Hashable | None = None,
    reference_wave: Any = None,
    panel: Hashable = "panel_id",
    n_boot: int = 200,
    seed: int = 0,
    title: str | None = None,
    min_invariance_n: int = MIN_INVARIANCE_N,
    invariance: tuple[str, ...] = ("wave", "language"),
    scoring_model: Mapping[str, Any] | None = None,
) -> Report:
    """Build the validation report of one initiative's responses.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per response: item columns by item id (negative codes such as -1 don't
        know are missing), optionally the ``wave``, ``area``, ``group`` (``"treated"`` /
        ``"comparison"``), ``language``, weight and duration columns. Absent optional
        columns skip the parts that need them, with the reason stated.
    instrument_spec : InstrumentModel or dict
        Constructs, item ranges and reverse keys (:mod:`analysis.instrument_model`).
    wave, area, group, language, weight, duration : column label
        Unweighted without ``weight``; ``duration`` (seconds, for the speeder rule) is
        ``"duration_seconds"`` when that column is present.
    reference_wave : object, optional
        Where the scoring model is frozen and structure, fit and reliability are
        assessed; the first wave (sorted) by default.
    panel : column label, default "panel_id"
        Panel ids: with households in two waves, a ``panel`` section (paired change etc.).
    n_boot, seed : int
        Bootstrap resamples and seed of the reliability intervals.
    title : str, optional
    min_invariance_n : int
        Groups with fewer complete cases are left out of the invariance tests
        (:data:`analysis.verdicts.MIN_INVARIANCE_N` by default, set by simulation).
    invariance : tuple of str
        The invariance tests to run (the slowest part); others are "not requested".
    scoring_model : dict, optional
        A scoring model frozen earlier (:func:`analysis.freeze_scoring_model`), used
        unchanged instead of one frozen now; its hash is checked.

    Returns
    -------
    Report

    Raises
    ------
    ValueError
        If item columns are missing or the reference wave is not in the data.
    """
    spec = InstrumentModel.from_dict(instrument_spec)
    missing = [item for item in spec.items if item not in data.columns]
    if missing:
        raise ValueError(f"Item column(s) missing from the data: {missing}.")
    if duration is None and "duration_seconds" in data.columns:
        duration = "duration_seconds"
    columns = {"wave": wave, "area": area, "group": group, "language": language}
    columns.update(weight=weight, duration=duration, panel=panel)
    notes: list[str] = []
    frame, labels, reference_label = wave_labels(data, wave, reference_wave, notes)
    kept, cleaning = cleaning_stage(frame, spec, labels, wave=wave, area=area, duration=duration)
    keyed = keyed_items(kept, spec)
    keyed["_wave"] = kept["_wave"]
    sections, charts = _reference_sections(keyed, spec, reference_label, n_boot, seed)
    responses = _Responses(spec, kept, keyed, labels, reference_label, columns, notes)
    later, trends = _later_sections(responses, (invariance, min_invariance_n), scoring_model)
    sections.update(later)
    charts.update(trends)
    parameters = _parameters(columns, reference_label, n_boot, seed, min_invariance_n, invariance)
    head = _head(spec, title, parameters, labels, cleaning)
    return Report(content=json_safe({**head, **sections, "notes": notes}), charts=charts)


@one_blas_thread
def fit_scoring_model(
    data: pd.DataFrame,
    instrument_spec: InstrumentModel | Mapping[str, Any],
    *,
    wave: Hashable = "wave",
    area: Hashable = "area",
    duration: Hashable | None = None,
    reference_wave: Any = None,
) -> tuple[dict[str, Any] | None, str | None]:
    """The scoring model :func:`build_report` would freeze, without building the report.

    The same cleaning and the same reference wave as the report, then
    :func:`analysis.freeze_scoring_model` on the reference wave's kept responses: the
    model (and its hash) equals the report's ``scoring_model`` for the same data.

    Parameters
    ----------
    data, instrument_spec, wave, area, duration, reference_wave
        As for :func:`build_report`.

    Returns
    -------
    tuple
        ``(model, None)``, or ``(None, reason)`` when no model can be frozen yet.
    """
    spec = InstrumentModel.from_dict(instrument_spec)
    missing = [item for item in spec.items if item not in data.columns]
    if missing:
        raise ValueError(f"Item column(s) missing from the data: {missing}.")
    if duration is None and "duration_seconds" in data.columns:
        duration = "duration_seconds"
    frame, labels, reference_label = wave_labels(data, wave, reference_wave, [])
    kept, _cleaning = cleaning_stage(frame, spec, labels, wave=wave, area=area, duration=duration)
    model, reason = scoring_stage(kept, spec, reference_label, None)
    return (None, reason) if model is None else (json_safe(model), None)


def _head(
    spec: InstrumentModel,
    title: str | None,
    parameters: dict[str, Any],
    labels: list[str],
    cleaning: dict[str, Any],
) -> dict[str, Any]:
    """The report's first keys: format, title, instrument, parameters, waves, cleaning."""
    return {
        "format": REPORT_FORMAT,
        "title": title or f"Validation report: {spec.name or 'instrument'}",
        "instrument": spec.name,
        "instrument_model": spec.to_dict(),
        "parameters": parameters,
        "waves": labels,
        "cleaning": cleaning,
    }


def _parameters(
    columns: Mapping[str, Hashable | None],
    reference_label: str,
    n_boot: int,
    seed: int,
    min_invariance_n: int,
    invariance: tuple[str, ...],
) -> dict[str, Any]:
    """The report's ``parameters``: columns, reference wave, limits and cut-offs."""
    optional = ("weight", "duration")
    return {
        **{
            k: None if v is None and k in optional else str(v)
            for k, v in columns.items()
            if k != "panel"  # shown in the panel section, only when there are pairs
        },
        "reference_wave": reference_label,
        "n_boot": n_boot,
        "seed": seed,
        "min_n": MIN_N,
        "min_cell": MIN_CELL,
        "min_invariance_n": min_invariance_n,
        "min_fit_n": MIN_FIT_N,
        "min_reliability_n": MIN_RELIABILITY_N,
        "invariance": list(invariance),
        "thresholds": thresholds_json(),
    }


def wave_labels(
    data: pd.DataFrame, wave: Hashable, reference_wave: Any, notes: list[str]
) -> tuple[pd.DataFrame, list[str], str]:
    """The responses with a wave label (``_wave``), the labels in order, the reference.

    Parameters
    ----------
    data : pandas.DataFrame
        The responses; rows without a wave are left out.
    wave : column label
        The wave column; without it all responses are one wave, ``"all"`` (and a note says
        so).
    reference_wave : object, optional
        The reference wave; the first (sorted) by default.
    notes : list of str
        The report's notes.

    Returns
    -------
    tuple
        ``(frame, labels, reference_label)``.

    Raises
    ------
    ValueError
        If the reference wave is not in the data.
    """
    frame = data.copy()
    if wave in frame.columns:
        unique = list(pd.unique(frame[wave].dropna()))
        try:
            order = sorted(unique)
        except TypeError:
            order = unique
        frame = frame[frame[wave].notna()]
        frame["_wave"] = frame[wave].astype(str)
    else:
        order = ["all"]
        notes.append(f"No {wave!r} column: all responses are treated as one wave.")
        frame["_wave"] = "all"
    labels = [str(w) for w in order]
    if reference_wave is None:
        return frame, labels, labels[0]
    if str(reference_wave) not in labels:
        raise ValueError(f"Reference wave {reference_wave!r} is not in the data.")
    return frame, labels, str(reference_wave)


def _reference_sections(
    keyed: pd.DataFrame, spec: InstrumentModel, reference_label: str, n_boot: int, seed: int
) -> tuple[dict[str, Any], dict[str, str]]:
    """Constructs, structure and fit at the reference wave, or why they are withheld."""
    reference = keyed[keyed["_wave"] == reference_label]
    n_complete = int(reference[spec.items].notna().all(axis=1).sum())
    withheld = None
    if n_complete < MIN_N:
        withheld = (
            f"n = {n_complete} complete responses in the reference wave < {MIN_N}: "
            "structure, fit and reliability withheld (disclosure control and precision)"
        )
    constructs = constructs_stage(reference, spec, n_boot=n_boot, seed=seed, withheld=withheld)
    if withheld:
        return {
            "constructs": constructs,
            "structure": {"withheld": withheld},
            "cfa": {"withheld": withheld},
        }, {}
    structure, charts = structure_stage(reference[spec.items].dropna(), spec, seed=seed)
    cfa, fit_charts = fit_stage(reference, spec)
    return {"constructs": constructs, "structure": structure, "cfa": cfa}, {**charts, **fit_charts}


def _later_sections(
    responses: _Responses,
    invariance: tuple[tuple[str, ...], int],
    scoring_model: Mapping[str, Any] | None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Invariance, the scoring model, weights and indices, with the trend charts."""
    kept, keyed, spec, columns = responses.kept, responses.keyed, responses.spec, responses.columns
    wave, language = columns["wave"], columns["language"]
    sources = {
        "wave": kept["_wave"] if wave in kept.columns else None,
        "language": kept[language] if language in kept.columns else None,
    }
    requested, min_n = invariance
    sections: dict[str, Any] = {
        "invariance": invariance_stage(keyed, spec, sources, requested=requested, min_n=min_n)
    }
    model, reason = scoring_stage(kept, spec, responses.reference_label, scoring_model)
    sections.update(scoring_model=model, weights=[], indices={"skipped": reason})
    if model is None:
        return sections, {}
    indices, weights, charts = index_stage(
        kept, spec, model, responses.labels, columns=columns, notes=responses.notes
    )
    gates = comparability_stage(keyed, kept, model, responses.labels, columns, spec)
    apply_gates(indices, gates)
    sections.update(weights=weights, indices=indices)
    sections["answer"] = answer_section(indices, responses.labels)
    sections["multiplicity"] = multiplicity(indices, sections["answer"])
    panel = panel_stage(kept, spec, model, responses.labels, columns)
    if panel:  # only when panel households answered two waves
        sections["panel"] = panel
    return sections, charts
