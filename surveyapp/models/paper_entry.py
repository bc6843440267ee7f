"""Paper questionnaires entered twice, waiting until two people's entries agree."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from surveyapp.db import Base, UTCDateTime, utcnow


class PaperEntry(Base):
    """One person's entry of one paper sheet in double-entry mode.

    It is deleted as soon as the sheet's response is stored (both entries agreed, or the
    disagreements were resolved), so the invitation code's hash it carries meanwhile never
    sits beside a sent questionnaire.
    """

    __tablename__ = "paper_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id", ondelete="CASCADE"), index=True)
    sheet: Mapped[str] = mapped_column(String(32))
    entered_by: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    # Keyed hash of "paper:" + the code written on the sheet, if any, only to compare the two
    # entries (like a draft's resume_key_hash: not the invitation's hash, and gone once stored).
    code_hash: Mapped[str | None] = mapped_column(String(64))
    answer_values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("wave_id", "sheet", "entered_by"),)
