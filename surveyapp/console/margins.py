"""Reading an area's population margins (age band x gender counts) from a CSV file.

Every problem is reported with its line number, in the staff member's language; a file
with any problem is not saved. The console's upload form and the command line both read
files here.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

MARGIN_COLUMNS = ("age_band", "gender", "population")
MAX_AGE_BAND = 16
MAX_GENDER = 32

MarginRow = tuple[str, str, int]


@dataclass
class MarginProblem:
    """One problem in an uploaded margins file: where, and what is wrong."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def _decode(data: bytes | str) -> str | None:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def parse_margins(data: bytes | str) -> tuple[list[MarginRow], list[MarginProblem]]:
    """Read a population margins CSV: columns age_band, gender, population.

    Returns the rows and every problem found, each with its line number; the caller saves
    nothing when there is any problem. Comma or semicolon separated, UTF-8 (with or
    without BOM).
    """
    text = _decode(data)
    if text is None:
        return [], [MarginProblem(1, _l("the file is not UTF-8 text; save it as CSV UTF-8"))]
    if not text.strip():
        return [], [MarginProblem(1, _l("the file is empty"))]
    first = text.splitlines()[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader)]
    missing = [c for c in MARGIN_COLUMNS if c not in header]
    if missing:
        message = _l(
            "missing column(s) %(columns)s; the header must be %(header)s",
            columns=", ".join(missing),
            header=delimiter.join(MARGIN_COLUMNS),
        )
        return [], [MarginProblem(1, message)]
    index = {c: header.index(c) for c in MARGIN_COLUMNS}
    rows: list[MarginRow] = []
    problems: list[MarginProblem] = []
    seen: dict[tuple[str, str], int] = {}
    for line, record in enumerate(reader, start=2):
        if not any(cell.strip() for cell in record):
            continue
        row, message = _row(record, index, len(header), seen)
        if row is None:
            problems.append(MarginProblem(line, message))
            continue
        seen[row[:2]] = line
        rows.append(row)
    if not rows and not problems:
        problems.append(MarginProblem(2, _l("the file has a header but no rows")))
    return rows, problems


def _row(
    record: list[str], index: dict[str, int], width: int, seen: dict[tuple[str, str], int]
) -> tuple[MarginRow | None, str]:
    """One line's row, or None and what is wrong with it."""
    if len(record) < width:
        return None, _l(
            "expected %(expected)s cells, found %(found)s", expected=width, found=len(record)
        )
    age, gender, raw = (record[index[c]].strip() for c in MARGIN_COLUMNS)
    if not age or len(age) > MAX_AGE_BAND:
        return None, _l("age_band is empty or longer than %(max)s characters", max=MAX_AGE_BAND)
    if not gender or len(gender) > MAX_GENDER:
        return None, _l("gender is empty or longer than %(max)s characters", max=MAX_GENDER)
    try:
        population = int(raw.replace(" ", "").replace("\u00a0", ""))
    except ValueError:
        return None, _l("population %(value)s is not a whole number", value=repr(raw))
    if population < 0:
        return None, _l("population cannot be negative")
    if (age, gender) in seen:
        return None, _l(
            "%(age)s x %(gender)s already given on line %(line)s",
            age=age,
            gender=gender,
            line=seen[(age, gender)],
        )
    return (age, gender, population), ""
