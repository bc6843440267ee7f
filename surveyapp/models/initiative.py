"""Local interventions, placed on the prevention pyramid, with treated and comparison areas."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import Base, UTCDateTime, utcnow, values_check
from surveyapp.models.city import Area, City

if TYPE_CHECKING:
    from surveyapp.models.wave import Wave


class PyramidLevel(enum.IntEnum):
    """Levels of the prevention pyramid used by the Urban Agenda's Action 5.

    Level 0 (societal context) is the base that Deklerck's Belgian pyramid adds.
    """

    SOCIETAL_CONTEXT = 0
    QUALITY_OF_LIFE = 1
    GENERAL_PREVENTION = 2
    SPECIFIC_PREVENTION = 3
    REACTION = 4


class AreaRole(enum.StrEnum):
    """Whether an area receives the initiative or serves as its comparison."""

    TREATED = "treated"
    COMPARISON = "comparison"


class Initiative(Base):
    """A social-cohesion or prevention initiative of one city."""

    __tablename__ = "initiatives"

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    pyramid_level: Mapped[int]
    # Construct ids the initiative means to move (its theory of change), e.g. ["trust"].
    target_constructs: Mapped[list[str]] = mapped_column(JSON, default=list)
    start_date: Mapped[date | None]
    # The smallest change (0-100 index points) staff want the design to be able to show:
    # the planner turns it into answers needed per area (fieldwork targets). Checked in
    # surveyapp.console.initiatives (0 < change <= 100): a column added without rebuilding
    # the table, which SQLite cannot do while waves point at it.
    target_change: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    city: Mapped[City] = relationship(back_populates="initiatives")
    area_links: Mapped[list[InitiativeArea]] = relationship(
        back_populates="initiative", cascade="all, delete-orphan", overlaps="area"
    )
    waves: Mapped[list[Wave]] = relationship(back_populates="initiative", order_by="Wave.id")

    __table_args__ = (
        CheckConstraint("pyramid_level BETWEEN 0 AND 4", name="pyramid_level_known"),
        CheckConstraint("name <> ''", name="name_not_empty"),
        UniqueConstraint("id", "city_id"),
    )

    def areas_with_role(self, role: AreaRole) -> list[Area]:
        """The areas linked to this initiative in the given role."""
        return [link.area for link in self.area_links if link.role == role]


class InitiativeArea(Base):
    """An area an initiative treats or compares against.

    The composite foreign keys carry ``city_id`` so the database itself refuses to link an
    initiative to another city's area.
    """

    __tablename__ = "initiative_areas"

    initiative_id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int]
    role: Mapped[str] = mapped_column(String(16))

    # Both relationships set city_id; the composite keys make sure they agree.
    initiative: Mapped[Initiative] = relationship(back_populates="area_links", overlaps="area")
    area: Mapped[Area] = relationship(overlaps="initiative,area_links")

    __table_args__ = (
        ForeignKeyConstraint(
            ["initiative_id", "city_id"],
            ["initiatives.id", "initiatives.city_id"],
            ondelete="CASCADE",
            name="fk_initiative_areas_initiative_city",
        ),
        ForeignKeyConstraint(
            ["area_id", "city_id"],
            ["areas.id", "areas.city_id"],
            ondelete="CASCADE",
            name="fk_initiative_areas_area_city",
        ),
        values_check("role", AreaRole, "role_known"),
    )
