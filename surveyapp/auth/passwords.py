"""Staff passwords: checked as NIST SP 800-63B asks, hashed with argon2id.

NIST 800-63B asks for a length of at least 8 (we ask 12), no composition rules, and a check
against lists of common, expected or compromised passwords, dictionary words, repetitions and
sequences, and words from the context (the service, the user's name). zxcvbn does that check
with the frequency lists it ships (the most common passwords, names, words, keyboard
patterns, dates): ``password1234`` or the account's own e-mail address are refused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 12
#: NIST SP 800-63B allows long passphrases; argon2 hashes any length, this bounds the work.
MAX_PASSWORD_LENGTH = 256
#: zxcvbn's score (0-4) a password must reach: 3 is "safely unguessable" in its terms.
MIN_STRENGTH = 3

# Verified against when the e-mail address is unknown, so both cases take the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-only-for-timing")


def password_problem(password: str, *, context: Sequence[str] = ()) -> str | None:
    """Why ``password`` may not be used, or None. ``context``: the e-mail address, names."""
    from zxcvbn import zxcvbn

    if len(password) < MIN_PASSWORD_LENGTH:
        return f"The password must have at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"The password may have at most {MAX_PASSWORD_LENGTH} characters."
    words = ["surveyapp", "survey", "city", "staff"]
    for value in (v.lower() for v in context if v):
        local = value.split("@")[0]
        words += [value, local, *(p for p in re.split(r"[@.\-_+ ]+", value) if len(p) > 2)]
    result = zxcvbn(password[:100], user_inputs=words)
    if result["score"] >= MIN_STRENGTH:
        return None
    feedback = result["feedback"]
    hint = feedback.get("warning") or " ".join(feedback.get("suggestions") or [])
    return (
        "This password is too easy to guess (common passwords, words, names, dates and "
        f"patterns are tried first). {hint}".strip()
    )


def hash_password(password: str) -> str:
    """Return the argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; ``None`` (unknown user) still costs one verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)
