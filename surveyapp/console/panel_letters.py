"""Follow-up letters for panel waves, made from an earlier panel wave's batch of letters.

Each letter of the earlier batch gets one new code in the follow-up wave for the same
household: same area, same panel seed (so the same pseudonymous panel id on the response,
see :mod:`surveyapp.respond.panel`) and so the same letter reference in the CSV, which the
city's mail merge uses to put the new code in the same envelope as the old address.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from surveyapp import designs
from surveyapp.audit import record as audit
from surveyapp.console.errors import ConsoleError
from surveyapp.console.invitations import MAX_CODES, NewInvitation, add_letters, letters_zip
from surveyapp.models import (
    Area,
    BatchStatus,
    Invitation,
    Job,
    LetterBatch,
    User,
    Wave,
    WaveMode,
    WaveStatus,
)


@dataclass(frozen=True)
class BatchRow:
    """A batch as the wave page and ``invitations batches`` list it."""

    batch: LetterBatch
    wave: Wave
    follows: LetterBatch | None
    #: The background job that made the batch (console batches), for its page.
    job_id: int | None = None


def city_id_of(wave: Wave) -> int:
    return wave.city_id


def wave_areas(wave: Wave) -> dict[int, Area]:
    """The areas letters of ``wave`` may be for, by id (:func:`surveyapp.designs.wave_areas`)."""
    session = object_session(wave)
    assert session is not None, "the wave must belong to a session"
    return {area.id: area for area in designs.wave_areas(session, wave)}


def batches_of(session: Session, wave: Wave) -> list[BatchRow]:
    """The wave's own batches of letters, oldest first."""
    query = select(LetterBatch).where(LetterBatch.wave_id == wave.id).order_by(LetterBatch.id)
    query_jobs = select(Job.batch_id, Job.id).where(
        Job.wave_id == wave.id, Job.batch_id.is_not(None)
    )
    jobs = {batch_id: job_id for batch_id, job_id in session.execute(query_jobs)}
    return [BatchRow(b, wave, b.follows, jobs.get(b.id)) for b in session.scalars(query)]


def batches_to_follow(session: Session, wave: Wave) -> list[BatchRow]:
    """Batches of the city's other panel waves that ``wave`` could follow up, newest first."""
    if not wave.is_panel:
        return []
    query = (
        select(LetterBatch)
        .join(Wave, LetterBatch.wave_id == Wave.id)
        .where(Wave.is_panel.is_(True), Wave.id != wave.id)
        .where(LetterBatch.status.in_([BatchStatus.READY, BatchStatus.SENT]))
        .order_by(LetterBatch.id.desc())
    )
    city = city_id_of(wave)
    return [
        BatchRow(b, b.wave, b.follows) for b in session.scalars(query) if city_id_of(b.wave) == city
    ]


def _checked_batch(session: Session, wave: Wave, batch_id: int) -> LetterBatch:
    """The batch ``wave`` may follow up, or the error saying what is wrong with the choice."""
    if wave.mode == WaveMode.OPEN_LINK:
        raise ConsoleError(_l("This wave uses an open link only; change its mode to send letters."))
    if wave.status in (WaveStatus.CLOSED, WaveStatus.ARCHIVED):
        raise ConsoleError(_l("The wave is closed; codes for it would not work."))
    if not wave.is_panel:
        raise ConsoleError(
            _l(
                "“%(wave)s” is not a panel wave: follow-up letters keep a household's panel id, "
                "which only panel waves record. Make a new wave with “Panel” ticked.",
                wave=wave.name,
            )
        )
    batch = session.get(LetterBatch, batch_id)
    if batch is None or city_id_of(batch.wave) != city_id_of(wave):
        raise ConsoleError(
            _l("There is no batch of letters %(batch)s in this city's waves.", batch=batch_id)
        )
    if batch.status in (BatchStatus.CANCELLED, BatchStatus.PREPARING):
        raise ConsoleError(
            _l(
                "Batch %(batch)s was cancelled or is still being made: it has no letters to "
                "follow up.",
                batch=batch_id,
            )
        )
    if batch.wave_id == wave.id:
        raise ConsoleError(
            _l(
                "Batch %(batch)s was made for this wave; choose a batch of an earlier panel wave.",
                batch=batch_id,
            )
        )
    if not batch.wave.is_panel:
        raise ConsoleError(
            _l(
                "Batch %(batch)s belongs to “%(wave)s”, which is not a panel wave: its letters "
                "have no panel ids to keep.",
                batch=batch_id,
                wave=batch.wave.name,
            )
        )
    return batch


def check_follow_up(
    session: Session, wave: Wave, batch_id: int, *, limit: int | None = MAX_CODES
) -> list[Invitation]:
    """The letters of batch ``batch_id`` that ``wave`` would follow up, checked."""
    batch = _checked_batch(session, wave, batch_id)
    earlier = list(
        session.scalars(
            select(Invitation).where(Invitation.batch_id == batch.id).order_by(Invitation.id)
        )
    )
    seeds = [i.panel_seed for i in earlier if i.panel_seed]
    done = session.scalar(
        select(Invitation.batch_id).where(
            Invitation.wave_id == wave.id, Invitation.panel_seed.in_(seeds)
        )
    )
    if seeds and done is not None:
        raise ConsoleError(
            _l(
                "Follow-up letters for batch %(batch)s were already made for this wave (batch "
                "%(done)s): each household gets one letter per wave.",
                batch=batch.id,
                done=done,
            )
        )
    areas = wave_areas(wave)
    missing = sorted({i.area.code for i in earlier if i.area_id not in areas})
    if missing:
        raise ConsoleError(
            _l(
                "Batch %(batch)s has letters for areas that are not this wave's: %(areas)s.",
                batch=batch.id,
                areas=", ".join(missing),
            )
        )
    if not seeds or len(seeds) != len(earlier):
        raise ConsoleError(
            _l("Batch %(batch)s has letters without a panel id to keep.", batch=batch.id)
        )
    if limit is not None and len(earlier) > limit:
        raise ConsoleError(
            _l(
                "Batch %(batch)s has %(n)s letters, more than %(limit)s at a time here; use "
                "`surveyapp invitations follow-up` for large mailings.",
                batch=batch.id,
                n=len(earlier),
                limit=limit,
            )
        )
    return earlier


def follow_up(
    session: Session,
    wave: Wave,
    batch_id: int,
    *,
    base_url: str,
    actor: User | str,
    limit: int | None = MAX_CODES,
    into: LetterBatch | None = None,
) -> list[NewInvitation]:
    """One new code in ``wave`` per letter of batch ``batch_id``, same household. Not committed.

    ``limit`` (None: none) caps one request's letters; ``into`` is a background job's batch.
    """
    earlier = check_follow_up(session, wave, batch_id, limit=limit)
    batch = _checked_batch(session, wave, batch_id)
    areas = wave_areas(wave)
    plan = [(areas[i.area_id], i.panel_seed) for i in earlier]
    made = add_letters(session, wave, plan, base_url=base_url, follows=batch, batch=into)
    per_area: dict[str, int] = {}
    for invitation in made:
        per_area[invitation.area.code] = per_area.get(invitation.area.code, 0) + 1
    audit(
        session,
        actor,
        city_id_of(wave),
        "follow_up_codes_generated",
        "wave",
        wave.id,
        follows_batch=batch.id,
        follows_wave=batch.wave_id,
        per_area=per_area,
    )
    return made


def follow_up_download(
    session: Session,
    wave: Wave,
    batch_id: int,
    language: str,
    *,
    base_url: str,
    translations: Path,
    actor: User | str,
    limit: int = MAX_CODES,
) -> bytes:
    """Make follow-up codes and their ZIP (letters.pdf + codes.csv), audit the download.

    Not committed: the caller commits once the ZIP, the only copy of the codes, is safe.
    """
    made = follow_up(session, wave, batch_id, base_url=base_url, actor=actor, limit=limit)
    archive = letters_zip(wave, made, language, translations)
    audit(
        session,
        actor,
        city_id_of(wave),
        "letters_downloaded",
        "wave",
        wave.id,
        letters=len(made),
        language=language,
        follows_batch=batch_id,
    )
    return archive
