"""One-time recovery codes: a way in when the phone with the authenticator app is lost."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from surveyapp.db import Base, UTCDateTime, utcnow


class RecoveryCode(Base):
    """A recovery code of a staff member's second factor, usable once instead of a TOTP code.

    Only the SHA-256 of the code is stored: the codes are shown once, when they are made,
    and a used code's row is deleted.
    """

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("user_id", "code_hash"),
        CheckConstraint("length(code_hash) = 64", name="code_hash_sha256"),
    )
