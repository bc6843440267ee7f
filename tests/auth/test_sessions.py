"""Staff sessions that can be ended, and sign-in throttles that stop attackers, not owners."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from surveyapp.models import AuditEvent, Role

from ..conftest import Factory, sign_in


def _copy_cookie(source: FlaskClient, target: FlaskClient) -> None:
    """What an attacker does with a cookie read off a shared computer or a proxy log."""
    cookie = source.get_cookie("session")
    assert cookie is not None
    target.set_cookie("session", cookie.value)


def test_a_copied_cookie_is_dead_after_sign_out(app: Flask, client: FlaskClient, make) -> None:
    city = make.city()
    make.user(city, role=Role.ADMIN, email="admin@city.example")
    sign_in(client, "admin@city.example")
    thief = app.test_client()
    _copy_cookie(client, thief)
    assert thief.get(f"/staff/cities/{city.id}/audit").status_code == 200  # the copy works

    assert client.post("/staff/logout").status_code == 303
    stolen = thief.get(f"/staff/cities/{city.id}/audit")
    assert stolen.status_code == 302 and "/staff/login" in stolen.location
    # Signing in again does not bring the old copy back.
    sign_in(client, "admin@city.example")
    assert thief.get(f"/staff/cities/{city.id}/audit").status_code == 302
    assert client.get(f"/staff/cities/{city.id}/audit").status_code == 200


def test_an_idle_session_ends(app: Flask, client: FlaskClient, make, monkeypatch) -> None:
    make.user(make.city(), email="idle@city.example")
    sign_in(client, "idle@city.example")
    assert client.get("/staff/").status_code == 200
    later = time.time() + app.config["STAFF_IDLE_MINUTES"] * 60 + 61
    monkeypatch.setattr(time, "time", lambda: later)
    page = client.get("/staff/")
    assert page.status_code == 302 and "/staff/login" in page.location


def test_an_admin_ends_a_colleagues_sessions(app: Flask, client: FlaskClient, make) -> None:
    city = make.city()
    make.user(city, role=Role.ADMIN, email="admin@city.example")
    colleague = make.user(city, role=Role.COORDINATOR, email="lost.laptop@city.example")
    laptop = app.test_client()
    sign_in(laptop, "lost.laptop@city.example", address="10.0.0.2")
    assert laptop.get("/staff/").status_code == 200

    sign_in(client, "admin@city.example")
    audit_page = client.get(f"/staff/cities/{city.id}/audit").get_data(as_text=True)
    assert "lost.laptop@city.example" in audit_page and "End sessions" in audit_page
    url = f"/staff/cities/{city.id}/members/{colleague.id}/end-sessions"
    ended = client.post(url)
    assert ended.status_code == 303
    assert laptop.get("/staff/").status_code == 302
    assert client.get("/staff/").status_code == 200  # the admin's own session goes on
    event = make.session.scalar(select(AuditEvent).where(AuditEvent.action == "sessions_ended"))
    assert event.city_id == city.id and event.object_id == str(colleague.id)


def test_only_an_admin_of_that_city_ends_sessions(client: FlaskClient, make) -> None:
    city, other = make.city(), make.city()
    make.user(city, role=Role.COORDINATOR, email="coord@city.example")
    admin_elsewhere = make.user(other, role=Role.ADMIN, email="admin@other.example")
    target = make.user(city, role=Role.ANALYST)
    sign_in(client, "coord@city.example")
    assert client.post(f"/staff/cities/{city.id}/members/{target.id}/end-sessions").status_code in (
        403,
        404,
    )
    client.post("/staff/logout")
    sign_in(client, "admin@other.example")
    # An admin of another city can neither reach this city nor a member of it from there.
    assert (
        client.post(f"/staff/cities/{city.id}/members/{target.id}/end-sessions").status_code == 404
    )
    assert (
        client.post(f"/staff/cities/{other.id}/members/{target.id}/end-sessions").status_code == 404
    )
    assert admin_elsewhere.id


def test_spraying_accounts_from_one_client_is_throttled_but_the_owner_signs_in(
    client: FlaskClient, make: Factory
) -> None:
    make.user(make.city(), email="owner@city.example")
    statuses = [
        sign_in(
            client, f"guess{n}@city.example", "Winter2026!", address="203.0.113.9", expect=None
        ).status_code
        for n in range(40)
    ]
    assert statuses[:10] == [401] * 10 and set(statuses[10:]) == {429}
    # The owner, at their own address, is not affected by the stranger's attempts.
    sign_in(client, "owner@city.example", address="198.51.100.7")


def test_a_stranger_cannot_lock_the_owner_out(app: Flask, make: Factory) -> None:
    make.user(make.city(), email="target@city.example")
    stranger = app.test_client()
    tries = [
        sign_in(
            stranger, "target@city.example", "wrong guess!", address="203.0.113.50", expect=None
        )
        for _ in range(8)
    ]
    assert [t.status_code for t in tries][:5] == [401] * 5 and tries[-1].status_code == 429
    owner = app.test_client()
    sign_in(owner, "target@city.example", address="198.51.100.20")


def test_failed_sign_ins_are_audited_without_what_was_typed(client: FlaskClient, make) -> None:
    make.user(make.city(), email="known@city.example")
    sign_in(client, "known@city.example", "not my password", expect=401)
    sign_in(client, "Secret-Password-In-Email-Field", "x" * 12, expect=401)
    events = make.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "sign_in_failed").order_by(AuditEvent.id)
    ).all()
    assert [(e.actor, e.details["reason"]) for e in events] == [
        ("known@city.example", "wrong_password"),
        ("unknown account", "unknown_account"),
    ]
    assert "Secret-Password" not in repr([(e.actor, e.details) for e in events])


@pytest.mark.parametrize("path", ["/staff/login", "/api/v1/me"])
def test_rate_limit_keys_hold_no_address(app: Flask, path: str) -> None:
    """Counters live in Redis in production: their keys are keyed hashes only."""
    from surveyapp.api.auth import rate_limit_key
    from surveyapp.auth.views import _account_key as account_key
    from surveyapp.security import client_key

    address = "192.0.2.77"
    with app.test_request_context(
        path,
        method="POST",
        data={"email": "who@city.example"},
        environ_base={"REMOTE_ADDR": address},
    ):
        keys = [client_key(), rate_limit_key(), account_key()]
    assert not any(address in key or "who@city.example" in key for key in keys)


def test_every_token_expires_within_a_year(make: Factory) -> None:
    from surveyapp.api.tokens import MAX_DAYS, TokenError, create_token

    user = make.user(make.city())
    _token, row = create_token(make.session, user, name="script", actor=user)
    assert row.expires_at is not None
    assert 89 <= (row.expires_at - row.created_at).days <= 90  # the default: 90 days
    for days in (0, MAX_DAYS + 1, 3650):
        with pytest.raises(TokenError):
            create_token(make.session, user, name="forever", days=days, actor=user)


def test_an_admin_revokes_a_colleagues_tokens(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    from surveyapp.api.tokens import create_token

    city = make.city()
    make.user(city, role=Role.ADMIN, email="admin@city.example")
    member = make.user(city, role=Role.ANALYST, email="analyst@city.example")
    token, _row = create_token(make.session, member, name="laptop script", actor=member)
    make.session.commit()
    api = app.test_client()
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    sign_in(client, "admin@city.example")
    url = f"/staff/cities/{city.id}/members/{member.id}/revoke-tokens"
    done = client.post(url, follow_redirects=True)
    assert "API tokens of analyst@city.example revoked: 1." in done.get_data(as_text=True)
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


@pytest.mark.parametrize(
    "password",
    ["password1234", "qwertyuiop123", "aaaaaaaaaaaaaa", "anne.janssens2026", "short"],
)
def test_common_and_guessable_passwords_are_refused(make: Factory, password: str) -> None:
    from surveyapp.auth.services import AccountError, create_user

    with pytest.raises(AccountError, match="password"):
        create_user(make.session, email="anne.janssens@city.example", password=password)


def test_a_long_passphrase_is_accepted(make: Factory) -> None:
    from surveyapp.auth.services import create_user

    user = create_user(
        make.session, email="anne.janssens@city.example", password="violet tram under the bridge"
    )
    assert user.password_hash.startswith("$argon2id$")
