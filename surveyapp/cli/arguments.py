"""Values written on the command line: comma-separated lists, days, languages."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import click


def csv_list(value: str | None) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def day(value: str | None, end: bool = False) -> datetime | None:
    """The start (or, with ``end``, the last moment) of a YYYY-MM-DD day in UTC."""
    if not value:
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2027-03-01.") from None
    return datetime.combine(parsed, time.max if end else time.min, tzinfo=UTC)


def language_codes(value: str | None, translations: Path) -> list[str]:
    """Comma-separated language codes (default: every language with a catalog)."""
    from surveyapp.i18n import catalogs

    known = catalogs.languages(translations)
    codes = [c.strip() for c in value.split(",")] if value else list(known)
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise click.ClickException(f"Unknown language(s): {', '.join(unknown)}.")
    return codes


def modules(value: str | None) -> list[str] | None:
    """Comma-separated optional modules, or None for all of them."""
    return [m.strip() for m in value.split(",")] if value else None
