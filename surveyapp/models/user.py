"""Staff accounts and their per-city roles."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import Base, UTCDateTime, utcnow, values_check
from surveyapp.models.city import City


class Role(enum.StrEnum):
    """What a staff member may do in one city."""

    ADMIN = "admin"
    COORDINATOR = "coordinator"
    ANALYST = "analyst"


class User(Base):
    """A member of a city's staff. Residents never have accounts."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased so that sign-in is case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Every signed-in browser carries the version it signed in with; raising it (sign-out,
    # an admin ending the sessions, deactivation) ends all of them, copied cookies too.
    session_version: Mapped[int] = mapped_column(default=0)
    # Second factor (surveyapp/auth/second_factor/): the TOTP secret, encrypted under a key
    # derived from the app's secret key (a database copy alone cannot make codes), and the
    # last time step a code was accepted for, so that no code is accepted twice.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_last_step: Mapped[int | None]
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lower_case"),
        CheckConstraint(
            "(totp_secret IS NULL) = (totp_enrolled_at IS NULL)", name="totp_enrolled_with_secret"
        ),
    )


class Membership(Base):
    """A user's role in one city; every console query is scoped through these rows."""

    __tablename__ = "memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))

    user: Mapped[User] = relationship(back_populates="memberships")
    city: Mapped[City] = relationship(back_populates="memberships")

    __table_args__ = (
        UniqueConstraint("user_id", "city_id"),
        values_check("role", Role, "role_known"),
    )
