"""Survey waves and their single-use invitation codes.

A wave belongs to one initiative, or (``initiative_id`` NULL) to its city as a city-wide
round over all or chosen areas (:class:`WaveArea`); :mod:`surveyapp.designs` decides which
waves evaluate which initiative.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import Base, UTCDateTime, utcnow, values_check
from surveyapp.models.city import Area, City
from surveyapp.models.initiative import Initiative
from surveyapp.models.instrument import Instrument

if TYPE_CHECKING:
    from surveyapp.models.response import Response


class WaveStatus(enum.StrEnum):
    """Lifecycle of a wave: draft -> open -> closed -> archived (closed may reopen)."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    ARCHIVED = "archived"


class WaveMode(enum.StrEnum):
    """How residents reach the questionnaire."""

    INVITATION = "invitation"
    OPEN_LINK = "open_link"
    BOTH = "both"


class Wave(Base):
    """One round of data collection with one instrument version.

    Owned by an initiative, or by the city (``initiative_id`` NULL): a city-wide round
    covering the areas in :attr:`area_links`, or every area of the city when none are listed.
    The composite foreign key keeps an initiative's wave in the initiative's city.
    """

    __tablename__ = "waves"

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id", ondelete="RESTRICT"), index=True)
    initiative_id: Mapped[int | None] = mapped_column(index=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(200))
    # Optional instrument modules switched on for this wave (core is always included).
    modules: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON)
    mode: Mapped[str] = mapped_column(String(16), default=WaveMode.INVITATION)
    status: Mapped[str] = mapped_column(String(16), default=WaveStatus.DRAFT)
    is_panel: Mapped[bool] = mapped_column(default=False)
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Content hash of the instrument the wave opened with; set once, at opening.
    frozen_instrument_hash: Mapped[str | None] = mapped_column(String(64))
    # Random token in the open link (/w/<token>); only for open-link waves.
    open_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    retention_days: Mapped[int] = mapped_column(default=730)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    city: Mapped[City] = relationship(overlaps="initiative,waves")
    initiative: Mapped[Initiative | None] = relationship(back_populates="waves", overlaps="city")
    area_links: Mapped[list[WaveArea]] = relationship(
        back_populates="wave", cascade="all, delete-orphan", overlaps="area"
    )
    instrument: Mapped[Instrument] = relationship()
    invitations: Mapped[list[Invitation]] = relationship(back_populates="wave")
    responses: Mapped[list[Response]] = relationship(back_populates="wave")

    __table_args__ = (
        ForeignKeyConstraint(
            ["initiative_id", "city_id"],
            ["initiatives.id", "initiatives.city_id"],
            ondelete="RESTRICT",
            name="fk_waves_initiative_city",
        ),
        # Target of the composite foreign key that keeps a wave's areas in its city.
        UniqueConstraint("id", "city_id"),
        values_check("status", WaveStatus, "status_known"),
        values_check("mode", WaveMode, "mode_known"),
        CheckConstraint(
            "opens_at IS NULL OR closes_at IS NULL OR closes_at > opens_at",
            name="closes_after_opening",
        ),
        CheckConstraint("retention_days > 0", name="retention_positive"),
        CheckConstraint(
            "status = 'draft' OR frozen_instrument_hash IS NOT NULL",
            name="instrument_frozen_once_opened",
        ),
    )

    @property
    def is_citywide(self) -> bool:
        """True for a round owned by the city rather than by one initiative."""
        return self.initiative_id is None and self.initiative is None

    @property
    def owner_name(self) -> str:
        """The initiative's name, or the city's for a city-wide round (for page titles)."""
        return self.initiative.name if self.initiative is not None else self.city.name


class WaveArea(Base):
    """An area a city-wide wave covers (a city-wide wave without any covers every area)."""

    __tablename__ = "wave_areas"

    wave_id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int]

    wave: Mapped[Wave] = relationship(back_populates="area_links", overlaps="area")
    area: Mapped[Area] = relationship(overlaps="wave,area_links")

    __table_args__ = (
        ForeignKeyConstraint(
            ["wave_id", "city_id"],
            ["waves.id", "waves.city_id"],
            ondelete="CASCADE",
            name="fk_wave_areas_wave_city",
        ),
        ForeignKeyConstraint(
            ["area_id", "city_id"],
            ["areas.id", "areas.city_id"],
            ondelete="RESTRICT",
            name="fk_wave_areas_area_city",
        ),
    )


class Invitation(Base):
    """A single-use invitation code for one wave and area; only its keyed hash is stored.

    The row never changes when the code is used (see :class:`UsedInvitations`): nothing in
    it, not even its position on disk or the transaction that last wrote it, tells when.
    """

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id", ondelete="CASCADE"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="RESTRICT"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Panel waves only: a random seed shared by one household's letters in every wave. The
    # response gets a keyed hash of it (surveyapp/respond/panel.py), never the seed itself.
    panel_seed: Mapped[str | None] = mapped_column(String(64))
    # The batch of letters it was made in (none for letters made before batches existed).
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("letter_batches.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    wave: Mapped[Wave] = relationship(back_populates="invitations")
    area: Mapped[Area] = relationship()

    __table_args__ = (
        # One letter per household and wave: a batch cannot be followed up twice.
        UniqueConstraint("wave_id", "panel_seed"),
    )


class UsedInvitations(Base):
    """Which invitations of one wave and area have been used: a sorted set of their ids.

    Marking a code used on its own row would store when it was used: a timestamp, and in
    PostgreSQL also the row's new position and the id of the transaction that completed the
    questionnaire, all of which lead back from a sent questionnaire to its letter. A sorted
    set per wave and area says only *which* codes are used, the same whatever the order in
    which residents answered.
    """

    __tablename__ = "used_invitations"

    wave_id: Mapped[int] = mapped_column(
        ForeignKey("waves.id", ondelete="CASCADE"), primary_key=True
    )
    area_id: Mapped[int] = mapped_column(
        ForeignKey("areas.id", ondelete="RESTRICT"), primary_key=True
    )
    invitation_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
