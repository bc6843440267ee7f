"""TOTP codes (RFC 6238), sealed secrets and recovery codes. No Flask, no database.

Secrets are stored sealed (encrypted and authenticated) under a key derived from the app's
secret key, so that a copy of the database or of a backup cannot make codes. The seal is
encrypt-then-MAC built from HMAC-SHA256 alone (HMAC as the keystream's pseudo-random
function, in counter mode, then an HMAC tag over the whole), because the standard library
has no cipher and the project adds no cryptography package for one 32-character value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

import pyotp
import segno

#: Seconds per time step and digits per code: what every authenticator app uses by default.
STEP_SECONDS = 30
DIGITS = 6
#: Steps accepted either side of the current one: a phone's clock drifts, typing takes time.
WINDOW = 1
#: Recovery codes made at once; each works once.
RECOVERY_CODE_COUNT = 10
#: Letters and digits of recovery codes: no 0/o, 1/l/i to misread on paper.
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
RECOVERY_CODE_LENGTH = 10

_SEAL_VERSION = b"v1"
_NONCE_BYTES = 16


class SealError(ValueError):
    """A sealed secret cannot be opened: another key (a rotated secret key) or changed."""


def new_secret() -> str:
    """A new TOTP secret: 32 base32 characters (160 bits, RFC 4226's recommendation)."""
    return pyotp.random_base32()


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_data_uri(uri: str) -> str:
    """``uri`` as a QR code in a ``data:`` SVG image (the CSP allows data: images only)."""
    return segno.make(uri, error="m", micro=False).svg_data_uri(
        scale=5, border=4, dark="#000", light="#fff"
    )


def is_totp_code(typed: str) -> bool:
    """Whether ``typed`` looks like a TOTP code (six digits, spaces allowed)."""
    return re.fullmatch(rf"\d{{{DIGITS}}}", re.sub(r"\s", "", typed)) is not None


def matching_step(secret: str, typed: str, now: float) -> int | None:
    """The time step whose code ``typed`` is, within ``WINDOW`` steps of ``now``, or None."""
    code = re.sub(r"\s", "", typed)
    if not is_totp_code(code):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = int(now // STEP_SECONDS)
    for step in range(current - WINDOW, current + WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _keys(app_secret: str) -> tuple[bytes, bytes]:
    root = hmac.new(app_secret.encode(), b"surveyapp second factor secrets", "sha256").digest()
    encrypt = hmac.new(root, b"encrypt", "sha256").digest()
    authenticate = hmac.new(root, b"authenticate", "sha256").digest()
    return encrypt, authenticate


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = (length + 31) // 32
    stream = b"".join(
        hmac.new(key, nonce + n.to_bytes(4, "big"), "sha256").digest() for n in range(blocks)
    )
    return stream[:length]


def seal(secret: str, app_secret: str) -> str:
    """``secret`` encrypted and authenticated under a key derived from ``app_secret``."""
    encrypt, authenticate = _keys(app_secret)
    nonce = secrets.token_bytes(_NONCE_BYTES)
    plain = secret.encode()
    cipher = bytes(
        a ^ b for a, b in zip(plain, _keystream(encrypt, nonce, len(plain)), strict=True)
    )
    tag = hmac.new(authenticate, _SEAL_VERSION + nonce + cipher, "sha256").digest()
    return _SEAL_VERSION.decode() + ":" + base64.urlsafe_b64encode(nonce + cipher + tag).decode()


def unseal(sealed: str, app_secret: str) -> str:
    """The secret inside ``sealed``; :class:`SealError` if the key or the value differ."""
    encrypt, authenticate = _keys(app_secret)
    version, _sep, body = sealed.partition(":")
    try:
        raw = base64.urlsafe_b64decode(body.encode())
    except ValueError:
        raise SealError("not a sealed secret") from None
    if version.encode() != _SEAL_VERSION or len(raw) < _NONCE_BYTES + 32:
        raise SealError("not a sealed secret")
    nonce, cipher, tag = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:-32], raw[-32:]
    expected = hmac.new(authenticate, _SEAL_VERSION + nonce + cipher, "sha256").digest()
    if not hmac.compare_digest(tag, expected):
        raise SealError("the secret was sealed under another key, or changed")
    stream = _keystream(encrypt, nonce, len(cipher))
    return bytes(a ^ b for a, b in zip(cipher, stream, strict=True)).decode()


def new_recovery_code() -> str:
    """A recovery code such as ``k7m2p-x9qrt`` (about 50 bits)."""
    chars = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    half = RECOVERY_CODE_LENGTH // 2
    return f"{chars[:half]}-{chars[half:]}"


def recovery_code_hash(typed: str) -> str:
    """SHA-256 of a recovery code as typed, without case, spaces or dashes.

    A plain hash suffices: the codes are random (about 50 bits), not chosen by people, and
    guessing is rate-limited; unlike a keyed hash, it survives a rotated secret key.
    """
    normalized = re.sub(r"[\s\-]", "", typed).lower()
    return hashlib.sha256(normalized.encode()).hexdigest()
