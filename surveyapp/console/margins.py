"""Reading an area's population margins (age band x gender counts) from a CSV file.

Every problem is reported with its line number, in the staff member's language; a file
with any problem is not saved. The console's upload form and the command line both read
files here.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l

if TYPE_CHECKING:
    from surveyapp.console.margin_codes import MarginCodes

MARGIN_COLUMNS = ("age_band", "gender", "population")
MAX_AGE_BAND = 16
MAX_GENDER = 32

MarginRow = tuple[str, str, int]


@dataclass
class MarginProblem:
    """One problem in an uploaded margins file: where, and what is wrong."""

    line: int
    message: str
    #: The 1-based column of the cell at fault, when one cell is.
    column: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


def _decode(data: bytes | str) -> str | None:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def parse_margins(
    data: bytes | str, codes: MarginCodes | None = None
) -> tuple[list[MarginRow], list[MarginProblem]]:
    """Read a population margins CSV: columns age_band, gender, population.

    Returns the rows and every problem found, each with its line number (and column, when
    one cell is at fault); the caller saves nothing when there is any problem. Comma or
    semicolon separated, UTF-8 (with or without BOM). With ``codes`` (what the console and
    the command line pass), age bands and genders may be the questionnaire's codes or labels
    and are returned as codes; any other value is refused, since weighting would not use it.
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
    lines: list[int] = []
    for line, record in enumerate(reader, start=2):
        if not any(cell.strip() for cell in record):
            continue
        row, message, column = _row(record, index, len(header), seen)
        if row is None:
            at = index[column] + 1 if column else None
            problems.append(MarginProblem(line, message, at))
            continue
        seen[row[:2]] = line
        rows.append(row)
        lines.append(line)
    if codes is not None:
        rows, problems = _as_codes(rows, lines, problems, codes, index)
    if not rows and not problems:
        problems.append(MarginProblem(2, _l("the file has a header but no rows")))
    return rows, problems


def _row(
    record: list[str], index: dict[str, int], width: int, seen: dict[tuple[str, str], int]
) -> tuple[MarginRow | None, str, str | None]:
    """One line's row, or None, what is wrong with it and in which column (if one)."""
    if len(record) < width:
        message = _l(
            "expected %(expected)s cells, found %(found)s", expected=width, found=len(record)
        )
        return None, message, None
    age, gender, raw = (record[index[c]].strip() for c in MARGIN_COLUMNS)
    if not age or len(age) > MAX_AGE_BAND:
        message = _l("age_band is empty or longer than %(max)s characters", max=MAX_AGE_BAND)
        return None, message, "age_band"
    if not gender or len(gender) > MAX_GENDER:
        message = _l("gender is empty or longer than %(max)s characters", max=MAX_GENDER)
        return None, message, "gender"
    try:
        population = int(raw.replace(" ", "").replace("\u00a0", ""))
    except ValueError:
        message = _l("population %(value)s is not a whole number", value=repr(raw))
        return None, message, "population"
    if population < 0:
        return None, _l("population cannot be negative"), "population"
    if (age, gender) in seen:
        message = _l(
            "%(age)s x %(gender)s already given on line %(line)s",
            age=age,
            gender=gender,
            line=seen[(age, gender)],
        )
        return None, message, "age_band"
    return (age, gender, population), "", None


def _as_codes(
    rows: list[MarginRow],
    lines: list[int],
    problems: list[MarginProblem],
    codes: MarginCodes,
    index: dict[str, int],
) -> tuple[list[MarginRow], list[MarginProblem]]:
    """The rows with questionnaire codes for labels; a value weighting cannot use is a
    problem at its line and column, and so is a cell given twice under two spellings."""
    if not codes.usable:
        message = _l(
            "no questionnaire of this city asks age band and gender, so margins cannot be "
            "used for weighting"
        )
        return [], [*problems, MarginProblem(1, message)]
    coded: list[MarginRow] = []
    seen: dict[tuple[str, str], int] = {}
    for line, (age, gender, population) in zip(lines, rows, strict=True):
        found = {"age_band": codes.code("age_band", age), "gender": codes.code("gender", gender)}
        bad = False
        for item, value in (("age_band", age), ("gender", gender)):
            if found[item] is None:
                bad = True
                problems.append(
                    MarginProblem(
                        line,
                        _l(
                            "%(column)s %(value)s is not one of the questionnaire's answers;"
                            " use a code or label: %(allowed)s",
                            column=item,
                            value=repr(value),
                            allowed=", ".join(codes.listing[item]),
                        ),
                        column=index[item] + 1,
                    )
                )
        if bad:
            continue
        cell = (str(found["age_band"]), str(found["gender"]))
        if cell in seen:
            problems.append(
                MarginProblem(
                    line,
                    _l(
                        "%(age)s x %(gender)s already given on line %(line)s",
                        age=age,
                        gender=gender,
                        line=seen[cell],
                    ),
                    column=index["age_band"] + 1,
                )
            )
            continue
        seen[cell] = line
        coded.append((cell[0], cell[1], population))
    problems.sort(key=lambda problem: (problem.line, problem.column or 0))
    return coded, problems
