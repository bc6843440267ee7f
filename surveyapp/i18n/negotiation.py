"""Choosing a language from ``Accept-Language`` by the standard rules.

The browser's preferences are taken in order of their quality values (RFC 9110, 12.5.4;
equal values keep the browser's order). For each preference the "lookup" of RFC 4647
(3.4) finds an offered language: the tag itself, then shorter and shorter prefixes
(``nl-BE`` -> ``nl``). Only when no preference finds one does a preference's base language
match an offered regional variant (``pt`` -> ``pt-BR``). ``q=0`` means "not this one".

werkzeug's ``best_match`` looks for exact matches across all preferences first, so
``nl-BE,fr;q=0.5`` got French although Dutch was offered; that is the case this fixes.
"""

from __future__ import annotations

from collections.abc import Iterable

#: Longest header read; browsers send well under 200 characters.
MAX_HEADER = 2000
MAX_RANGES = 50


def preferences(header: str | None) -> list[str]:
    """The language ranges of an ``Accept-Language`` header, best first, lower case.

    Malformed entries are skipped, never an error; ranges with ``q=0`` are left out.
    """
    return [tag for tag, quality in ranges(header) if quality > 0]


def ranges(header: str | None) -> list[tuple[str, float]]:
    """Every well-formed language range with its quality value, best first."""
    found: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "")[:MAX_HEADER].split(",")[:MAX_RANGES]):
        tag, *params = (piece.strip() for piece in part.split(";"))
        tag = tag.replace("_", "-").lower()
        if not tag or not all(sub.isalnum() or sub == "*" for sub in tag.split("-")):
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = -1.0
        if not 0 <= quality <= 1:
            continue
        found.append((-quality, position, tag))
    return [(tag, -quality) for quality, _position, tag in sorted(found)]


def negotiate(header: str | None, offered: Iterable[str]) -> str | None:
    """The offered language (as spelled in ``offered``) the header asks for, or None."""
    by_tag = {}
    for language in offered:
        by_tag.setdefault(language.replace("_", "-").lower(), language)
    if not by_tag:
        return None
    every = ranges(header)
    wanted = [tag for tag, quality in every if quality > 0]
    refused = {tag for tag, quality in every if quality == 0}
    for tag in wanted:
        if tag == "*":
            return next((lang for key, lang in by_tag.items() if key not in refused), None)
        parts = tag.split("-")
        while parts:
            found = by_tag.get("-".join(parts))
            if found is not None:
                return found
            parts.pop()
            if parts and len(parts[-1]) == 1:  # never end on a singleton such as "x"
                parts.pop()
    for tag in wanted:
        base = tag.split("-")[0]
        for candidate, language in by_tag.items():
            if candidate.split("-")[0] == base:
                return language
    return None
