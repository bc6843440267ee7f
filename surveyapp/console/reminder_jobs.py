"""Reminder letters as a background job, without the server keeping the city's addresses.

The request reads the uploaded file and matches its codes (fast); a job lays out the
reminder letters (slow). The rows of the file that get a reminder, with the city's
address columns, go into the ZIP as ``reminders.csv``; they are encrypted in the request
(AES-GCM) with a new key that only the staff member's session cookie holds, so the
database keeps ciphertext it cannot read, and the file itself is never stored. The job's
parameters hold the codes to remind and their areas until the letters are laid out.
"""

from __future__ import annotations

import base64
import io
import os
import zipfile
from collections.abc import MutableMapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from surveyapp.console.errors import ConsoleError
from surveyapp.console.reminders import reminders_csv, sorted_upload
from surveyapp.jobs.reminders import without_codes
from surveyapp.models import Job, JobStatus, User, Wave
from surveyapp.respond.codes import normalize_code

#: Most reminder letters one upload may ask for (the job lays them out in the background).
MAX_REMINDERS = 20_000
#: Where the session cookie keeps the keys of the staff member's recent reminder jobs.
KEYS = "reminder_keys"
#: Keys kept at most (the cookie stays small; older downloads lose their address rows).
KEPT_KEYS = 5


def seal(data: bytes) -> tuple[bytes, bytes]:
    """``data`` encrypted with a new key: (nonce + ciphertext, key)."""
    key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, data, None), key


def unseal(sealed: bytes | None, key: bytes | None) -> bytes | None:
    """The sealed data, or None without the right key."""
    if not sealed or not key:
        return None
    try:
        return AESGCM(key).decrypt(sealed[:12], sealed[12:], None)
    except (InvalidTag, ValueError):
        return None


def remember_key(cookie: MutableMapping, job_id: int, key: bytes) -> None:
    """Keep ``key`` in the session cookie for job ``job_id`` (the newest few only)."""
    keys = dict(cookie.get(KEYS, {}))
    keys[str(job_id)] = base64.urlsafe_b64encode(key).decode()
    cookie[KEYS] = dict(list(keys.items())[-KEPT_KEYS:])


def key_of(cookie: MutableMapping, job_id: int) -> bytes | None:
    value = cookie.get(KEYS, {}).get(str(job_id))
    return base64.urlsafe_b64decode(value) if value else None


def start_reminders(
    session: Session,
    wave: Wave,
    data: bytes,
    language: str,
    *,
    actor: User,
    ui_language: str,
    limit: int | None = None,
    second_language: str | None = None,
) -> tuple[Job | None, list[str], bytes | None]:
    """Match the file's codes, audit the counts, and queue a job for the unused ones.

    Returns the job (None when no code needs a reminder), the summary lines, and the key
    of the job's address rows (for the caller to keep in the session). Not committed.
    """
    upload, plan, lines = sorted_upload(
        session,
        wave,
        data,
        language=language,
        actor=actor,
        limit=MAX_REMINDERS if limit is None else limit,
    )
    summary = [str(line) for line in lines]
    if not plan.unused:
        return None, summary, None
    sealed, key = seal(reminders_csv(upload, plan))
    letters = [
        [area_id, normalize_code(row[upload.code_column])] for _line, row, area_id in plan.unused
    ]
    job = Job(
        city_id=wave.city_id,
        wave_id=wave.id,
        kind="reminders",
        status=JobStatus.QUEUED,
        params={
            "language": language,
            "ui_language": ui_language,
            "summary": summary,
            "letters": letters,
        }
        | ({"second_language": second_language} if second_language not in (None, language) else {}),
        total=len(letters),
        created_by_id=actor.id,
        sealed=sealed,
    )
    session.add(job)
    session.flush()
    return job, summary, key


def reminders_archive(job: Job, key: bytes | None) -> bytes:
    """The job's letters and counts, with ``reminders.csv`` if ``key`` opens it."""
    if job.status != JobStatus.DONE or job.result is None:
        raise ConsoleError(_l("These reminder letters are no longer kept."))
    rows = unseal(job.sealed, key)
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(job.result)) as kept,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        for name in kept.namelist():
            archive.writestr(name, kept.read(name))
        if rows is not None:
            archive.writestr("reminders.csv", rows)
        else:
            archive.writestr(
                "reminders-csv-not-included.txt",
                _(
                    "The rows of your file (with their addresses) can only be opened in the "
                    "browser session that uploaded it. Upload the file again to get them."
                )
                + "\n",
            )
    return buffer.getvalue()


def delete_reminders(job: Job) -> None:
    """Stop the job if it runs, and delete its letters, rows and codes. Not committed."""
    if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        job.status = JobStatus.CANCELLED
    job.result = None
    job.result_name = None
    job.sealed = None
    job.params = without_codes(job.params)
