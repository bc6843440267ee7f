"""Per-wave retention: what a wave keeps after its retention period, and the purge.

After ``closes_at + retention_days`` (for waves without a closing date: the moment they were
closed is not recorded, so their period runs from ``opens_at`` or creation), unfinished
questionnaires (drafts, with their answers and page records) and unused invitation codes
are deleted. Completed questionnaires are anonymous and stay for analysis.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from surveyapp.audit import record as audit
from surveyapp.models import Invitation, Response, ResponseStatus, Wave, WaveStatus
from surveyapp.respond import used_codes


@dataclass(frozen=True)
class Purged:
    """What a purge removed from one wave."""

    wave: Wave
    drafts: int
    codes: int


def retention_ends(wave: Wave) -> datetime:
    """When the wave's retention period is over."""
    start = wave.closes_at or wave.opens_at or wave.created_at
    return start + timedelta(days=wave.retention_days)


def due_waves(session: Session, now: datetime) -> list[Wave]:
    """Waves no longer open whose retention period is over."""
    waves = session.scalars(
        select(Wave).where(Wave.status.in_([WaveStatus.CLOSED, WaveStatus.ARCHIVED]))
    ).all()
    open_past_close = session.scalars(
        select(Wave).where(Wave.status == WaveStatus.OPEN, Wave.closes_at.is_not(None))
    ).all()
    return [w for w in [*waves, *open_past_close] if retention_ends(w) <= now]


def purge(session: Session, now: datetime, *, dry_run: bool = False, actor: str) -> list[Purged]:
    """Delete drafts and unused codes of every wave past its retention period."""
    done = []
    for wave in due_waves(session, now):
        drafts = session.scalar(
            select(func.count(Response.id)).where(
                Response.wave_id == wave.id, Response.status == ResponseStatus.DRAFT
            )
        )
        used = used_codes.used_ids(session, wave.id)
        unused = Invitation.wave_id == wave.id
        if used:
            unused = unused & Invitation.id.not_in(sorted(used))
        codes = session.scalar(select(func.count(Invitation.id)).where(unused))
        if not drafts and not codes:
            continue
        done.append(Purged(wave, drafts, codes))
        if dry_run:
            continue
        draft_ids = select(Response.id).where(
            Response.wave_id == wave.id, Response.status == ResponseStatus.DRAFT
        )
        from surveyapp.models import Answer, PageSubmission

        session.execute(delete(Answer).where(Answer.response_id.in_(draft_ids)))
        session.execute(delete(PageSubmission).where(PageSubmission.response_id.in_(draft_ids)))
        session.execute(
            delete(Response).where(
                Response.wave_id == wave.id, Response.status == ResponseStatus.DRAFT
            )
        )
        session.execute(delete(Invitation).where(unused))
        audit(
            session,
            actor,
            wave.city_id,
            "retention_purged",
            "wave",
            wave.id,
            drafts=drafts,
            unused_codes=codes,
        )
    return done
