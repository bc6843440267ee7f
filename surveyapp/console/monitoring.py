"""Fieldwork monitoring for one wave: counts, completion, break-off, per language and area.

Counts under 10 are shown as "<10" to everyone but a city's admins, so that a small group
of residents cannot be singled out from the console. Each breakdown adds up to a total on
the page, so further counts are hidden ("≥10") where the total and the shown counts would
give a small one back (:func:`analysis.disclosure.suppress_counts`, see :func:`protect`).
Charts are server-made SVG.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from analysis.disclosure import HIDDEN, MIN_CELL, suppress_counts
from surveyapp.i18n.instrument import translated_sections
from surveyapp.instruments.registry import wave_instrument, wave_sections
from surveyapp.models import (
    Area,
    BatchStatus,
    Invitation,
    LetterBatch,
    Response,
    ResponseStatus,
    Wave,
)
from surveyapp.respond import used_codes

#: Counts below this are masked for non-admin roles (the platform's one threshold).
SMALL = MIN_CELL


@dataclass
class Row:
    """One line of a breakdown."""

    label: str
    started: int
    completed: int
    invited: int | None = None
    #: Of ``completed``, those answered with a letter's code: a response rate counts only
    #: them (an open-link answer in a lettered area is not a letter answered).
    by_letter: int | None = None
    #: Counts hidden to protect small ones (set by :func:`protect`): "started", ...
    hidden: set[str] = field(default_factory=set)

    def shown(self, column: str, exact: bool) -> str:
        """The row's count in ``column`` as the page shows it."""
        return masked(getattr(self, column), exact, column in self.hidden)

    @property
    def rate(self) -> float | None:
        """Response rate (letters answered per letter) where letters were sent, else the
        completion rate (completed per started)."""
        if self.invited is not None:
            answered = self.completed if self.by_letter is None else self.by_letter
            return answered / self.invited if self.invited else None
        return self.completed / self.started if self.started else None


@dataclass
class WaveMonitoring:
    """Everything the monitoring page shows."""

    started: int
    completed: int
    invited: int
    codes_used: int
    per_day: list[Row] = field(default_factory=list)
    break_off: list[Row] = field(default_factory=list)
    by_language: list[Row] = field(default_factory=list)
    by_area: list[Row] = field(default_factory=list)

    @property
    def completion_rate(self) -> float | None:
        return self.completed / self.started if self.started else None


def monitor(
    session: Session,
    wave: Wave,
    *,
    language: str | None = None,
    translations_dir: Path | None = None,
) -> WaveMonitoring:
    """Collect the monitoring figures of ``wave``; section titles in ``language`` if given
    (the staff member's, with the questionnaire's catalogs in ``translations_dir``)."""
    rows = session.execute(
        select(
            Response.status,
            Response.language,
            Response.area_id,
            Response.page,
            Response.started_on,
            Response.submitted_on,
            Response.channel,
        ).where(Response.wave_id == wave.id)
    ).all()
    complete = [r for r in rows if r.status == ResponseStatus.COMPLETE]
    drafts = [r for r in rows if r.status == ResponseStatus.DRAFT]

    started_by_day = Counter(r.started_on for r in rows)
    completed_by_day = Counter(r.submitted_on for r in complete if r.submitted_on)
    days = sorted(set(started_by_day) | set(completed_by_day))
    per_day = [Row(d.isoformat(), started_by_day[d], completed_by_day[d]) for d in _fill_days(days)]

    break_off = _break_off(wave, drafts, language, translations_dir)
    by_language = _by_language(wave, rows, complete)

    invited = dict(
        session.execute(
            select(Invitation.area_id, func.count())
            .outerjoin(LetterBatch, Invitation.batch_id == LetterBatch.id)
            .where(Invitation.wave_id == wave.id)
            # Letters count once staff confirmed their batch was sent (codes made before
            # batches existed have none and were downloaded when made).
            .where(or_(LetterBatch.id.is_(None), LetterBatch.status == BatchStatus.SENT))
            .group_by(Invitation.area_id)
        ).all()
    )
    codes_used = len(used_codes.used_ids(session, wave.id))
    area_ids = {r.area_id for r in rows if r.area_id is not None} | set(invited)
    areas = {area.id: area for area in session.scalars(select(Area).where(Area.id.in_(area_ids)))}
    by_area = [
        Row(
            areas[area_id].name,
            sum(1 for r in rows if r.area_id == area_id),
            sum(1 for r in complete if r.area_id == area_id),
            invited.get(area_id, 0) or None,
            sum(1 for r in complete if r.area_id == area_id and r.channel == "invitation"),
        )
        for area_id in sorted(areas, key=lambda i: areas[i].name)
    ]
    unknown = [r for r in rows if r.area_id is None]
    if unknown:
        by_area.append(
            Row("—", len(unknown), sum(1 for r in unknown if r.status == ResponseStatus.COMPLETE))
        )
    return protect(
        WaveMonitoring(
            started=len(rows),
            completed=len(complete),
            invited=sum(invited.values()),
            codes_used=codes_used or 0,
            per_day=per_day,
            break_off=break_off,
            by_language=by_language,
            by_area=by_area,
        )
    )


@dataclass
class TargetRow:
    """One area's progress towards the answers its plan needs, by channel."""

    label: str
    needed: int
    completed: int
    by_channel: dict[str, int]
    #: Channel counts hidden to protect small ones (they add up to ``completed``).
    hidden: set[str] = field(default_factory=set)

    def shown(self, channel: str, exact: bool) -> str:
        return masked(self.by_channel.get(channel, 0), exact, channel in self.hidden)

    def progress(self, exact: bool) -> int | None:
        """Per cent of the target reached (capped at 100), None while the count is masked."""
        if not exact and 0 < self.completed < SMALL:
            return None
        return min(100, round(100 * self.completed / self.needed)) if self.needed else None


def fieldwork_targets(session: Session, wave: Wave, needed: dict[int, int]) -> list[TargetRow]:
    """Completed answers per area of the plan's targets (``needed``, by area id), by channel."""
    if not needed:
        return []
    rows = session.execute(
        select(Response.area_id, Response.channel, func.count())
        .where(Response.wave_id == wave.id, Response.status == ResponseStatus.COMPLETE)
        .where(Response.area_id.in_(needed))
        .group_by(Response.area_id, Response.channel)
    ).all()
    counts: dict[int, Counter] = {area_id: Counter() for area_id in needed}
    for area_id, channel, n in rows:
        counts[area_id][channel] += n
    names = dict(session.execute(select(Area.id, Area.name).where(Area.id.in_(needed))).all())
    targets = []
    for area_id in sorted(needed, key=lambda i: names.get(i, "")):
        by_channel = dict(counts[area_id])
        row = TargetRow(names.get(area_id, "?"), needed[area_id], sum(by_channel.values()),
                        by_channel)  # fmt: skip
        suppression = suppress_counts(by_channel)
        row.hidden = set(by_channel) if suppression.total else {str(c) for c in suppression.cells}
        targets.append(row)
    return targets


def _break_off(
    wave: Wave, drafts: list, language: str | None, translations_dir: Path | None
) -> list[Row]:
    """Unfinished questionnaires by the page they stopped on, titled in ``language``."""
    sections = wave_sections(wave)
    if language is not None and translations_dir is not None:
        sections = translated_sections(
            wave_instrument(wave), sections, language.split("_")[0], translations_dir
        )
    on_page = Counter(r.page for r in drafts)
    rows = [
        Row(f"{number}. {section.title}", on_page[number], 0)
        for number, section in enumerate(sections, start=1)
    ]
    at_review = sum(count for page, count in on_page.items() if page > len(sections))
    if at_review:
        # The review page, one after the last section: everything answered, not yet sent.
        title = _("Checking the answers")
        rows.append(Row(f"{len(sections) + 1}. {title}", at_review, 0))
    return rows


def _by_language(wave: Wave, rows: list, complete: list) -> list[Row]:
    """Started and completed questionnaires per language (the wave's, and any answered in)."""
    languages = sorted({r.language for r in rows} | set(wave.languages or []))
    return [
        Row(
            language,
            sum(1 for r in rows if r.language == language),
            sum(1 for r in complete if r.language == language),
        )
        for language in languages
    ]


def _fill_days(days: list[date]) -> list[date]:
    if not days:
        return []
    from datetime import timedelta

    span = (days[-1] - days[0]).days
    return [days[0] + timedelta(days=i) for i in range(span + 1)]


def protect(figures: WaveMonitoring) -> WaveMonitoring:
    """Mark, per breakdown and column, the counts to hide besides those under 10.

    Every column of a breakdown adds up to a figure at the top of the page (per day, per
    language and per area to the started, completed and letters; the unfinished per page to
    started minus completed), so :func:`analysis.disclosure.suppress_counts` chooses, per
    column, the further counts to hide so that no count under 10 comes back by subtraction.
    Admins, who see exact counts, ignore the marks.
    """
    columns = {
        "per_day": ("started", "completed"),
        "break_off": ("started",),
        "by_language": ("started", "completed"),
        "by_area": ("invited", "started", "completed"),
    }
    for table, names in columns.items():
        rows: list[Row] = getattr(figures, table)
        for column in names:
            counts = {i: getattr(row, column) or 0 for i, row in enumerate(rows)}
            hidden = suppress_counts(counts).cells
            for i, row in enumerate(rows):
                if i in hidden:
                    row.hidden.add(column)
    return figures


def masked(value: int | None, exact: bool, hidden: bool = False) -> str:
    """A count as shown: exact for admins; "<10" for small non-zero counts otherwise, and
    "≥10" for one hidden so that a small count cannot be recomputed."""
    if value is None:
        return "–"
    if not exact and 0 < value < SMALL:
        return f"<{SMALL}"
    if not exact and hidden and value:
        return HIDDEN
    return f"{value:,}"


def rate_text(row: Row, exact: bool) -> str:
    """A completion or response rate, withheld when a count behind it is masked."""
    rate = row.rate
    if rate is None:
        return "–"
    base = "invited" if row.invited is not None else "started"
    answered = row.by_letter if row.invited is not None and row.by_letter is not None else None
    if not exact and (
        any(0 < n < SMALL for n in (row.completed, row.invited or row.started, answered or 0))
        or {"completed", base} & row.hidden
    ):
        return "–"
    return f"{rate:.0%}"


def bar_chart(
    rows: list[Row],
    *,
    title: str,
    exact: bool,
    attribute: str = "completed",
    color: str = "#0b5394",
) -> Markup:
    """A horizontal bar chart as accessible SVG (its numbers are also in the table beside it)."""
    if not rows:
        return Markup("")
    values = [getattr(row, attribute) for row in rows]
    shown = [
        0 if (not exact and (0 < v < SMALL or attribute in row.hidden)) else v
        for row, v in zip(rows, values, strict=True)
    ]
    top = max(shown) or 1
    bar_h, gap, label_w, width = 18, 6, 170, 520
    height = len(rows) * (bar_h + gap) + gap
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}" class="chart">'
        f"<title>{escape(title)}</title>"
    ]
    for i, (row, drawn) in enumerate(zip(rows, shown, strict=True)):
        y = gap + i * (bar_h + gap)
        w = (width - label_w - 60) * drawn / top
        label = escape(row.label[:28])
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end" font-size="12">{label}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}"/>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + 13}" font-size="12">'
            f"{escape(row.shown(attribute, exact))}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
