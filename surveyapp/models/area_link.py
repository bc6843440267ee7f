"""Per-area open links: one unguessable token per wave and area, for posters in that area."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import Base, UTCDateTime, utcnow
from surveyapp.models.city import Area
from surveyapp.models.wave import Wave


class AreaLink(Base):
    """The open link (``/w/<token>``) of one area in one open-link wave.

    Answers that come through it record the area, with area source ``area_link``. The token
    says nothing about the resident: everyone who scans the area's poster uses the same one.
    """

    __tablename__ = "area_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id", ondelete="CASCADE"))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    wave: Mapped[Wave] = relationship()
    area: Mapped[Area] = relationship()

    __table_args__ = (UniqueConstraint("wave_id", "area_id"),)
