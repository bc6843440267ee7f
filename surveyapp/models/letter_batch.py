"""A batch of invitation letters: the codes made in one action, and what it follows up."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import Base, UTCDateTime, utcnow, values_check
from surveyapp.models.wave import Invitation, Wave


class BatchStatus(enum.StrEnum):
    """Where a batch's letters are: being laid out, ready to print, sent, or cancelled.

    Codes work from the moment they are made (staff try one before printing) until the
    batch is cancelled. Only sent batches count as letters in monitoring's response rate.
    """

    PREPARING = "preparing"
    READY = "ready"
    SENT = "sent"
    CANCELLED = "cancelled"


class LetterBatch(Base):
    """The letters of one action (ZIP with the letters' PDFs and codes.csv).

    A panel wave's follow-up letters are made from an earlier panel wave's batch: one
    letter per letter of that batch, for the same household (same panel seed and area).
    """

    __tablename__ = "letter_batches"
    __table_args__ = (values_check("status", BatchStatus, "status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id", ondelete="CASCADE"), index=True)
    # The earlier batch these letters follow up, if they are follow-up letters.
    follows_batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("letter_batches.id", ondelete="SET NULL")
    )
    letters: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(
        String(16), default=BatchStatus.SENT, server_default=BatchStatus.SENT.value
    )
    # When staff confirmed the letters were printed and sent, or cancelled the batch.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    wave: Mapped[Wave] = relationship()
    follows: Mapped[LetterBatch | None] = relationship(remote_side=[id])
    invitations: Mapped[list[Invitation]] = relationship()
