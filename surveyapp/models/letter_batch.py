"""A batch of invitation letters: the codes made in one download, and what it follows up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import Base, UTCDateTime, utcnow
from surveyapp.models.wave import Invitation, Wave


class LetterBatch(Base):
    """The letters of one download (ZIP with letters.pdf and codes.csv).

    A panel wave's follow-up letters are made from an earlier panel wave's batch: one
    letter per letter of that batch, for the same household (same panel seed and area).
    """

    __tablename__ = "letter_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id", ondelete="CASCADE"), index=True)
    # The earlier batch these letters follow up, if they are follow-up letters.
    follows_batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("letter_batches.id", ondelete="SET NULL")
    )
    letters: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    wave: Mapped[Wave] = relationship()
    follows: Mapped[LetterBatch | None] = relationship(remote_side=[id])
    invitations: Mapped[list[Invitation]] = relationship()
