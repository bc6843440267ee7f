"""Residents' responses and their answers.

Privacy by construction: there is no column for an IP address, user agent, name or e-mail,
and no link to the invitation that was used. While a resident is still answering, a draft
carries ``resume_key_hash``, a hash only the resident's own invitation code or resume link can
reproduce; it is erased when the questionnaire is sent. Panel waves link waves of one resident
only through the pseudonymous ``panel_id``.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import Base, UTCDateTime, utcnow, values_check
from surveyapp.models.city import Area
from surveyapp.models.wave import Wave

#: Quality flag of a questionnaire sent from a browser that had already sent one in the wave.
REPEAT_IN_SAME_BROWSER = "repeat_in_same_browser"
#: Quality flag of an open-link questionnaire sent while many others of its wave were sent
#: from the same address within a minute (surveyapp.respond.visits.completion_burst).
COMPLETION_BURST = "completion_burst"
#: ... when at least this many (itself included) were sent within the minute.
BURST_COMPLETIONS = 20
#: Quality flag of a draft left unfinished when its wave closed (it stays saved).
WAVE_CLOSED_WHILE_DRAFT = "wave_closed_while_draft"


class ResponseStatus(enum.StrEnum):
    """Draft while the resident is answering; complete once submitted."""

    DRAFT = "draft"
    COMPLETE = "complete"


class Channel(enum.StrEnum):
    """How the answers reached us: on the web (by letter or open link), or entered by staff
    from a paper questionnaire or an interview, or imported from an offline app (ODK, Kobo)."""

    INVITATION = "invitation"
    OPEN_LINK = "open_link"
    PAPER = "paper"
    INTERVIEWER = "interviewer"
    OFFLINE_APP = "offline_app"


class AreaSource(enum.StrEnum):
    """How a response's area is known (NULL: not known, e.g. an open link before #17)."""

    LETTER = "letter"  # the invitation code's area
    AREA_LINK = "area_link"  # the area's own open link or poster
    SELF_REPORTED = "self_reported"  # the resident chose it on the open link's first step


class AreaReply(enum.StrEnum):
    """A self-reported answer that names no area of the city (area_id stays NULL)."""

    OUTSIDE_CITY = "outside_city"
    DONT_KNOW = "dont_know"


class Response(Base):
    """One resident's questionnaire in one wave."""

    __tablename__ = "responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id", ondelete="RESTRICT"), index=True)
    # Known from the invitation; open links may not tell the area.
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="RESTRICT"))
    # How the area is known; NULL while an open-link resident has not said it (or never will).
    area_source: Mapped[str | None] = mapped_column(String(16))
    # A self-reported reply that is no area: "outside_city" or "dont_know".
    area_reply: Mapped[str | None] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=ResponseStatus.DRAFT)
    # Exact times only while a draft (for the time taken and the save guard); a sent
    # questionnaire keeps the day it was started and sent (UTC) and how long it took, no
    # time of day that could be matched to anything else.
    started_on: Mapped[date] = mapped_column(Date, default=lambda: utcnow().date())
    submitted_on: Mapped[date | None] = mapped_column(Date)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Flags set by cleaning or at collection ("wave_closed_while_draft", "duplicate", ...).
    quality_flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Key of the request that created the response: a retried POST finds it, never doubles it.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    panel_id: Mapped[str | None] = mapped_column(String(64))
    # Keyed hash of "resume:" + the invitation code or open-link resume token, while a draft;
    # NULL once complete, so a sent questionnaire cannot be traced back to its code.
    resume_key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The page (1-based) the resident is on, to resume where they stopped.
    page: Mapped[int] = mapped_column(Integer, default=1)

    wave: Mapped[Wave] = relationship(back_populates="responses")
    area: Mapped[Area | None] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan", order_by="Answer.item_id"
    )

    __table_args__ = (
        values_check("status", ResponseStatus, "status_known"),
        values_check("channel", Channel, "channel_known"),
        CheckConstraint(
            "area_source IS NULL OR area_source IN ('letter', 'area_link', 'self_reported')",
            name="area_source_known",
        ),
        CheckConstraint(
            "area_reply IS NULL OR (area_reply IN ('outside_city', 'dont_know')"
            " AND area_source = 'self_reported' AND area_id IS NULL)",
            name="area_reply_without_area",
        ),
        CheckConstraint(
            "status = 'draft' OR submitted_on IS NOT NULL", name="complete_has_submitted_on"
        ),
        CheckConstraint(
            "status = 'draft' OR (started_at IS NULL AND last_saved_at IS NULL)",
            name="complete_has_no_exact_times",
        ),
        CheckConstraint(
            "status = 'draft' OR resume_key_hash IS NULL", name="complete_has_no_resume_key"
        ),
        CheckConstraint("page >= 1", name="page_positive"),
    )


class Answer(Base):
    """The answer to one item; exactly one value column is filled.

    ``value_code`` holds option codes, including negative missing-value codes such as
    "don't know"; ``value_codes`` the chosen codes of a multiple-choice item.
    """

    __tablename__ = "answers"

    response_id: Mapped[int] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    value_code: Mapped[int | None]
    value_codes: Mapped[list[int] | None] = mapped_column(JSON(none_as_null=True))
    value_number: Mapped[float | None]
    value_text: Mapped[str | None] = mapped_column(Text)

    response: Mapped[Response] = relationship(back_populates="answers")

    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN value_code IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN value_codes IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN value_number IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN value_text IS NULL THEN 0 ELSE 1 END) = 1",
            name="exactly_one_value",
        ),
    )


class PageSubmission(Base):
    """One accepted POST of a questionnaire page, by the key the page was rendered with.

    A double tap or a retried request carries the same key: it finds this row and gets the
    same outcome again instead of saving twice.
    """

    __tablename__ = "page_submissions"

    idempotency_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), index=True
    )
    page: Mapped[int]
    # Where the resident was sent: the page number, or 0 for "questionnaire complete".
    outcome_page: Mapped[int]
