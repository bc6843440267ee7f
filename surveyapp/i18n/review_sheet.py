"""TRAPD review sheets: a language's strings out to XLSX for reviewers, and their verdicts back.

The ``.po`` files stay the single source. A sheet is a working copy for one review round:
one row per translated text (one per plural form), with the English, the current
translation, the notes for translators, and columns for the back-translation, the
reviewer's comment, the adjudicated text and the status (draft, reviewed, adjudicated).
Importing writes the adjudicated texts into the catalogs and records each row's status,
back-translation and comment on its entry (:mod:`surveyapp.i18n.review`). An import checks
every row first and names the row and column of each problem; one problem and nothing is
written.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog, Message
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from surveyapp.i18n.catalogs import (
    DOMAINS,
    CatalogError,
    po_path,
    read_catalog,
    string_problems,
    write_catalog,
)
from surveyapp.i18n.review import (
    REVIEW_TAGS,
    STRING_STATES,
    StringReview,
    one_line,
    record_review,
    string_review,
)

SHEET = "Review"
COLUMNS = (
    "Domain",
    "Context",
    "Form",
    "English",
    "Notes for translators",
    "Current translation",
    "Back-translation",
    "Reviewer comment",
    "Adjudicated text",
    "Status",
)
_WIDTHS = (12, 28, 6, 50, 40, 50, 40, 40, 50, 14)
#: Columns a reviewer fills in; the others identify the text and must not change.
EDITABLE = ("Back-translation", "Reviewer comment", "Adjudicated text", "Status")


class ReviewSheetError(ValueError):
    """A sheet that cannot be imported; ``problems`` name the row and column of each."""

    def __init__(self, problems: list[str]) -> None:
        """Keep the problems; the message lists them one per line."""
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Row:
    """One text of a catalog as it appears in a review sheet."""

    domain: str
    context: str
    form: int
    english: str
    notes: str
    translation: str
    review: StringReview

    @property
    def key(self) -> tuple[str, str, int, str]:
        """What identifies the text: domain, context, plural form and English."""
        return (self.domain, self.context, self.form, self.english)


def _plural_strings(message: Message) -> list[str]:
    """The translations of a plural text, one per form ("" where missing; 2 if none yet)."""
    strings = list(message.string) if isinstance(message.string, (list, tuple)) else []
    return [s or "" for s in strings] if strings else ["", ""]


def _forms(message: Message) -> list[tuple[str, str]]:
    """(English, translation) per form: one for a plain text, one per plural form."""
    if isinstance(message.id, (list, tuple)):
        strings = _plural_strings(message)
        # A language with one form (Turkish) says it for every count: show the plural.
        english = [message.id[0]] + [message.id[1]] * (len(strings) - 1)
        if len(strings) == 1:
            english = [message.id[1]]
        return list(zip(english, strings, strict=True))
    return [(str(message.id), str(message.string or ""))]


def catalog_rows(domain: str, catalog: Catalog) -> Iterator[tuple[Row, Message]]:
    """Every text of a catalog as sheet rows, in catalog order, with its entry."""
    for message in catalog:
        if not message.id:
            continue
        review = string_review(message)
        # The code's notes, then translators' own comments (a reason for a change, a to-do).
        own = [c for c in message.user_comments if not c.strip().startswith(REVIEW_TAGS)]
        notes = "\n".join([*message.auto_comments, *own])
        for form, (english, translation) in enumerate(_forms(message)):
            row = Row(domain, message.context or "", form, english, notes, translation, review)
            yield row, message


def _catalogs(translations_dir: Path, locale: str) -> dict[str, Catalog]:
    catalogs = {}
    for domain in DOMAINS:
        path = po_path(translations_dir, locale, domain)
        if not path.exists():
            raise CatalogError(f"{path} does not exist: no {domain} catalog for {locale!r}")
        catalogs[domain] = read_catalog(path, locale)
    return catalogs


def _put(sheet: Worksheet, row: int, column: int, value: str | int) -> None:
    cell = sheet.cell(row=row, column=column, value=value)
    # A text beginning with "=" is a formula to openpyxl and to every spreadsheet program.
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"


def export_sheet(translations_dir: Path, locale: str, out: Path) -> int:
    """Write the review sheet of a language to ``out``; return the number of text rows."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook always has one sheet
    sheet.title = SHEET
    for column, (title, width) in enumerate(zip(COLUMNS, _WIDTHS, strict=True), start=1):
        sheet.cell(row=1, column=column, value=title)
        sheet.column_dimensions[get_column_letter(column)].width = width
    number = 1
    for domain, catalog in _catalogs(translations_dir, locale).items():
        for row, _message in catalog_rows(domain, catalog):
            number += 1
            values = (
                row.domain,
                row.context,
                row.form,
                row.english,
                row.notes,
                row.translation,
                row.review.back_translation,
                row.review.comment,
                "",
                row.review.state,
            )
            for column, value in enumerate(values, start=1):
                _put(sheet, number, column, value)  # type: ignore[arg-type]
    status = get_column_letter(COLUMNS.index("Status") + 1)
    choice = DataValidation(type="list", formula1=f'"{",".join(STRING_STATES)}"')
    choice.add(f"{status}2:{status}{max(number, 2)}")
    sheet.add_data_validation(choice)
    sheet.freeze_panes = "D2"
    out.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(out)
    return number - 1


def _text(cell: Any) -> str:
    if cell.value is None:
        return ""
    # Spreadsheet programs may save a typed 0 or 10 as a float.
    if isinstance(cell.value, float) and cell.value.is_integer():
        return str(int(cell.value))
    return str(cell.value).replace("\r\n", "\n")


def _read_sheet(path: Path) -> tuple[Worksheet, list[str]]:
    try:
        workbook = load_workbook(path)
    except (OSError, ValueError, KeyError) as error:
        raise ReviewSheetError([f"{path}: not a readable XLSX file ({error})"]) from None
    if SHEET not in workbook.sheetnames:
        raise ReviewSheetError([f"{path}: no sheet named {SHEET!r}"])
    sheet = workbook[SHEET]
    header = [_text(cell) for cell in next(sheet.iter_rows(min_row=1, max_row=1))]
    problems = [
        f"{path}: row 1, column {get_column_letter(i)}: expected {title!r}, found "
        f"{header[i - 1] if i <= len(header) else ''!r}"
        for i, title in enumerate(COLUMNS, start=1)
        if i > len(header) or header[i - 1] != title
    ]
    if problems:
        raise ReviewSheetError(problems)
    return sheet, header


@dataclass
class _Verdict:
    """What the sheet says about one catalog entry, gathered over its forms."""

    message: Message
    domain: str
    review: StringReview
    strings: dict[int, str]
    first_row: int


def _where(path: Path, number: int, title: str) -> str:
    return f"{path}: row {number}, column {get_column_letter(COLUMNS.index(title) + 1)} ({title})"


def _row_verdict(
    path: Path, number: int, cells: dict[str, Any], known: dict[tuple[str, str, int, str], Row]
) -> tuple[Row | None, StringReview | None, str, list[str]]:
    """Check one sheet row: the row it matches, its review, its adjudicated text, problems."""
    values = {title: _text(cell) for title, cell in cells.items()}
    problems = [
        f"{_where(path, number, title)}: a formula; type the text itself"
        for title, cell in cells.items()
        if cell.data_type == "f"
    ]
    form = values["Form"]
    if not form.isdigit():
        return None, None, "", [f"{_where(path, number, 'Form')}: not a form number: {form!r}"]
    key = (values["Domain"], values["Context"], int(form), values["English"])
    row = known.get(key)
    if row is None:
        return (
            None,
            None,
            "",
            [
                f"{_where(path, number, 'English')}: no such text in the {values['Domain']!r} "
                f"catalog (context {values['Context']!r}); do not edit the first four columns"
            ],
        )
    if values["Current translation"] != row.translation:
        problems.append(
            f"{_where(path, number, 'Current translation')}: the catalog changed since the "
            "export (or this cell was edited); export a new sheet"
        )
    state = values["Status"].strip().lower()
    if state not in STRING_STATES:
        problems.append(
            f"{_where(path, number, 'Status')}: {values['Status']!r} is not one of "
            f"{', '.join(STRING_STATES)}"
        )
    adjudicated = values["Adjudicated text"]
    if adjudicated.strip():
        problems.extend(
            f"{_where(path, number, 'Adjudicated text')}: {problem}"
            for problem in string_problems(row.english, adjudicated)
        )
    review = StringReview(
        state, one_line(values["Back-translation"]), one_line(values["Reviewer comment"])
    )
    return row, review, adjudicated, problems


def _verdicts(path: Path, sheet: Worksheet, catalogs: dict[str, Catalog]) -> dict[int, _Verdict]:
    """Every row checked and gathered per catalog entry (keyed by the entry's id())."""
    known: dict[tuple[str, str, int, str], Row] = {}
    entries: dict[tuple[str, str, int, str], Message] = {}
    for domain, catalog in catalogs.items():
        for row, message in catalog_rows(domain, catalog):
            known[row.key] = row
            entries[row.key] = message
    verdicts: dict[int, _Verdict] = {}
    problems: list[str] = []
    for number, cells in enumerate(sheet.iter_rows(min_row=2, max_col=len(COLUMNS)), start=2):
        if all(cell.value is None for cell in cells):
            continue
        found_row, review, adjudicated, found = _row_verdict(
            path, number, dict(zip(COLUMNS, cells, strict=True)), known
        )
        problems.extend(found)
        if found_row is None or review is None:
            continue
        row = found_row
        message = entries[row.key]
        verdict = verdicts.setdefault(
            id(message), _Verdict(message, row.domain, review, {}, number)
        )
        if verdict.review.state != review.state:
            problems.append(
                f"{_where(path, number, 'Status')}: the forms of one plural text have different "
                f"statuses (row {verdict.first_row} says {verdict.review.state!r})"
            )
        if adjudicated.strip():
            verdict.strings[row.form] = adjudicated
    if problems:
        raise ReviewSheetError(problems)
    return verdicts


@dataclass(frozen=True)
class Change:
    """One catalog entry an import changed."""

    domain: str
    context: str
    msgid: str
    text_changed: bool
    review: StringReview


def _apply(verdict: _Verdict) -> Change | None:
    """Write a verdict onto its entry; None when the sheet says what the catalog says."""
    message = verdict.message
    text_changed = False
    if verdict.strings:
        new: str | tuple[str, ...]
        if isinstance(message.id, (list, tuple)):
            strings = _plural_strings(message)
            new = tuple(verdict.strings.get(i, s) for i, s in enumerate(strings))
        else:
            new = verdict.strings[0]
        text_changed = new != message.string
        message.string = new
    current = string_review(message)
    review = verdict.review
    if not text_changed and review == current:
        return None
    if review != current:
        record_review(message, review)
    msgid = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
    return Change(verdict.domain, message.context or "", msgid, text_changed, review)


def import_sheet(translations_dir: Path, locale: str, sheet_path: Path) -> list[Change]:
    """Bring a reviewed sheet into the language's catalogs; return what changed.

    Raises :class:`ReviewSheetError` naming every bad row and column; then no file changes.
    """
    catalogs = _catalogs(translations_dir, locale)
    sheet, _header = _read_sheet(sheet_path)
    changes = [
        change
        for verdict in _verdicts(sheet_path, sheet, catalogs).values()
        if (change := _apply(verdict)) is not None
    ]
    changed_domains = {change.domain for change in changes}
    # Write every changed catalog beside its target first, then swap them in: a failure while
    # writing leaves the catalogs as they were.
    staged = []
    for domain in sorted(changed_domains):
        target = po_path(translations_dir, locale, domain)
        temporary = target.with_suffix(".po.importing")
        write_catalog(temporary, catalogs[domain])
        staged.append((temporary, target))
    for temporary, target in staged:
        os.replace(temporary, target)
    return changes
