"""Reminder letters for the codes of a wave not used yet, from the CSV the city kept.

The platform never stored the codes, so staff upload the download's ``codes.csv`` back
(often after a mail merge added address columns). Each code is hashed and looked up
among the wave's invitations; only rows whose code is this wave's and unused get a
reminder letter and a row in the returned CSV, with the uploaded columns in their order.
Nothing of the file is stored: not the file, not its codes, not which rows were reminded.
The one record is an audit event with counts.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.audit import record as audit
from surveyapp.console.errors import ConsoleError
from surveyapp.console.invitations import (
    MAX_CODES,
    NewInvitation,
    invitation_url,
    letters_html,
)
from surveyapp.instruments.paper import layout
from surveyapp.models import Area, Invitation, User, Wave, WaveMode, WaveStatus
from surveyapp.respond.codes import ALPHABET, CODE_LENGTH, hash_code, normalize_code
from surveyapp.respond.used_codes import used_ids

#: Largest file accepted: a mail merge of 100,000 addresses is about 15 MB.
MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
#: Most reminder letters one console request lays out: the same bound as for new letters
#: (25 to 60 ms a letter on a shared 2-core machine); the CLI has no limit.
MAX_REMINDERS = MAX_CODES
#: Codes looked up per query: below every database's limit on bound parameters.
CHUNK = 500
DELIMITERS = (";", ",", "\t")


@dataclass
class Upload:
    """The rows of an uploaded CSV: its header, and each row with its line in the file."""

    header: list[str]
    code_column: int
    delimiter: str
    rows: list[tuple[int, list[str]]]


@dataclass
class ReminderPlan:
    """What the file's rows are, by line number; ``unused`` rows get reminders."""

    rows: int = 0
    #: (line, row, area id) of each row whose code is unused, in the file's order.
    unused: list[tuple[int, list[str], int]] = field(default_factory=list)
    used: int = 0
    unknown: list[int] = field(default_factory=list)
    malformed: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    areas: dict[int, Area] = field(default_factory=dict)


def _text(data: bytes) -> str:
    """The file as text, or the error naming what it is instead."""
    if not data.strip():
        raise ConsoleError(_l("The file is empty."))
    if len(data) > MAX_BYTES:
        raise ConsoleError(_l("The file is larger than %(limit)s MB.", limit=MAX_BYTES >> 20))
    if data.startswith(b"PK\x03\x04"):
        raise ConsoleError(_l("This is an Excel workbook, not a CSV: save it as “CSV UTF-8”."))
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise ConsoleError(_l("Line %(line)s is not text: upload a CSV file.", line=line))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ConsoleError(
            _l("Line %(line)s is not UTF-8 text: save the file as “CSV UTF-8”.", line=line)
        ) from None


def read_upload(data: bytes) -> Upload:
    """Parse a CSV with a ``code`` column: UTF-8 (BOM or not), ``;``, ``,`` or tab."""
    text = _text(data)
    first = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    line = 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                if header is None:
                    header = row
                else:
                    rows.append((line, row))
                    if len(rows) > MAX_ROWS:
                        raise ConsoleError(
                            _l("The file has more than %(limit)s rows.", limit=MAX_ROWS)
                        )
            line = reader.line_num + 1
    except csv.Error:
        raise ConsoleError(
            _l("Line %(line)s cannot be read as CSV: check its quotes.", line=line)
        ) from None
    names = [name.strip().lower() for name in header or []]
    if "code" not in names:
        raise ConsoleError(
            _l(
                "The first line has no “code” column; its columns are: %(columns)s.",
                # A few names, shortened: the first line of a wrong file can be anything.
                columns=", ".join(name.strip()[:40] for name in (header or [])[:12]),
            )
        )
    if not rows:
        raise ConsoleError(_l("The file has no rows under its first line."))
    return Upload(header or [], names.index("code"), delimiter, rows)


def is_code(normalised: str) -> bool:
    """Whether a normalised code could be one the platform made."""
    return len(normalised) == CODE_LENGTH and all(ch in ALPHABET for ch in normalised)


def plan_reminders(session: Session, wave: Wave, upload: Upload) -> ReminderPlan:
    """Sort the rows: unused codes of ``wave``, used, unknown, malformed, repeated.

    One query per :data:`CHUNK` codes and one for the used set: linear in the rows.
    """
    plan = ReminderPlan(rows=len(upload.rows))
    hashed: list[tuple[int, list[str], str]] = []
    seen: set[str] = set()
    for line, row in upload.rows:
        cell = row[upload.code_column] if upload.code_column < len(row) else ""
        code = normalize_code(cell)
        if not is_code(code):
            plan.malformed.append(line)
        elif code in seen:
            plan.duplicates.append(line)
        else:
            seen.add(code)
            hashed.append((line, row, hash_code(code)))
    found: dict[str, tuple[int, int]] = {}
    hashes = [h for _line, _row, h in hashed]
    for start in range(0, len(hashes), CHUNK):
        query = select(Invitation.code_hash, Invitation.id, Invitation.area_id).where(
            Invitation.wave_id == wave.id, Invitation.code_hash.in_(hashes[start : start + CHUNK])
        )
        found.update(
            (code_hash, (id_, area_id)) for code_hash, id_, area_id in session.execute(query)
        )
    used = used_ids(session, wave.id)
    for line, row, code_hash in hashed:
        invitation = found.get(code_hash)
        if invitation is None:
            plan.unknown.append(line)
        elif invitation[0] in used:
            plan.used += 1
        else:
            plan.unused.append((line, row, invitation[1]))
    area_ids = {area_id for _line, _row, area_id in plan.unused}
    plan.areas = {a.id: a for a in session.scalars(select(Area).where(Area.id.in_(area_ids)))}
    return plan


def line_ranges(lines: Iterable[int]) -> str:
    """``[3, 4, 5, 9]`` as ``3–5, 9``."""
    parts: list[str] = []
    start = end = None
    for line in sorted(lines):
        if end is not None and line == end + 1:
            end = line
            continue
        if start is not None:
            parts.append(str(start) if start == end else f"{start}–{end}")
        start = end = line
    if start is not None:
        parts.append(str(start) if start == end else f"{start}–{end}")
    return ", ".join(parts)


def summary_lines(plan: ReminderPlan) -> list[str]:
    """The counts, then the lines left out for a reason staff can fix, translated."""
    lines = [
        _(
            "%(rows)s rows: %(unused)s unused → reminders; %(used)s used; %(unknown)s not "
            "codes of this wave; %(malformed)s without a valid code; %(repeated)s repeated.",
            rows=format_decimal(plan.rows),
            unused=format_decimal(len(plan.unused)),
            used=format_decimal(plan.used),
            unknown=format_decimal(len(plan.unknown)),
            malformed=format_decimal(len(plan.malformed)),
            repeated=format_decimal(len(plan.duplicates)),
        )
    ]
    if plan.unknown:
        lines.append(
            _(
                "Lines with codes that are not this wave's: %(lines)s",
                lines=line_ranges(plan.unknown),
            )
        )
    if plan.malformed:
        lines.append(_("Lines without a valid code: %(lines)s", lines=line_ranges(plan.malformed)))
    if plan.duplicates:
        lines.append(
            _(
                "Lines repeating the code of an earlier line: %(lines)s",
                lines=line_ranges(plan.duplicates),
            )
        )
    return lines


def reminders_csv(upload: Upload, plan: ReminderPlan) -> bytes:
    """The unused rows with the uploaded columns, in the uploaded order (UTF-8 with BOM).

    Cells go back as they came: they are the city's own mail-merge data.
    """
    out = io.StringIO()
    writer = csv.writer(out, delimiter=upload.delimiter)
    writer.writerow(upload.header)
    writer.writerows(row for _line, row, _area in plan.unused)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def check_wave(wave: Wave) -> None:
    """Refuse a wave whose codes cannot be used now: reminders would point nowhere."""
    if wave.mode == WaveMode.OPEN_LINK:
        raise ConsoleError(_l("This wave uses an open link only; change its mode to send letters."))
    if wave.status in (WaveStatus.CLOSED, WaveStatus.ARCHIVED):
        raise ConsoleError(_l("The wave is closed; codes for it would not work."))
    if wave.status != WaveStatus.OPEN:
        raise ConsoleError(_l("Open the wave first: reminders are for codes residents can use."))


@dataclass
class Reminders:
    """The download (None when no row needs a reminder) and what the file held."""

    archive: bytes | None
    plan: ReminderPlan
    summary: list[str]


def sorted_upload(
    session: Session,
    wave: Wave,
    data: bytes,
    *,
    language: str,
    actor: User | str,
    limit: int | None,
) -> tuple[Upload, ReminderPlan, list[str]]:
    """Read the CSV, sort its rows against the wave's codes, audit the counts (not committed).

    Refused (ConsoleError) for a wave whose codes cannot be used, a bad file, or more
    codes needing reminders than ``limit`` (None: no limit).
    """
    check_wave(wave)
    upload = read_upload(data)
    plan = plan_reminders(session, wave, upload)
    if limit is not None and len(plan.unused) > limit:
        raise ConsoleError(
            _l(
                "%(n)s codes need reminders, more than %(limit)s at a time here: upload the "
                "file in parts, or use `surveyapp invitations remind`.",
                n=len(plan.unused),
                limit=limit,
            )
        )
    audit(
        session,
        actor,
        wave.city_id,
        "reminders_made",
        "wave",
        wave.id,
        rows=plan.rows,
        reminders=len(plan.unused),
        used=plan.used,
        unknown=len(plan.unknown),
        malformed=len(plan.malformed),
        repeated=len(plan.duplicates),
        language=language,
    )
    return upload, plan, summary_lines(plan)


def reminders_download(
    session: Session,
    wave: Wave,
    data: bytes,
    language: str,
    *,
    base_url: str,
    translations: Path,
    actor: User | str,
    limit: int | None = MAX_REMINDERS,
) -> Reminders:
    """Sort the CSV's rows (:func:`sorted_upload`), lay out letters for the unused codes.

    The ZIP holds ``reminders.pdf``, ``reminders.csv`` (the unused rows) and
    ``summary.txt``. Nothing else is written: the caller commits the audit event only.
    """
    upload, plan, summary = sorted_upload(
        session, wave, data, language=language, actor=actor, limit=limit
    )
    archive = None
    if plan.unused:
        archive = reminders_zip(wave, upload, plan, language, base_url, translations, summary)
    return Reminders(archive, plan, summary)


def reminders_zip(
    wave: Wave,
    upload: Upload,
    plan: ReminderPlan,
    language: str,
    base_url: str,
    translations: Path,
    summary: list[str],
) -> bytes:
    """The letters (the invitation's design with a reminder), the unused rows, the counts."""
    letters = []
    for _line, row, area_id in plan.unused:
        code = normalize_code(row[upload.code_column])
        letters.append(NewInvitation(plan.areas[area_id], code, invitation_url(base_url, code)))
    html = letters_html(wave, letters, language, translations, reminder=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("reminders.pdf", layout(html).write_pdf())
        archive.writestr("reminders.csv", reminders_csv(upload, plan))
        archive.writestr("summary.txt", "\n".join(summary) + "\n")
    return buffer.getvalue()
