"""Personal access tokens of staff members for the read-only analysts' API."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import Base, UTCDateTime, utcnow
from surveyapp.models.user import User


class ApiToken(Base):
    """A bearer token that reads the API as its user, within the user's cities.

    Only the SHA-256 of the token is stored: the token itself is shown once, when it is
    made. ``prefix`` (the first characters) lets its owner tell tokens apart in the list.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint("name <> ''", name="name_not_empty"),
        CheckConstraint("length(token_hash) = 64", name="token_hash_sha256"),
    )

    def is_usable(self, now: datetime) -> bool:
        """Whether the token may be used at ``now``: not revoked, not expired."""
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or now < self.expires_at
