"""What a change of an initiative's design would change in its results, before it is made.

The new design is applied inside a savepoint that is always rolled back, so the groups and
waves are decided by the same code as after a real save (:mod:`surveyapp.designs`,
including the default comparison areas), and nothing is stored. Counts are complete
responses, as every result uses them.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp import designs
from surveyapp.console import initiatives
from surveyapp.models import Area, Initiative, Response, ResponseStatus, Wave


@dataclass(frozen=True)
class AreaMove:
    """An area whose group changes: ``treated``, ``comparison`` or None (not in the design)."""

    area: Area
    old: str | None
    new: str | None
    answers: int


@dataclass(frozen=True)
class WaveShift:
    """A wave whose timing changes (:func:`designs.timing`), or that starts or stops
    evaluating the initiative (None on that side), with its answers in the design's areas."""

    wave: Wave
    old: str | None
    new: str | None
    answers: int


@dataclass
class DesignPreview:
    """The changed fields (old and new, as audited) and their consequences."""

    old: dict[str, Any]
    new: dict[str, Any]
    areas: list[AreaMove] = field(default_factory=list)
    waves: list[WaveShift] = field(default_factory=list)

    @property
    def changes_nothing(self) -> bool:
        """True when the chosen values are the stored ones."""
        return not self.new


@dataclass(frozen=True)
class _State:
    groups: dict[int, str]
    timings: dict[int, str]
    described: dict[str, Any]


def preview(
    session: Session,
    initiative: Initiative,
    *,
    treated: list[int],
    comparison: list[int],
    start_date: date | None,
    pyramid_level: int,
) -> DesignPreview:
    """What :func:`initiatives.change_design` with these values would change."""
    before = _state(session, initiative)
    savepoint = session.begin_nested()
    try:
        initiatives.apply_design(
            session,
            initiative,
            treated=treated,
            comparison=comparison,
            start_date=start_date,
            pyramid_level=pyramid_level,
        )
        session.flush()
        after = _state(session, initiative)
    finally:
        savepoint.rollback()
    old, new = initiatives.changed(before.described, after.described)
    result = DesignPreview(old=old, new=new)
    wave_ids = set(before.timings) | set(after.timings)
    waves = {w.id: w for w in session.scalars(select(Wave).where(Wave.id.in_(wave_ids)))}
    counts = _answers(session, list(waves))
    result.areas = _area_moves(session, before, after, counts)
    for wave_id in sorted(waves):
        old_timing, new_timing = before.timings.get(wave_id), after.timings.get(wave_id)
        if old_timing == new_timing:
            continue
        wave = waves[wave_id]
        # A round's answers count in the design's areas: the new ones, or the old ones
        # for a round that stops evaluating the initiative.
        groups = after.groups if new_timing is not None else before.groups
        answers = sum(
            n
            for (w, area), n in counts.items()
            if w == wave_id and (wave.initiative_id is not None or area in groups)
        )
        result.waves.append(WaveShift(wave, old_timing, new_timing, answers))
    return result


def fingerprint(initiative: Initiative) -> str:
    """A short digest of the stored design, so a confirmation can tell it changed since."""
    described = json.dumps(initiatives.described(initiative), sort_keys=True, default=str)
    return hashlib.sha256(described.encode()).hexdigest()[:16]


def _area_moves(
    session: Session, before: _State, after: _State, counts: dict[tuple[int, int | None], int]
) -> list[AreaMove]:
    """The areas whose group changes, each with its answers in the evaluating waves."""
    per_area: Counter[int | None] = Counter()
    for (_wave, area), n in counts.items():
        per_area[area] += n
    moves = []
    for area_id in set(before.groups) | set(after.groups):
        old, new = before.groups.get(area_id), after.groups.get(area_id)
        if old != new:
            area = session.get(Area, area_id)
            if area is not None:
                moves.append(AreaMove(area, old, new, per_area[area_id]))
    return sorted(moves, key=lambda move: (move.area.name, move.area.id))


def _state(session: Session, initiative: Initiative) -> _State:
    return _State(
        groups=designs.area_groups(session, initiative),
        timings={
            wave.id: designs.timing(wave, initiative.start_date)
            for wave in designs.waves_for_initiative(session, initiative)
        },
        described=initiatives.described(initiative),
    )


def _answers(session: Session, wave_ids: list[int]) -> dict[tuple[int, int | None], int]:
    """Complete responses per (wave, area) in these waves."""
    if not wave_ids:
        return {}
    rows = session.execute(
        select(Response.wave_id, Response.area_id, func.count(Response.id))
        .where(Response.wave_id.in_(wave_ids), Response.status == ResponseStatus.COMPLETE)
        .group_by(Response.wave_id, Response.area_id)
    ).all()
    return {(wave, area): n for wave, area, n in rows}
