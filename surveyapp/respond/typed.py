"""What residents type, made comparable: any script's digits, full-width forms, odd dashes.

Phones type digits in the script of their keyboard: Arabic-Indic (٣), Persian (۳),
Devanagari (३), full-width (３) on Chinese and Japanese keyboards. :func:`fold` applies
Unicode NFKC (full-width letters and digits become ASCII) and then maps every decimal digit
of any script to 0-9, so a code or a number reads the same however it was typed.
"""

from __future__ import annotations

import re
import unicodedata

#: Decimal separators residents type: point, comma, Arabic decimal separator.
DECIMAL_SEPARATORS = ".,\u066b"
#: Minus signs: hyphen-minus, the minus sign, dashes some keyboards offer.
MINUS_SIGNS = "-\u2212\u2012\u2013\ufe63"

_NUMBER = re.compile(
    rf"(?P<sign>[+{re.escape(MINUS_SIGNS)}]?)(?P<whole>[0-9]*)"
    rf"(?:(?P<separator>[{re.escape(DECIMAL_SEPARATORS)}])(?P<fraction>[0-9]*))?"
)


def fold(text: str) -> str:
    """``text`` in NFKC with every Unicode decimal digit as its ASCII digit."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(
        str(unicodedata.decimal(ch)) if not ch.isascii() and ch.isdecimal() else ch for ch in folded
    )


def _gap(ch: str) -> bool:
    """Spaces, and invisible marks (bidi, zero-width) some keyboards insert."""
    return ch.isspace() or unicodedata.category(ch) == "Cf"


def is_filler(ch: str) -> bool:
    """Spaces and dashes people put between groups of a code (``KX7R-PCMT 4Q``)."""
    return _gap(ch) or unicodedata.category(ch) == "Pd"


def read_number(typed: str) -> tuple[int | None, str | None]:
    """A whole number as typed, or the problem: ``not_a_number`` or ``not_whole``.

    Digits of any script, full-width forms and spaces between digit groups
    (``1 200``) are accepted. A decimal point or comma is refused as ``not_whole``: the
    questions that take numbers count things, and ``2,5`` must not become 2 (nor ``1.000``
    become 1 where a point groups thousands).
    """
    text = "".join(ch for ch in fold(typed) if not _gap(ch))
    match = _NUMBER.fullmatch(text)
    if match is None or not (match["whole"] or match["fraction"]):
        return None, "not_a_number"
    if match["separator"]:
        return None, "not_whole"
    number = int(match["whole"])
    return (-number if match["sign"] and match["sign"] != "+" else number), None
