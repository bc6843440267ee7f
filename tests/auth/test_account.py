"""A staff member's own password, and the one-time links that set one."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from surveyapp.auth import links
from surveyapp.auth.passwords import verify_password
from surveyapp.models import AccountLink, AuditEvent, Role, User

from ..conftest import STAFF_PASSWORD, Factory, sign_in

NEW_PASSWORD = "violet tram under the bridge"


def _copy_cookie(source: FlaskClient, target: FlaskClient) -> None:
    target.set_cookie("session", source.get_cookie("session").value)


def _actions(make: Factory) -> list[str]:
    return list(make.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_changing_ones_password_ends_every_other_session(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    user = make.user(make.city(), email="anne@city.example")
    sign_in(client, user)
    copy = app.test_client()
    _copy_cookie(client, copy)
    assert copy.get("/staff/").status_code == 200

    done = client.post(
        "/staff/account",
        data={"current": STAFF_PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert done.status_code == 303
    assert client.get("/staff/").status_code == 200  # this browser stays signed in
    assert copy.get("/staff/").status_code == 302  # the copied cookie is dead
    assert verify_password(make.session.get(User, user.id).password_hash, NEW_PASSWORD)
    assert "password_changed" in _actions(make)
    sign_in(app.test_client(), user, NEW_PASSWORD)


def test_a_wrong_current_or_weak_new_password_changes_nothing(
    client: FlaskClient, make: Factory
) -> None:
    user = make.user(make.city(), email="anne@city.example")
    sign_in(client, user)
    cases = [
        ({"current": "not my password", "password": NEW_PASSWORD}, "current password is not"),
        ({"current": STAFF_PASSWORD, "password": "password1234"}, "too easy to guess"),
        ({"current": STAFF_PASSWORD, "password": "short"}, "at least 12 characters"),
    ]
    for data, message in cases:
        page = client.post("/staff/account", data=data | {"confirm": data["password"]})
        assert page.status_code == 400 and message in page.get_data(as_text=True)
    assert verify_password(make.session.get(User, user.id).password_hash, STAFF_PASSWORD)


def test_the_account_page_speaks_the_staff_members_language(
    client: FlaskClient, make: Factory
) -> None:
    sign_in(client, make.user(make.city()))
    page = client.get("/staff/account", headers={"Accept-Language": "fr"})
    assert page.status_code == 200 and "Mon compte" in page.get_data(as_text=True)


def test_a_reset_link_sets_a_password_once_and_ends_every_session(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    user = make.user(make.city(), email="anne@city.example")
    laptop = app.test_client()
    sign_in(laptop, user)
    token = links.reset(make.session, user, actor="test")
    make.session.commit()
    url = f"/staff/reset/{token}"

    assert client.get(url).status_code == 200
    done = client.post(url, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 200 and "Sign in with your new password" in done.get_data(
        as_text=True
    )
    assert laptop.get("/staff/").status_code == 302
    sign_in(client, user, NEW_PASSWORD)
    again = app.test_client().get(url)
    assert again.status_code == 410 and "used already" in again.get_data(as_text=True)


def test_a_new_reset_link_voids_the_older_one(client: FlaskClient, make: Factory) -> None:
    user = make.user(make.city())
    first = links.reset(make.session, user, actor="test")
    second = links.reset(make.session, user, actor="test")
    make.session.commit()
    assert client.get(f"/staff/reset/{first}").status_code == 410
    assert client.get(f"/staff/reset/{second}").status_code == 200


def test_an_expired_or_unknown_link_gets_a_clear_page(client: FlaskClient, make: Factory) -> None:
    user = make.user(make.city())
    token = links.reset(make.session, user, actor="test")
    row = make.session.scalar(select(AccountLink).where(AccountLink.user_id == user.id))
    row.expires_at -= timedelta(days=2)
    make.session.commit()
    expired = client.post(
        f"/staff/reset/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert expired.status_code == 410 and "expired" in expired.get_data(as_text=True)
    assert verify_password(make.session.get(User, user.id).password_hash, STAFF_PASSWORD)
    unknown = client.get("/staff/reset/" + "x" * 43)
    assert unknown.status_code == 404 and "not known" in unknown.get_data(as_text=True)
    # An invitation token does not open the reset page, nor the other way round.
    assert client.get(f"/staff/join/{token}").status_code == 404


def test_guessing_link_tokens_is_throttled(client: FlaskClient, make: Factory) -> None:
    statuses = [
        client.get(f"/staff/join/guess{n}", environ_base={"REMOTE_ADDR": "203.0.113.4"})
        for n in range(25)
    ]
    assert [s.status_code for s in statuses][:20] == [404] * 20
    assert statuses[-1].status_code == 429


def test_only_hashes_of_link_tokens_are_stored(make: Factory) -> None:
    user = make.user(make.city(), role=Role.ANALYST)
    token = links.reset(make.session, user, actor="test")
    make.session.commit()
    stored = make.session.scalar(select(AccountLink).where(AccountLink.user_id == user.id))
    assert token not in repr(vars(stored)) and stored.token_hash == links.hash_token(token)


def test_link_tokens_stay_out_of_the_logs() -> None:
    from surveyapp.logs import private

    line = private('1.2.3.4 - - [x] "GET /staff/join/SeCrEt123 HTTP/1.1" 200 -')
    assert "SeCrEt123" not in line and "/staff/join/" in line
    assert "SeCrEt" not in private("POST /staff/reset/SeCrEt-_9 HTTP/1.1")
    assert "SeCrEt" not in private("GET /staff/login?next=%2Fstaff%2Fjoin%2FSeCrEt HTTP/1.1")
    assert private("GET /i/ABCD-EFGH HTTP/1.1") == "GET /i/… HTTP/1.1"
