"""Matching an ODK Central or KoboToolbox export to a wave's questionnaire, row by row.

Our XLSForm (:mod:`surveyapp.instruments.xlsform`) names each group after its section and
each question after its item, and uses the item's numeric codes as choice names. The tools
prefix a question's column with its groups: Kobo with ``/`` (``group_trust/ppltrst``, or no
prefix when "group names" is off), ODK Central with ``-`` (``trust-ppltrst``). A
``select_multiple`` answer is the codes separated by spaces; the extra one-column-per-option
columns (``trust/helpful/1``) are ignored. Every answer is then checked by the web
questionnaire's own parsers (:func:`surveyapp.respond.fields.parse_form`).

Only what the web path keeps is kept: the answers, and the days the questionnaire was
started and sent. The instance id becomes a hash (the import's idempotency key); device,
submitter and exact times are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from werkzeug.datastructures import MultiDict

from surveyapp.instruments import Item, Section
from surveyapp.offline.reading import Table
from surveyapp.respond.fields import parse_form

INSTANCE_ID_COLUMNS = ("meta/instanceid", "meta-instanceid", "instanceid", "_uuid", "key")
SUBMITTED_COLUMNS = ("_submission_time", "submissiondate", "end")
STARTED_COLUMNS = ("start",)
VERSION_COLUMNS = ("formversion",)
CODE_NAMES = ("invitation_code", "code")
AREA_NAMES = ("area", "area_code")

#: What the web questionnaire's error codes mean, for the refused-rows report.
ERROR_TEXT = {
    "missing": "required but empty",
    "invalid_choice": "not one of the question's codes",
    "missing_with_answer": "a missing-value code together with an answer",
    "not_a_number": "not a number",
    "out_of_range": "outside the allowed range",
    "too_long": "longer than 1000 characters",
}


@dataclass
class Submission:
    """One row that fits the questionnaire: its answers and what is kept about it."""

    row: int
    instance_id: str
    values: dict[str, dict[str, Any]]
    started_on: date | None = None
    submitted_on: date | None = None
    duration_seconds: int | None = None
    code: str = ""
    area_code: str = ""


@dataclass
class Refusal:
    """A row that was not imported, and why."""

    row: int
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.reason}"


@dataclass
class Matched:
    """The rows of an export read against a questionnaire."""

    submissions: list[Submission] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)


class NotThisQuestionnaire(Exception):
    """No column of the file is a question of the wave's questionnaire."""


def _segments(column: str) -> list[str]:
    return [s for s in re.split(r"[/\-]", column.strip().lower()) if s]


def question_columns(header: list[str], sections: tuple[Section, ...]) -> dict[str, int]:
    """Item id -> column index, for every column that holds one item's answer."""
    ids = {item.id.lower(): item.id for section in sections for item in section.items}
    found: dict[str, int] = {}
    for index, column in enumerate(header):
        parts = _segments(column)
        if parts and parts[-1] in ids and ids[parts[-1]] not in found:
            found[ids[parts[-1]]] = index
    return found


def _named(header: list[str], names: tuple[str, ...]) -> int | None:
    """The column whose name (or last group segment) is one of ``names``."""
    lowered = [h.strip().lower() for h in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    for index, column in enumerate(header):
        parts = _segments(column)
        if parts and parts[-1] in names:
            return index
    return None


def _day(raw: str) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def _moment(raw: str) -> datetime | None:
    try:
        return datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def form_values(item: Item, raw: str) -> list[tuple[str, str]]:
    """The answer as the web form would post it."""
    raw = raw.strip()
    if not raw:
        return []
    name = f"q-{item.id}"
    if item.type == "multiple_choice":
        return [(name, code) for code in raw.split()]
    if item.type == "number":
        missing = {str(option.code) for option in item.missing_options}
        if raw in missing or raw.removesuffix(".0") in missing:
            return [(f"{name}-missing", raw.removesuffix(".0"))]
    return [(name, raw)]


def _times(cells: list[str], header: list[str]) -> tuple[date | None, date | None, int | None]:
    def cell(names: tuple[str, ...]) -> str:
        index = _named(header, names)
        return cells[index] if index is not None and index < len(cells) else ""

    started, submitted, ended = cell(STARTED_COLUMNS), cell(SUBMITTED_COLUMNS), cell(("end",))
    duration = None
    begin = _moment(started) if started else None
    end = _moment(ended) if ended else None
    if begin and end:
        try:
            seconds = int((end - begin).total_seconds())
        except TypeError:  # one with a time zone, one without
            seconds = -1
        duration = seconds if seconds >= 0 else None
    sent = _day(submitted)
    return _day(started) or sent, sent, duration


def match_rows(table: Table, sections: tuple[Section, ...], version: str) -> Matched:
    """Read every row against the questionnaire; each row is a submission or a refusal."""
    columns = question_columns(table.header, sections)
    if not columns:
        raise NotThisQuestionnaire(
            "no column of the file is a question of this wave's questionnaire; "
            "is it the export of the form downloaded for this wave?"
        )
    items = {item.id: item for section in sections for item in section.items}
    instance = _named(table.header, INSTANCE_ID_COLUMNS)
    version_at = _named(table.header, VERSION_COLUMNS)
    code_at, area_at = _named(table.header, CODE_NAMES), _named(table.header, AREA_NAMES)
    matched = Matched()
    seen: dict[str, int] = {}
    for number, cells in table.rows:
        cells = cells + [""] * (len(table.header) - len(cells))

        def refuse(reason: str, row: int = number) -> None:
            matched.refusals.append(Refusal(row, reason))

        instance_id = cells[instance].strip().removeprefix("uuid:") if instance is not None else ""
        if not instance_id:
            refuse(
                "no instance id (meta/instanceID, _uuid or KEY), so it could not be "
                "recognised if imported again"
            )
            continue
        if instance_id in seen:
            refuse(f"the same submission as row {seen[instance_id]}")
            continue
        seen[instance_id] = number
        if version_at is not None and cells[version_at].strip() not in ("", version):
            refuse(f"form version {cells[version_at].strip()!r}, but this wave uses {version!r}")
            continue
        form = MultiDict(
            [
                pair
                for item_id, at in columns.items()
                for pair in form_values(items[item_id], cells[at])
            ]
        )
        parsed = parse_form(sections, form)
        if parsed.errors:
            problems = [
                f"{item_id} {cells[columns[item_id]].strip()!r}: {ERROR_TEXT.get(error, error)}"
                if columns.get(item_id) is not None and cells[columns[item_id]].strip()
                else f"{item_id}: {ERROR_TEXT.get(error, error)}"
                for item_id, error in parsed.errors.items()
            ]
            refuse("; ".join(problems))
            continue
        started_on, submitted_on, duration = _times(cells, table.header)
        matched.submissions.append(
            Submission(
                row=number,
                instance_id=instance_id,
                values=parsed.values,
                started_on=started_on,
                submitted_on=submitted_on,
                duration_seconds=duration,
                code=cells[code_at].strip() if code_at is not None else "",
                area_code=cells[area_at].strip() if area_at is not None else "",
            )
        )
    return matched
