"""Background jobs: what staff asked for, how far it got, and its result until collected.

The queue (huey, see :mod:`surveyapp.jobs`) carries only a job's id; this row is the truth
staff see: a progress bar that survives reloading, an error in words, and the result file.
A letters job's result holds the only copy of its codes in plain text: it is deleted once
staff confirm the batch was printed, or cancel it.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from surveyapp.db import Base, UTCDateTime, utcnow, values_check


class JobStatus(enum.StrEnum):
    """queued -> running -> done | failed; a queued or running job may be cancelled."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Job(Base):
    """One background job of a city: invitation letters or reminder letters."""

    __tablename__ = "jobs"
    __table_args__ = (values_check("status", JobStatus, "status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id", ondelete="CASCADE"), index=True)
    wave_id: Mapped[int | None] = mapped_column(
        ForeignKey("waves.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED)
    # What the job was asked to do (no codes, no personal data).
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    # Why it failed, in words staff can act on.
    message: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("letter_batches.id", ondelete="SET NULL")
    )
    result: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    result_name: Mapped[str | None] = mapped_column(String(120))
    # A part of the result the server cannot read: a reminders job's rows of the city's
    # mail-merge file (addresses), encrypted with a key kept only in the requester's
    # session cookie (surveyapp/console/reminder_jobs.py).
    sealed: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Moves on while the job runs: a running job whose heartbeat stopped lost its worker.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # First download of the result: a batch cannot be confirmed as sent before it.
    downloaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, round(100 * self.done / self.total))
