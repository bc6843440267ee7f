"""Cities (tenants) and their areas with population margins for weighting."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from surveyapp.models.initiative import Initiative
    from surveyapp.models.user import Membership


class City(Base):
    """A city (or ministry) using the platform: the tenant boundary for staff and data."""

    __tablename__ = "cities"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Language codes offered to residents, e.g. ["nl", "fr", "en"].
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    default_language: Mapped[str] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Brussels")
    # Whom residents contact about their data (e-mail or address), shown in the privacy notice.
    privacy_contact: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # k of the k-anonymity of analysts' response-level files (surveyapp.exports.protection;
    # the console's form accepts 3 to 20).
    microdata_k: Mapped[int] = mapped_column(Integer, default=5, server_default="5")

    areas: Mapped[list[Area]] = relationship(back_populates="city", order_by="Area.name")
    initiatives: Mapped[list[Initiative]] = relationship(back_populates="city")
    memberships: Mapped[list[Membership]] = relationship(back_populates="city")

    __table_args__ = (CheckConstraint("slug <> ''", name="slug_not_empty"),)


class Area(Base):
    """A district or neighbourhood of a city; responses and invitations belong to one."""

    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))

    city: Mapped[City] = relationship(back_populates="areas")
    margins: Mapped[list[AreaMargin]] = relationship(
        back_populates="area", cascade="all, delete-orphan", order_by="AreaMargin.id"
    )

    __table_args__ = (
        UniqueConstraint("city_id", "code"),
        # Target of composite foreign keys that keep an initiative's areas in its own city.
        UniqueConstraint("id", "city_id"),
    )


class AreaMargin(Base):
    """Population count of one age band x gender cell of an area (raking target)."""

    __tablename__ = "area_margins"

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    age_band: Mapped[str] = mapped_column(String(16))
    gender: Mapped[str] = mapped_column(String(32))
    population: Mapped[int]

    area: Mapped[Area] = relationship(back_populates="margins")

    __table_args__ = (
        UniqueConstraint("area_id", "age_band", "gender"),
        CheckConstraint("population >= 0", name="population_not_negative"),
    )
