"""One-time links that invite a colleague or let a staff member set a new password."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import Base, UTCDateTime, utcnow, values_check
from surveyapp.models.city import City
from surveyapp.models.user import Role, User


class LinkPurpose(enum.StrEnum):
    """What opening the link does."""

    INVITE = "invite"
    RESET = "reset"


class AccountLink(Base):
    """A link that works once, until it expires.

    Only the SHA-256 of the link's token is stored: the link itself is shown once, to the
    admin who made it. An invitation names the address, city and role; a password reset
    names the account.
    """

    __tablename__ = "account_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))
    email: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    city_id: Mapped[int | None] = mapped_column(ForeignKey("cities.id", ondelete="CASCADE"))
    role: Mapped[str | None] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User | None] = relationship()
    city: Mapped[City | None] = relationship()

    __table_args__ = (
        values_check("purpose", LinkPurpose, "purpose_known"),
        values_check("role", Role, "role_known"),
        CheckConstraint("length(token_hash) = 64", name="token_hash_sha256"),
        CheckConstraint(
            "purpose <> 'invite' OR (city_id IS NOT NULL AND role IS NOT NULL)",
            name="invite_names_city_and_role",
        ),
        CheckConstraint("purpose <> 'reset' OR user_id IS NOT NULL", name="reset_names_user"),
    )

    def is_usable(self, now: datetime) -> bool:
        """Whether the link still works at ``now``: not used, not expired."""
        return self.used_at is None and now < self.expires_at
