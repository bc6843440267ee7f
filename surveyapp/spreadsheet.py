"""Text that spreadsheet programs would run as a formula (CSV injection), made harmless."""

from __future__ import annotations

from typing import Any

#: A cell starting with one of these is read as a formula by Excel, LibreOffice and Sheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value, with a leading apostrophe if it is text a spreadsheet would evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
