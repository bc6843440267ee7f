"""Published questionnaire versions, stored frozen with their content hash."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from surveyapp.db import Base, UTCDateTime, utcnow


class Instrument(Base):
    """One immutable version of a questionnaire definition (instruments/*.yaml).

    ``definition`` is the canonical parsed form and ``content_hash`` its SHA-256; a changed
    wording under the same key and version is refused when instruments are loaded.
    """

    __tablename__ = "instruments"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    source_language: Mapped[str] = mapped_column(String(16))
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("key", "version"),
        CheckConstraint("length(content_hash) = 64", name="content_hash_sha256"),
    )
