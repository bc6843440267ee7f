"""Comments from a cognitive pretest of a translation: review material, never survey data.

Staff open a wave's questionnaire in one language with a comment box under each question
(``/staff/waves/<id>/pretest``). What they write is kept here, beside the wording they
commented on, for the translator's review sheet. Nothing links it to a response: a pretest
writes no answer.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from surveyapp.db import Base, UTCDateTime, utcnow


class PretestComment(Base):
    """One staff member's comment on one question's wording in one language."""

    __tablename__ = "pretest_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id", ondelete="CASCADE"), index=True)
    # A draft wave set up for a pretest may be deleted; its comments stay for the review.
    wave_id: Mapped[int | None] = mapped_column(
        ForeignKey("waves.id", ondelete="SET NULL"), index=True
    )
    language: Mapped[str] = mapped_column(String(16), index=True)
    item_id: Mapped[str] = mapped_column(String(100))
    # The wording as shown, so that a comment still reads right after the text is revised.
    source_text: Mapped[str] = mapped_column(Text)
    shown_text: Mapped[str] = mapped_column(Text)
    comment: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Who wrote it, as the audit log names staff: kept when the account is deleted.
    author: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (CheckConstraint("comment <> ''", name="comment_not_empty"),)
