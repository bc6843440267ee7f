"""Wave lifecycle rules: draft -> open -> closed -> archived, closed may reopen."""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy.orm import Session

from surveyapp.console.manage import audit
from surveyapp.i18n.instrument import missing_texts
from surveyapp.instruments.registry import wave_instrument
from surveyapp.models import User, Wave, WaveMode, WaveStatus
from surveyapp.respond.drafts import flag_drafts_of_closed_wave


class WaveError(ValueError):
    """A lifecycle step is not allowed; the message says why and what to do."""


def untranslated(wave: Wave, translations_dir: Path) -> dict[str, list[str]]:
    """Per wave language, the texts residents would see untranslated (empty when complete)."""
    instrument = wave_instrument(wave)
    result = {}
    for language in wave.languages or []:
        missing = missing_texts(instrument, list(wave.modules or []), language, translations_dir)
        if missing:
            result[language] = missing
    return result


def open_wave(session: Session, wave: Wave, *, actor: User | str, translations_dir: Path) -> Wave:
    """Open a draft or closed wave; freezes the instrument at the first opening.

    Refused when a wave language lacks questionnaire translations (the error lists the
    missing texts by id) or when the wave is already open or archived. Not committed.
    """
    if wave.status not in (WaveStatus.DRAFT, WaveStatus.CLOSED):
        raise WaveError(f"Wave {wave.id} is {wave.status}; only draft or closed waves can open.")
    if not wave.languages:
        raise WaveError(f"Wave {wave.id} has no languages.")
    gaps = untranslated(wave, translations_dir)
    if gaps:
        details = "; ".join(
            f"{language}: {len(ids)} missing ({', '.join(ids)})" for language, ids in gaps.items()
        )
        raise WaveError(
            f"Wave {wave.id} cannot open: the questionnaire is not fully translated. {details}"
        )
    reopening = wave.status == WaveStatus.CLOSED
    if wave.frozen_instrument_hash is None:
        wave.frozen_instrument_hash = wave.instrument.content_hash
    if wave.mode != WaveMode.INVITATION and not wave.open_token:
        wave.open_token = secrets.token_urlsafe(16)
    wave.status = WaveStatus.OPEN
    _audit(session, wave, actor, "wave_reopened" if reopening else "wave_opened")
    return wave


def close_wave(session: Session, wave: Wave, *, actor: User | str) -> Wave:
    """Stop new answers; saved drafts are kept. Not committed."""
    if wave.status != WaveStatus.OPEN:
        raise WaveError(f"Wave {wave.id} is {wave.status}; only an open wave can close.")
    wave.status = WaveStatus.CLOSED
    flag_drafts_of_closed_wave(session, wave)
    _audit(session, wave, actor, "wave_closed")
    return wave


def _audit(session: Session, wave: Wave, actor: User | str, action: str) -> None:
    audit(
        session,
        actor,
        wave.initiative.city_id,
        action,
        "wave",
        wave.id,
        instrument_hash=wave.frozen_instrument_hash,
    )
