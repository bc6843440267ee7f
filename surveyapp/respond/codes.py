"""Invitation codes: generated from an unambiguous alphabet and stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets

# No 0/O, 1/I/L, 2/Z, 5/S or 8/B: codes are typed from paper letters on small keyboards.
ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 10  # 25**10 ~ 9.5e13 codes: guessing one takes far more tries than rate limits allow.


def generate_code(length: int = CODE_LENGTH) -> str:
    """Return a new random invitation code such as ``KX7RPCMT4Q``."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalize_code(typed: str) -> str:
    """Upper-case a typed code and drop spaces and dashes, so ``kx7r-pcmt 4q`` matches."""
    return "".join(ch for ch in typed.upper() if ch not in " -\t\n")


def format_code(code: str) -> str:
    """Group a code in blocks of four for printing: ``KX7R-PCMT-4Q``."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def hash_code(code: str) -> str:
    """The SHA-256 of the normalised code; the database never holds the code itself."""
    return hashlib.sha256(normalize_code(code).encode("ascii", "replace")).hexdigest()
