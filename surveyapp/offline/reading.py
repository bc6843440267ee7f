"""Reading an export of ODK Central or KoboToolbox (CSV or XLSX) into header and rows.

Both tools write one row per submission under a header row; CSV files may be separated by
commas or semicolons (Kobo's "Export" lets the user choose) and may carry a BOM.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime


class UnreadableFile(Exception):
    """The file is neither a readable CSV nor a readable XLSX file."""


@dataclass
class Table:
    """A sheet: its header and its rows, each with its row number as a spreadsheet shows it."""

    header: list[str]
    rows: list[tuple[int, list[str]]]


def read_table(data: bytes, name: str = "") -> Table:
    """The export's first sheet; raises :class:`UnreadableFile` saying why it cannot be read."""
    if data[:4] == b"PK\x03\x04" or name.lower().endswith((".xlsx", ".xlsm")):
        return _read_xlsx(data)
    return _read_csv(data)


def _read_csv(data: bytes) -> Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableFile("the file is not UTF-8 text; export it again as CSV (UTF-8)") from None
    if not text.strip():
        raise UnreadableFile("the file is empty")
    first = text.splitlines()[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    rows = [(n, r) for n, r in enumerate(records[1:], start=2) if any(c.strip() for c in r)]
    return Table([h.strip() for h in records[0]], rows)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise UnreadableFile(f"the file is not a readable XLSX workbook ({error})") from None
    sheet = workbook.worksheets[0]
    values = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    workbook.close()
    if not values or not any(values[0]):
        raise UnreadableFile("the workbook's first sheet has no header row")
    rows = [(n, r) for n, r in enumerate(values[1:], start=2) if any(c.strip() for c in r)]
    return Table([h.strip() for h in values[0]], rows)
