"""Panel links: what a response and a mail-merge CSV get from a household's panel seed.

A panel household's letters in every wave share a random *panel seed* (stored on each
invitation row). What leaves the invitation table is only ever a keyed hash of it, under
the code key that never enters the database (:func:`surveyapp.respond.codes.code_key`):

- the response's ``panel_id`` is ``HMAC(key, "panel:" + seed)``, so a copy of the
  database cannot join a response to the invitation rows that share its seed;
- the CSV's letter reference is ``HMAC(key, "letter:" + seed)`` written in the code
  alphabet, so the city's reference cannot be found among stored values either.

A letter outside a panel gets a reference from its code instead, which is not stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from surveyapp.respond.codes import ALPHABET, code_key, format_code, normalize_code

#: Characters of a letter reference after its "R-": 25**10 references, so that 100,000
#: letters of a city share one with a chance of about 1 in 40,000.
REFERENCE_LENGTH = 10


def new_seed() -> str:
    """A new household's panel seed (128 random bits, hex)."""
    return secrets.token_hex(16)


def _keyed(purpose: str, value: str, key: bytes | None) -> bytes:
    return hmac.new(key or code_key(), f"{purpose}:{value}".encode(), hashlib.sha256).digest()


def panel_id(seed: str, key: bytes | None = None) -> str:
    """The pseudonymous panel id a response of the household carries (32 hex digits)."""
    return _keyed("panel", seed, key).hex()[:32]


def _in_alphabet(digest: bytes) -> str:
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(REFERENCE_LENGTH):
        number, digit = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[digit])
    return "R-" + format_code("".join(chars))


def letter_reference(*, seed: str | None, code: str, key: bytes | None = None) -> str:
    """The CSV's letter reference: the household's (panel) or the letter's own (otherwise)."""
    if seed:
        return _in_alphabet(_keyed("letter", seed, key))
    return _in_alphabet(_keyed("letter-code", normalize_code(code), key))
