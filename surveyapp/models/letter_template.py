"""A city's own letter design: sender, logo, signature and its paragraph per language."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import Base, UTCDateTime, utcnow
from surveyapp.models.city import City


class LetterTemplate(Base):
    """What a city prints on its invitation, reminder and follow-up letters (and posters).

    Every part is optional; a city without a row prints the platform's plain letter. The
    paragraph per language is the city's own words, printed after the invitation.
    """

    __tablename__ = "letter_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id", ondelete="CASCADE"), unique=True)
    # Name or department that sends the letters, and its address lines ("\n" between lines).
    sender_name: Mapped[str] = mapped_column(String(200), default="")
    sender_address: Mapped[str] = mapped_column(String(400), default="")
    signature_name: Mapped[str] = mapped_column(String(200), default="")
    signature_role: Mapped[str] = mapped_column(String(200), default="")
    # Language code -> the city's paragraph in that language.
    paragraphs: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # The logo as uploaded (PNG or JPEG, checked by opening it), and its media type.
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_type: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    city: Mapped[City] = relationship()

    __table_args__ = (
        CheckConstraint(
            "logo_type IS NULL OR logo_type IN ('image/png', 'image/jpeg')",
            name="logo_type_known",
        ),
        CheckConstraint("(logo IS NULL) = (logo_type IS NULL)", name="logo_has_type"),
    )
