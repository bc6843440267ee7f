"""Storing answers that came on paper or from an offline app as complete responses.

Each response is written with its answers in one savepoint, together with the claim of its
invitation code when it carries one (:mod:`surveyapp.respond.used_codes`, as on the web): a
code works once, whatever the channel, and nothing stored links the response to its code.
The idempotency key is a keyed hash of the submission's instance id (or the paper sheet), so
importing a file twice stores each submission once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.db import utcnow
from surveyapp.instruments.registry import wave_sections
from surveyapp.models import Answer, Area, Channel, Invitation, Response, ResponseStatus, Wave
from surveyapp.offline.reading import read_table
from surveyapp.offline.submissions import Refusal, Submission, match_rows
from surveyapp.respond import used_codes
from surveyapp.respond.codes import hash_code, keyed_digest


class WaveNotReady(Exception):
    """The wave cannot take answers from paper or an offline app (not opened yet)."""


@dataclass
class ImportReport:
    """What an import did: how many rows were stored, already there, or refused and why."""

    imported: int = 0
    already: int = 0
    refusals: list[Refusal] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """``imported N, refused M``, the first line the command prints."""
        return f"imported {self.imported}, refused {len(self.refusals)}"


def offline_key(kind: str, wave_id: int, identifier: str) -> str:
    """The idempotency key of a submission: a keyed hash, never the identifier itself."""
    plain = hashlib.sha256(f"{kind}:{wave_id}:{identifier}".encode()).hexdigest()
    return keyed_digest(plain)


def check_wave(wave: Wave) -> None:
    """Refuse a wave that has not opened: its questionnaire is not frozen yet."""
    if wave.frozen_instrument_hash is None:
        raise WaveNotReady(
            f"wave {wave.id} has not been opened yet; open it before entering answers"
        )


def _area(wave: Wave, code: str) -> Area | None:
    for area in wave.city.areas:
        if area.code.lower() == code.lower():
            return area
    return None


def store_response(
    session: Session,
    wave: Wave,
    submission: Submission,
    *,
    channel: str,
    key: str,
    area: Area | None = None,
) -> str | None:
    """Store one submission as a complete response; None, or why it was refused.

    Runs in a savepoint: a refused submission leaves nothing behind (nor its code claimed).
    """
    invitation = None
    if submission.code:
        invitation = session.scalar(
            select(Invitation).where(
                Invitation.code_hash == hash_code(submission.code), Invitation.wave_id == wave.id
            )
        )
        if invitation is None:
            return "the invitation code is not one of this wave's codes"
        if area is not None and area.id != invitation.area_id:
            return "the invitation code belongs to another area"
        area = invitation.area
    elif submission.area_code:
        area = _area(wave, submission.area_code)
        if area is None:
            return f"the city has no area with the code {submission.area_code!r}"
    today = utcnow().date()
    savepoint = session.begin_nested()
    if invitation is not None and not used_codes.mark_used(session, invitation):
        savepoint.rollback()
        return "the invitation code has already been used"
    response = Response(
        wave_id=wave.id,
        area_id=area.id if area is not None else None,
        language=(wave.languages or ["en"])[0],
        channel=channel,
        status=ResponseStatus.COMPLETE,
        started_on=submission.started_on or submission.submitted_on or today,
        submitted_on=submission.submitted_on or today,
        duration_seconds=submission.duration_seconds,
        idempotency_key=key,
        panel_id=None,
        quality_flags=[],
        page=1,
        answers=[Answer(item_id=i, **value) for i, value in sorted(submission.values.items())],
    )
    session.add(response)
    session.flush()
    savepoint.commit()
    return None


def import_export(
    session: Session, wave: Wave, data: bytes, name: str = "", area: Area | None = None
) -> ImportReport:
    """Import an ODK Central or KoboToolbox export into ``wave`` (not committed).

    Raises :class:`~surveyapp.offline.reading.UnreadableFile`,
    :class:`~surveyapp.offline.submissions.NotThisQuestionnaire` or :class:`WaveNotReady`.
    """
    check_wave(wave)
    table = read_table(data, name)
    matched = match_rows(table, wave_sections(wave), wave.instrument.version)
    report = ImportReport(refusals=list(matched.refusals))
    keys = {s.row: offline_key("offline", wave.id, s.instance_id) for s in matched.submissions}
    stored = (
        set(
            session.scalars(
                select(Response.idempotency_key).where(Response.idempotency_key.in_(keys.values()))
            )
        )
        if keys
        else set()
    )
    for submission in matched.submissions:
        if keys[submission.row] in stored:
            report.already += 1
            continue
        reason = store_response(
            session,
            wave,
            submission,
            channel=Channel.OFFLINE_APP,
            key=keys[submission.row],
            area=area,
        )
        if reason is None:
            report.imported += 1
        else:
            report.refusals.append(Refusal(submission.row, reason))
    report.refusals.sort(key=lambda refusal: refusal.row)
    return report


def summary_lines(report: ImportReport) -> list[str]:
    """The lines the command prints and the console shows."""
    lines = [report.summary]
    lines += [str(refusal) for refusal in report.refusals]
    if report.already:
        lines.append(f"{report.already} row(s) were imported before and were skipped")
    return lines
