"""Frozen index definitions (scoring models) per initiative."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import Base, UTCDateTime, utcnow
from surveyapp.models.initiative import Initiative
from surveyapp.models.instrument import Instrument
from surveyapp.models.wave import Wave


class ScoringModel(Base):
    """Index definition frozen at a reference wave; every later wave is scored with it.

    ``definition`` is the JSON produced by ``analysis`` (item keys, reverse coding, weights,
    reference means/SDs, score range, missing-item rule) and ``content_hash`` its SHA-256.

    While the reference wave is still collecting answers the model is provisional
    (``frozen_at`` is empty): each new report refits it to the answers so far. The first
    report after the reference wave closed freezes it for good; it never changes after.
    """

    __tablename__ = "scoring_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    reference_wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id", ondelete="RESTRICT"))
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="RESTRICT"))
    version: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    initiative: Mapped[Initiative] = relationship()
    reference_wave: Mapped[Wave] = relationship()
    instrument: Mapped[Instrument] = relationship()

    __table_args__ = (
        UniqueConstraint("initiative_id", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("length(content_hash) = 64", name="content_hash_sha256"),
    )
