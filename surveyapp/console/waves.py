"""The whole life of a wave: create or copy, open (or schedule, reopen), close, archive, delete.

draft -> open -> closed -> archived; a closed wave may reopen; only a draft without
responses may be deleted. A wave whose opening date lies ahead is "scheduled": it is open,
and residents are let in from that date. Functions receive checked values, change the
session, audit, and leave committing to the caller; a step the wave's state does not allow
raises :class:`WaveError` with a translated message.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.audit import record
from surveyapp.console.errors import ConsoleError
from surveyapp.draft_languages import draft_languages
from surveyapp.i18n.instrument import missing_texts
from surveyapp.instruments import Instrument
from surveyapp.instruments.registry import wave_instrument
from surveyapp.models import (
    Area,
    City,
    Initiative,
    Response,
    User,
    Wave,
    WaveArea,
    WaveMode,
    WaveStatus,
)
from surveyapp.models import Instrument as InstrumentRow
from surveyapp.respond.drafts import flag_drafts_of_closed_wave

MAX_NAME = 200
MIN_RETENTION_DAYS, MAX_RETENTION_DAYS = 1, 3650


class WaveError(ConsoleError):
    """A lifecycle step is not allowed; the message says why and what to do."""


# --- Languages ------------------------------------------------------------------------------


def complete_languages(
    instrument: Instrument, modules: Sequence[str], candidates: Iterable[str], translations: Path
) -> list[str]:
    """The candidate languages in which the questionnaire (with modules) is fully translated."""
    return [
        language
        for language in candidates
        if not missing_texts(instrument, list(modules), language, translations)
    ]


def untranslated(wave: Wave, translations_dir: Path) -> dict[str, list[str]]:
    """Per wave language, the texts residents would see untranslated (empty when complete)."""
    instrument = wave_instrument(wave)
    result = {}
    for language in wave.languages or []:
        missing = missing_texts(instrument, list(wave.modules or []), language, translations_dir)
        if missing:
            result[language] = missing
    return result


def contents_problem(
    instrument: Instrument, modules: Sequence[str], languages: Sequence[str], translations: Path
) -> str | None:
    """What is wrong with a wave's modules and languages, or None (lazily translated).

    Only the instrument's optional modules may be chosen, and only languages into which
    the questionnaire with those modules is fully translated.
    """
    known = {module.id for module in instrument.modules if module.optional}
    unknown = sorted(set(modules) - known)
    if unknown:
        return _l("Unknown module(s): %(modules)s.", modules=", ".join(unknown))
    if not languages:
        return _l("Choose at least one language.")
    complete = complete_languages(instrument, modules, languages, translations)
    incomplete = sorted(set(languages) - set(complete))
    if incomplete:
        return _l(
            "The questionnaire is not fully translated into: %(languages)s.",
            languages=", ".join(incomplete),
        )
    return None


# --- Lifecycle ------------------------------------------------------------------------------


def create_wave(
    session: Session,
    initiative: Initiative | None,
    *,
    instrument_row: InstrumentRow,
    name: str,
    modules: Sequence[str],
    languages: Sequence[str],
    mode: str,
    opens_at: datetime | None,
    closes_at: datetime | None,
    is_panel: bool,
    retention_days: int,
    translations: Path,
    actor: User | str,
    city: City | None = None,
    areas: Sequence[Area] = (),
) -> Wave:
    """A new draft wave of ``initiative`` (checked by :class:`forms.WaveForm` on the pages).

    With ``initiative`` None, a city-wide round of ``city`` over ``areas`` (none: every
    area of the city). Whoever asks, a wave only gets known modules and fully translated
    languages, and a round only its city's areas: else :class:`WaveError` (the form
    reports it first).
    """
    instrument = Instrument.from_definition(instrument_row.definition)
    problem = contents_problem(instrument, modules, languages, translations)
    if problem:
        raise WaveError(problem)
    owner = initiative.city if initiative is not None else city
    if owner is None:
        raise WaveError(_l("A wave belongs to an initiative or, as a city-wide round, a city."))
    strangers = [area.code for area in areas if area.city_id != owner.id]
    if strangers:
        raise WaveError(
            _l(
                "Areas %(codes)s are not areas of %(city)s.",
                codes=", ".join(strangers),
                city=owner.name,
            )
        )
    # Setting ``initiative=None`` would also clear city_id (the composite key): leave it.
    owned = {"initiative": initiative} if initiative is not None else {}
    wave = Wave(
        city=owner,
        **owned,
        instrument_id=instrument_row.id,
        name=name.strip(),
        modules=sorted(set(modules)),
        languages=list(dict.fromkeys(languages)),
        mode=mode,
        status=WaveStatus.DRAFT,
        opens_at=opens_at,
        closes_at=closes_at,
        is_panel=is_panel,
        retention_days=retention_days,
    )
    if initiative is None:
        wave.area_links = [WaveArea(area=area, city_id=owner.id) for area in dict.fromkeys(areas)]
    session.add(wave)
    session.flush()
    record(session, actor, owner.id, "wave_created", "wave", wave.id, name=wave.name)
    return wave


def copy_wave(
    session: Session, source: Wave, *, translations: Path, actor: User | str, **changes: Any
) -> Wave:
    """A new draft wave for the next round with ``source``'s settings, ``changes`` applied.

    The same questionnaire version, modules, languages, mode, panel flag, retention period
    and (a city-wide round) areas, so that the next round measures the same way; ``changes``
    take :func:`create_wave`'s keywords (a name, dates, settings edited on the form). No
    dates unless given; responses, codes and letters stay with ``source``.
    """
    settings = {
        "instrument_row": source.instrument,
        "name": source.name,
        "modules": list(source.modules or []),
        "languages": list(source.languages or []),
        "mode": source.mode,
        "opens_at": None,
        "closes_at": None,
        "is_panel": source.is_panel,
        "retention_days": source.retention_days,
        "areas": [link.area for link in source.area_links],
    } | changes
    copy = create_wave(
        session,
        source.initiative,
        city=source.city,
        translations=translations,
        actor=actor,
        **settings,
    )
    record(session, actor, copy.city_id, "wave_copied", "wave", copy.id, copied_from=source.id)
    return copy


def open_wave(
    session: Session,
    wave: Wave,
    *,
    actor: User | str,
    translations_dir: Path,
    acknowledged: Collection[str] = (),
) -> Wave:
    """Open a draft or closed wave; freezes the instrument at the first opening.

    A wave whose opening date is ahead is thereby scheduled. Refused when a wave language
    lacks questionnaire translations (the error lists the missing texts by id), when the
    wave is already open or archived, or when a wave language is a draft translation that
    is not in ``acknowledged`` (the staff member's explicit acknowledgement, which is
    audited with the languages it covers).
    """
    if wave.status not in (WaveStatus.DRAFT, WaveStatus.CLOSED):
        raise WaveError(
            _l(
                "Wave %(wave)s is %(status)s; only draft or closed waves can open.",
                wave=wave.id,
                status=wave.status,
            )
        )
    if not wave.languages:
        raise WaveError(_l("Wave %(wave)s has no languages.", wave=wave.id))
    gaps = untranslated(wave, translations_dir)
    if gaps:
        raise WaveError(_untranslated_message(wave, gaps))
    drafts = draft_languages(wave.languages, translations_dir)
    unacknowledged = [code for code in drafts if code not in acknowledged]
    if unacknowledged:
        raise WaveError(
            _l(
                "Wave %(wave)s is in draft translations nobody has reviewed yet (%(languages)s):"
                " opening it needs your acknowledgement.",
                wave=wave.id,
                languages=", ".join(unacknowledged),
            )
        )
    reopening = wave.status == WaveStatus.CLOSED
    if drafts:
        record(
            session,
            actor,
            wave.city_id,
            "draft_languages_acknowledged",
            "wave",
            wave.id,
            languages=drafts,
        )
    if wave.frozen_instrument_hash is None:
        wave.frozen_instrument_hash = wave.instrument.content_hash
    if wave.mode != WaveMode.INVITATION and not wave.open_token:
        wave.open_token = secrets.token_urlsafe(16)
    wave.status = WaveStatus.OPEN
    _record(session, wave, actor, "wave_reopened" if reopening else "wave_opened")
    return wave


def _untranslated_message(wave: Wave, gaps: dict[str, list[str]]) -> str:
    details = "; ".join(
        str(
            # I18N: a language code, how many questionnaire texts it lacks, and their ids.
            _l(
                "%(language)s: %(count)s missing (%(ids)s)",
                language=language,
                count=len(ids),
                ids=", ".join(ids),
            )
        )
        for language, ids in gaps.items()
    )
    return _l(
        "Wave %(wave)s cannot open: the questionnaire is not fully translated. %(details)s",
        wave=wave.id,
        details=details,
    )


def close_wave(session: Session, wave: Wave, *, actor: User | str) -> Wave:
    """Stop new answers; saved drafts are kept (and flagged)."""
    if wave.status != WaveStatus.OPEN:
        raise WaveError(
            _l(
                "Wave %(wave)s is %(status)s; only an open wave can close.",
                wave=wave.id,
                status=wave.status,
            )
        )
    wave.status = WaveStatus.CLOSED
    flag_drafts_of_closed_wave(session, wave)
    _record(session, wave, actor, "wave_closed")
    return wave


def close_due_waves(session: Session, now: datetime, *, actor: User | str) -> list[Wave]:
    """Close open waves whose closing date has passed (run from cron: `waves tick`)."""
    due = session.scalars(
        select(Wave).where(
            Wave.status == WaveStatus.OPEN, Wave.closes_at.is_not(None), Wave.closes_at <= now
        )
    ).all()
    for wave in due:
        close_wave(session, wave, actor=actor)
    return list(due)


def archive_wave(session: Session, wave: Wave, *, actor: User | str) -> None:
    """Archive a closed wave: it leaves the working lists; its data stays."""
    if wave.status != WaveStatus.CLOSED:
        raise WaveError(_l("Only a closed wave can be archived."))
    wave.status = WaveStatus.ARCHIVED
    record(session, actor, wave.city_id, "wave_archived", "wave", wave.id)


def delete_wave(session: Session, wave: Wave, *, actor: User | str) -> None:
    """Delete a wave that has no responses (a draft set up by mistake)."""
    count = session.scalar(select(func.count(Response.id)).where(Response.wave_id == wave.id))
    if count:
        raise WaveError(
            _l(
                "This wave has %(count)s response(s) and cannot be deleted; close or archive it.",
                count=count,
            )
        )
    if wave.status != WaveStatus.DRAFT:
        raise WaveError(_l("Only a draft wave can be deleted."))
    record(session, actor, wave.city_id, "wave_deleted", "wave", wave.id, name=wave.name)
    session.delete(wave)
    session.flush()


def _record(session: Session, wave: Wave, actor: User | str, action: str) -> None:
    record(
        session,
        actor,
        wave.city_id,
        action,
        "wave",
        wave.id,
        instrument_hash=wave.frozen_instrument_hash,
    )
