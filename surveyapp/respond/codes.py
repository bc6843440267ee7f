"""Invitation codes: generated from an unambiguous alphabet and stored only as keyed hashes.

A code's stored hash is ``HMAC-SHA256(code key, SHA-256(normalised code))``. The key (the
app's ``CODE_KEY``, from ``SURVEYAPP_CODE_KEY`` or derived from the secret key) never
enters the database or its backups, so a leaked database together with the city's
mail-merge CSV cannot be matched offline. Hashing the plain SHA-256 keeps one migration
path: stored plain digests were turned into keyed ones without knowing any code.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app

from surveyapp.respond.typed import fold, is_filler

# No 0/O, 1/I/L, 2/Z, 5/S or 8/B: codes are typed from paper letters on small keyboards.
ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 10  # 25**10 ~ 9.5e13 codes: guessing one takes far more tries than rate limits allow.


def generate_code(length: int = CODE_LENGTH) -> str:
    """Return a new random invitation code such as ``KX7RPCMT4Q``."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalize_code(typed: str) -> str:
    """Upper-case a typed code and drop spaces and dashes, so ``kx7r-pcmt 4q`` matches.

    Digits of any script and full-width forms count as what they stand for: ``ＫＸ٧Ｒ`` is
    ``KX7R`` (:func:`surveyapp.respond.typed.fold`).
    """
    return "".join(ch for ch in fold(typed).upper() if not is_filler(ch))


def format_code(code: str) -> str:
    """Group a code in blocks of four for printing: ``KX7R-PCMT-4Q``."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def code_key() -> bytes:
    """The current app's key for code and resume hashes."""
    return current_app.config["CODE_KEY"].encode()


def keyed_digest(plain_digest: str, key: bytes | None = None) -> str:
    """The stored form of a plain SHA-256 hex digest: its HMAC under the code key."""
    return hmac.new(key or code_key(), plain_digest.encode("ascii"), hashlib.sha256).hexdigest()


def hash_code(code: str, key: bytes | None = None) -> str:
    """The keyed hash of the normalised code; the database never holds the code itself."""
    plain = hashlib.sha256(normalize_code(code).encode("ascii", "replace")).hexdigest()
    return keyed_digest(plain, key)


def resume_hash(resume_key: str, key: bytes | None = None) -> str:
    """What a draft stores of the key that resumes it (invitation code or resume token)."""
    plain = hashlib.sha256(f"resume:{resume_key}".encode()).hexdigest()
    return keyed_digest(plain, key)
