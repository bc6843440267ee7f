"""TOTP codes, sealed secrets and recovery codes, without the web pages."""

from __future__ import annotations

import pyotp
import pytest

from surveyapp.auth.second_factor import totp

KEY = "an app secret key that is long enough for tests"
NOW = 1_900_000_005.0


def test_codes_of_the_neighbouring_steps_count_and_no_others() -> None:
    secret = totp.new_secret()
    app = pyotp.TOTP(secret)
    step = int(NOW // 30)
    for offset in (-1, 0, 1):
        assert totp.matching_step(secret, app.at(NOW + 30 * offset), NOW) == step + offset
    for offset in (-3, -2, 2, 3):
        code = app.at(NOW + 30 * offset)
        if code not in {app.at(NOW + 30 * n) for n in (-1, 0, 1)}:
            assert totp.matching_step(secret, code, NOW) is None
    assert totp.matching_step(secret, " ".join([app.at(NOW)[:3], app.at(NOW)[3:]]), NOW) == step
    assert totp.matching_step(secret, "abcdef", NOW) is None


def test_the_secret_is_stored_sealed_and_only_the_same_key_opens_it() -> None:
    secret = totp.new_secret()
    sealed = totp.seal(secret, KEY)
    assert secret not in sealed and len(sealed) <= 255
    assert totp.seal(secret, KEY) != sealed  # a new nonce every time
    assert totp.unseal(sealed, KEY) == secret
    with pytest.raises(totp.SealError):
        totp.unseal(sealed, KEY + " rotated")
    body = bytearray(sealed.encode())
    body[10] = ord("A") if body[10] != ord("A") else ord("B")
    with pytest.raises(totp.SealError):
        totp.unseal(body.decode(), KEY)
    with pytest.raises(totp.SealError):
        totp.unseal("not sealed at all", KEY)


def test_recovery_codes_are_random_and_typed_loosely() -> None:
    codes = {totp.new_recovery_code() for _ in range(50)}
    assert len(codes) == 50
    code = next(iter(codes))
    assert len(code) == 11 and code[5] == "-"
    assert totp.recovery_code_hash(code.upper().replace("-", " ")) == totp.recovery_code_hash(code)
    assert totp.is_totp_code("123 456") and not totp.is_totp_code(code)


def test_the_key_is_shown_in_groups_of_four() -> None:
    assert totp.grouped("ABCDEFGHIJ") == "ABCD EFGH IJ"
