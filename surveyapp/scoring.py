"""Which scoring model a report or a download scores with: the one place that decides.

An initiative's scoring model is fitted at its first wave (the reference) and stored:

- **provisional** while the reference wave is still collecting answers: every report and
  every download brings it up to date with the answers so far;
- **frozen** by the first report or download after the reference wave closed: from then
  on every report and download scores with it, unchanged;
- **refitted**: a report whose waves no longer all asked the frozen model's modules fits a
  model for itself (and says so); downloads keep the frozen one.

A download no longer builds a validation report for this: :func:`bring_up_to_date` fits the
model alone (:func:`analysis.fit_scoring_model`, the report's own cleaning and freezing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from surveyapp import designs
from surveyapp.db import utcnow
from surveyapp.models import Initiative, ScoringModel, Wave, WaveStatus


@dataclass
class ReportScoring:
    """What a report scores with: a stored frozen model (``fixed``), or its own fit."""

    stored: ScoringModel | None
    fixed: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


def reference_closed(wave: Wave) -> bool:
    """Whether the reference wave has stopped collecting answers (closed or archived)."""
    return wave.status in (WaveStatus.CLOSED, WaveStatus.ARCHIVED)


def provisional_note(reference_wave: Wave) -> str:
    """What a provisional scoring model means, for reports, downloads and codebooks."""
    return (
        f"The reference wave ({reference_wave.name}) is still collecting answers, so the "
        "scoring model is refitted to the answers so far with each report, and frozen for "
        "good once that wave closes. Index values do not depend on it (they use the answer "
        "scales and equal weights); its reference n, means and SDs will still change."
    )


def latest_scoring_model(session: Session, initiative: Initiative) -> ScoringModel | None:
    """The initiative's stored scoring model (provisional or frozen), if any."""
    return session.scalar(
        select(ScoringModel)
        .where(ScoringModel.initiative_id == initiative.id)
        .order_by(ScoringModel.version.desc())
    )


def for_report(session: Session, initiative: Initiative, constructs: set[str]) -> ReportScoring:
    """The model a report of ``constructs`` scores with: the frozen one if it covers them."""
    stored = latest_scoring_model(session, initiative)
    choice = ReportScoring(stored)
    if stored is None or stored.frozen_at is None:
        return choice
    if set(stored.definition["constructs"]) == constructs:
        choice.fixed = stored.definition
    else:
        choice.notes.append(
            "The indices here use a model fitted now: the frozen scoring model covers "
            f"{', '.join(sorted(stored.definition['constructs']))}, but not every wave "
            "asked the same modules since. Downloads keep the frozen model."
        )
    return choice


def after_report(
    session: Session,
    initiative: Initiative,
    reference_wave: Wave,
    choice: ReportScoring,
    fitted: dict[str, Any] | None,
) -> tuple[str, str | None]:
    """Store what a report fitted when it may (not committed); its status and note.

    Status ``frozen`` (the stored model, or one frozen now), ``provisional`` (stored, the
    reference wave is collecting; the note says so) or ``refitted`` (this report's own).
    """
    if choice.fixed is not None:
        return "frozen", None
    if fitted and (choice.stored is None or choice.stored.frozen_at is None):
        final = reference_closed(reference_wave)
        store_scoring_model(session, initiative, reference_wave, fitted, final=final)
        return ("frozen", None) if final else ("provisional", provisional_note(reference_wave))
    return "refitted", None


def for_download(
    session: Session, initiative: Initiative
) -> tuple[ScoringModel | None, str | None]:
    """The stored model a download scores with, and a note when it is missing or provisional."""
    stored = latest_scoring_model(session, initiative)
    if stored is None:
        return None, (
            "No scoring model yet: it is fitted when the validation report or a download is "
            "first made with complete responses in the first wave. Index columns are empty."
        )
    if stored.frozen_at is None:
        return stored, provisional_note(designs.waves_for_initiative(session, initiative)[0])
    return stored, None


def bring_up_to_date(
    session: Session, initiative: Initiative, frame: pd.DataFrame, spec: Any
) -> ScoringModel | None:
    """Fit and store the model a report would (not committed), unless one is frozen.

    ``frame`` and ``spec`` are the report's (``surveyapp.reports``): the model is the one
    the report would store, found without building the report.
    """
    from analysis import fit_scoring_model

    stored = latest_scoring_model(session, initiative)
    if stored is not None and stored.frozen_at is not None:
        return stored
    waves = designs.waves_for_initiative(session, initiative)
    if not waves or frame.empty:
        return stored
    fitted, _reason = fit_scoring_model(frame, spec, duration="duration_seconds")
    if fitted is None:
        return stored
    final = reference_closed(waves[0])
    return store_scoring_model(session, initiative, waves[0], fitted, final=final)


def store_scoring_model(
    session: Session,
    initiative: Initiative,
    reference_wave: Wave,
    fitted: dict[str, Any],
    *,
    final: bool = True,
) -> ScoringModel:
    """Store ``fitted`` as the initiative's scoring model; ``final`` freezes it.

    A provisional model (stored while the reference wave was collecting) is replaced by
    ``fitted``; a frozen one never changes. Two first reports can be built at once (two
    coordinators, a dashboard and a download): both find no model and both try to store
    one. The first row stays; the other request does not fail on the unique (initiative,
    version) but updates that row as it would have its own.
    """
    row = latest_scoring_model(session, initiative)
    if row is None:
        row = ScoringModel(
            initiative_id=initiative.id,
            reference_wave_id=reference_wave.id,
            instrument_id=reference_wave.instrument_id,
            version=1,
            content_hash=fitted["hash"],
            definition=fitted,
            frozen_at=utcnow() if final else None,
        )
        try:
            with session.begin_nested():
                session.add(row)
            return row
        except IntegrityError:
            row = latest_scoring_model(session, initiative)
    if row.frozen_at is None:
        if row.content_hash != fitted["hash"]:
            row.content_hash, row.definition = fitted["hash"], fitted
        if final:
            row.frozen_at = utcnow()
    return row
