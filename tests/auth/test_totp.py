"""A second factor for staff: required for city admins, optional for the others.

Codes come from pyotp, as an authenticator app makes them, on a clock the tests move.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from surveyapp.cli import main
from surveyapp.models import AuditEvent, Membership, RecoveryCode, Role, User

from ..conftest import STAFF_PASSWORD, Factory, sign_in

SETUP = "/staff/second-factor/setup"
CODE = "/staff/login/code"
ACCOUNT = "/staff/account/second-factor"
#: A fixed moment in the middle of a 30-second step.
START = 1_900_000_005.0


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Freeze time at ``START``; call the fixture with seconds to move it on."""
    now = {"t": START}
    monkeypatch.setattr(time, "time", lambda: now["t"])

    def advance(seconds: float) -> None:
        now["t"] += seconds

    return advance


def app_code(secret: str) -> str:
    """The code an authenticator app shows now (on the tests' clock)."""
    return pyotp.TOTP(secret).at(time.time())


def set_up(client: FlaskClient) -> tuple[str, list[str]]:
    """Set up a second factor on the set-up page, as a person does: scan, then confirm."""
    page = client.get(SETUP)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'src="data:image/svg+xml' in html  # the QR code, no request to another site
    secret = re.search(r'<code id="key">([A-Z2-7 ]+)</code>', html).group(1).replace(" ", "")
    done = client.post(SETUP, data={"code": app_code(secret)})
    assert done.status_code == 200, done.status_code
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", done.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def console_closed(client: FlaskClient, city_id: int) -> bool:
    """Whether every console page sends this client to the sign-in page."""
    pages = ["/staff/", f"/staff/cities/{city_id}/audit", "/staff/tokens", ACCOUNT]
    answers = [client.get(page) for page in pages]
    return all(a.status_code == 302 and "/staff/login" in a.location for a in answers)


def events(make: Factory, action: str) -> list[AuditEvent]:
    return list(
        make.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


@pytest.mark.usefixtures("admin_second_factor")
def test_an_admin_sets_up_a_second_factor_then_signs_in_with_a_code(
    client: FlaskClient, make: Factory, clock
) -> None:
    city = make.city()
    admin = make.user(city, role=Role.ADMIN, email="admin@city.example")
    first = sign_in(client, admin)
    assert first.location.endswith(SETUP)
    assert console_closed(client, city.id)  # not before the second factor is set up

    secret, _codes = set_up(client)
    assert client.get(f"/staff/cities/{city.id}/audit").status_code == 200

    stored = make.session.get(User, admin.id)
    assert stored.totp_secret and secret not in stored.totp_secret  # sealed, not plain
    assert secret not in repr(
        [(e.action, e.details) for e in make.session.scalars(select(AuditEvent))]
    )
    assert events(make, "second_factor_enrolled")

    client.post("/staff/logout")
    clock(30)
    again = sign_in(client, admin)
    assert again.location.endswith(CODE)
    assert console_closed(client, city.id)
    signed_in = client.post(CODE, data={"code": app_code(secret)})
    assert signed_in.status_code == 303 and signed_in.location.endswith("/staff/")
    assert client.get(f"/staff/cities/{city.id}/audit").status_code == 200


@pytest.mark.usefixtures("admin_second_factor")
def test_an_admin_without_a_second_factor_cannot_reach_the_console(
    client: FlaskClient, make: Factory
) -> None:
    city = make.city()
    admin = make.user(city, role=Role.ADMIN)
    colleague = make.user(city, role=Role.ANALYST)
    sign_in(client, admin)
    assert console_closed(client, city.id)
    ended = client.post(f"/staff/cities/{city.id}/members/{colleague.id}/end-sessions")
    assert ended.status_code == 302 and "/staff/login" in ended.location
    assert not events(make, "sessions_ended")
    # The code page is no way round the set-up either.
    assert client.get(CODE).location.endswith(SETUP)


@pytest.mark.usefixtures("admin_second_factor")
def test_a_half_signed_in_session_opens_no_console_page(
    app: Flask, client: FlaskClient, make: Factory, clock
) -> None:
    city = make.city()
    coordinator = make.user(city, role=Role.COORDINATOR, email="coord@city.example")
    sign_in(client, coordinator)
    open_set_up_from_account(client)
    secret, _codes = set_up(client)
    client.post("/staff/logout")

    clock(30)
    assert sign_in(client, coordinator).location.endswith(CODE)
    assert console_closed(client, city.id)
    # A copy of the half-signed-in cookie is no better.
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    assert console_closed(thief, city.id)
    # The password is forgotten after ten minutes: the code alone then signs nobody in.
    clock(601)
    late = client.post(CODE, data={"code": app_code(secret)})
    assert late.status_code == 302 and "/staff/login" in late.location
    assert console_closed(client, city.id)


def open_set_up_from_account(client: FlaskClient) -> None:
    """The account page leads to the set-up page (optional for coordinators and analysts)."""
    page = client.get(ACCOUNT).get_data(as_text=True)
    assert "Off." in page and SETUP in page


@pytest.mark.usefixtures("admin_second_factor")
def test_a_wrong_code_is_refused_and_audited(client: FlaskClient, make: Factory, clock) -> None:
    city = make.city()
    admin = make.user(city, role=Role.ADMIN, email="admin@city.example")
    sign_in(client, admin)
    secret, _codes = set_up(client)
    client.post("/staff/logout")
    clock(30)
    sign_in(client, admin)
    wrong = "000000" if app_code(secret) != "000000" else "111111"
    refused = client.post(CODE, data={"code": wrong})
    assert refused.status_code == 401
    assert "not correct" in refused.get_data(as_text=True)
    assert console_closed(client, city.id)
    failure = events(make, "second_factor_failed")[-1]
    assert failure.actor == "admin@city.example" and failure.details["reason"] == "wrong_code"
    assert wrong not in repr(failure.details)
    # A code two steps old (a minute) is refused too; the current one works.
    clock(60)
    old = pyotp.TOTP(secret).at(time.time() - 60)
    assert client.post(CODE, data={"code": old}).status_code == 401
    assert client.post(CODE, data={"code": app_code(secret)}).status_code == 303


@pytest.mark.usefixtures("admin_second_factor")
def test_a_code_is_accepted_once(app: Flask, client: FlaskClient, make: Factory, clock) -> None:
    city = make.city()
    admin = make.user(city, role=Role.ADMIN, email="admin@city.example")
    sign_in(client, admin)
    secret, _codes = set_up(client)
    client.post("/staff/logout")
    clock(30)
    code = app_code(secret)
    sign_in(client, admin)
    assert client.post(CODE, data={"code": code}).status_code == 303
    # Someone who watched the code being typed tries it in the same 30 seconds.
    attacker = app.test_client()
    sign_in(attacker, admin, address="203.0.113.5")
    assert attacker.post(CODE, data={"code": code}).status_code == 401
    assert console_closed(attacker, city.id)
    assert events(make, "second_factor_failed")[-1].details["reason"] == "replayed_code"
    # The code of the step set-up used (the previous one) is refused as well.
    clock(1)
    previous = pyotp.TOTP(secret).at(time.time() - 30)
    assert attacker.post(CODE, data={"code": previous}).status_code == 401


@pytest.mark.usefixtures("admin_second_factor")
def test_a_recovery_code_signs_in_once(client: FlaskClient, make: Factory, clock) -> None:
    city = make.city()
    admin = make.user(city, role=Role.ADMIN)
    sign_in(client, admin)
    _secret, codes = set_up(client)
    assert len(set(codes)) == 10
    stored = make.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)  # only hashes are kept
    client.post("/staff/logout")

    sign_in(client, admin)
    typed = codes[3].upper().replace("-", " ")  # as read off paper
    assert client.post(CODE, data={"code": typed}).status_code == 303
    assert client.get(f"/staff/cities/{city.id}/audit").status_code == 200
    passed = events(make, "second_factor_passed")[-1]
    assert passed.details["method"] == "recovery_code"
    assert passed.details["recovery_codes_left"] == 9
    client.post("/staff/logout")

    sign_in(client, admin)
    assert client.post(CODE, data={"code": codes[3]}).status_code == 401
    assert console_closed(client, city.id)
    assert client.post(CODE, data={"code": codes[4]}).status_code == 303


@pytest.mark.usefixtures("admin_second_factor")
def test_guessing_codes_is_throttled_per_account(
    app: Flask, client: FlaskClient, make: Factory, clock
) -> None:
    admin = make.user(make.city(), role=Role.ADMIN)
    sign_in(client, admin)
    secret, _codes = set_up(client)
    client.post("/staff/logout")
    clock(30)
    statuses = []
    for n in range(8):
        guesser = app.test_client()  # a new client and address for every guess
        address = f"203.0.113.{n + 1}"
        sign_in(guesser, admin, address=address)
        answer = guesser.post(
            CODE, data={"code": f"{n:06d}"}, environ_base={"REMOTE_ADDR": address}
        )
        statuses.append(answer.status_code)
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    assert app_code(secret)  # the owner still has the app; the limit lifts after a minute


def test_a_coordinator_may_set_up_and_remove_a_second_factor(
    client: FlaskClient, make: Factory, clock
) -> None:
    city = make.city()
    coordinator = make.user(city, role=Role.COORDINATOR)
    sign_in(client, coordinator)
    open_set_up_from_account(client)
    secret, _codes = set_up(client)
    assert client.get("/staff/").status_code == 200  # this browser stays signed in
    assert "Recovery codes left: 10." in client.get(ACCOUNT).get_data(as_text=True)
    client.post("/staff/logout")

    clock(30)
    assert sign_in(client, coordinator).location.endswith(CODE)
    client.post(CODE, data={"code": app_code(secret)})
    # Removing it needs a current code.
    assert client.post(f"{ACCOUNT}/remove", data={"code": "123456"}).status_code == 401
    clock(30)
    removed = client.post(f"{ACCOUNT}/remove", data={"code": app_code(secret)})
    assert removed.status_code == 303
    assert make.session.get(User, coordinator.id).totp_secret is None
    assert not make.session.scalars(select(RecoveryCode)).all()
    assert events(make, "second_factor_removed")
    client.post("/staff/logout")
    assert sign_in(client, coordinator).location.endswith("/staff/")


@pytest.mark.usefixtures("admin_second_factor")
def test_an_admin_cannot_remove_their_own_second_factor(
    client: FlaskClient, make: Factory, clock
) -> None:
    admin = make.user(make.city(), role=Role.ADMIN)
    sign_in(client, admin)
    secret, _codes = set_up(client)
    assert "cannot remove" in client.get(ACCOUNT).get_data(as_text=True)
    clock(30)
    assert client.post(f"{ACCOUNT}/remove", data={"code": app_code(secret)}).status_code == 403
    assert make.session.get(User, admin.id).totp_secret is not None


def test_new_recovery_codes_replace_the_old_ones(client: FlaskClient, make: Factory, clock) -> None:
    user = make.user(make.city(), role=Role.ANALYST)
    sign_in(client, user)
    secret, old = set_up(client)
    clock(30)
    page = client.post(f"{ACCOUNT}/recovery-codes", data={"code": app_code(secret)})
    new = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", page.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    client.post("/staff/logout")
    sign_in(client, user)
    assert client.post(CODE, data={"code": old[0]}).status_code == 401
    assert client.post(CODE, data={"code": new[0]}).status_code == 303


@pytest.mark.usefixtures("admin_second_factor")
def test_a_colleague_made_admin_must_set_up_a_second_factor(
    client: FlaskClient, make: Factory
) -> None:
    city = make.city()
    analyst = make.user(city, role=Role.ANALYST)
    sign_in(client, analyst)
    assert client.get("/staff/").status_code == 200
    membership = make.session.scalar(select(Membership).where(Membership.user_id == analyst.id))
    membership.role = Role.ADMIN
    make.session.commit()
    assert console_closed(client, city.id)
    assert sign_in(client, analyst).location.endswith(SETUP)


@pytest.mark.usefixtures("admin_second_factor")
def test_an_admin_resets_a_colleagues_second_factor(
    app: Flask, client: FlaskClient, make: Factory, clock
) -> None:
    city = make.city()
    admin = make.user(city, role=Role.ADMIN, email="admin@city.example")
    other = make.user(city, role=Role.ADMIN, email="lost.phone@city.example")
    laptop = app.test_client()
    sign_in(laptop, other, address="10.0.0.2")
    set_up(laptop)
    assert laptop.get("/staff/").status_code == 200

    sign_in(client, admin)
    set_up(client)
    audit_page = client.get(f"/staff/cities/{city.id}/audit").get_data(as_text=True)
    assert "Reset second factor" in audit_page
    url = f"/staff/cities/{city.id}/members/{other.id}/reset-second-factor"
    assert client.post(url).status_code == 303

    assert laptop.get("/staff/").status_code == 302  # signed out everywhere
    assert make.session.get(User, other.id).totp_secret is None
    reset = events(make, "second_factor_reset")[-1]
    assert (reset.actor, reset.city_id, reset.object_id) == (admin.email, city.id, str(other.id))
    assert events(make, "sessions_ended")[-1].object_id == str(other.id)
    # The colleague, an admin, sets up a new one at the next sign-in.
    assert sign_in(laptop, other, address="10.0.0.2").location.endswith(SETUP)
    # An admin resets no one's factor in another city, nor their own here.
    own = f"/staff/cities/{city.id}/members/{admin.id}/reset-second-factor"
    assert client.post(own).status_code == 403


def test_only_an_admin_of_that_city_resets_a_second_factor(
    client: FlaskClient, make: Factory
) -> None:
    city, other_city = make.city(), make.city()
    target = make.user(city, role=Role.ANALYST)
    make.user(city, role=Role.COORDINATOR, email="coord@city.example")
    make.user(other_city, role=Role.ADMIN, email="admin@other.example")
    url = f"/staff/cities/{city.id}/members/{target.id}/reset-second-factor"
    sign_in(client, "coord@city.example")
    assert client.post(url).status_code == 403
    sign_in(client, "admin@other.example")
    assert client.post(url).status_code == 404
    assert not events(make, "second_factor_reset")


@pytest.mark.usefixtures("admin_second_factor")
def test_the_cli_resets_the_only_admins_second_factor(
    app: Flask, client: FlaskClient, runner, make: Factory
) -> None:
    city = make.city()
    admin = make.user(city, role=Role.ADMIN, email="only.admin@city.example")
    sign_in(client, admin)
    set_up(client)
    assert client.get("/staff/").status_code == 200

    result = runner.invoke(main, ["users", "reset-totp", "--email", "Only.Admin@city.example"])
    assert result.exit_code == 0, result.output
    assert "removed" in result.output
    make.session.expire_all()
    assert make.session.get(User, admin.id).totp_secret is None
    assert client.get("/staff/").status_code == 302
    reset = events(make, "second_factor_reset")[-1]
    assert (reset.actor, reset.city_id) == ("surveyapp cli", city.id)
    assert sign_in(client, admin).location.endswith(SETUP)

    unknown = runner.invoke(main, ["users", "reset-totp", "--email", "nobody@city.example"])
    assert unknown.exit_code == 1 and "no account" in unknown.output


def test_code_rate_limit_keys_hold_no_address_or_account(app: Flask) -> None:
    """Counters live in Redis in production: their keys are keyed hashes only."""
    from surveyapp.auth.second_factor.views import account_key, client_limit_key

    address = "192.0.2.77"
    with app.test_request_context(CODE, method="POST", environ_base={"REMOTE_ADDR": address}):
        from flask import session

        session["pending"] = 4242
        keys = [account_key(), client_limit_key()]
    assert not any(address in key or "4242" in key for key in keys)
    assert keys[0] != keys[1]


@pytest.mark.usefixtures("admin_second_factor")
def test_changing_the_password_keeps_this_browser_past_the_second_factor(
    client: FlaskClient, make: Factory, clock
) -> None:
    city = make.city()
    admin = make.user(city, role=Role.ADMIN, email="admin@city.example")
    sign_in(client, admin)
    set_up(client)
    page = client.get("/staff/account").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    changed = client.post(
        "/staff/account",
        data={
            "current": STAFF_PASSWORD,
            "password": "violet tram under the bridge",
            "confirm": "violet tram under the bridge",
            **({"csrf_token": token.group(1)} if token else {}),
        },
    )
    assert changed.status_code == 303, changed.get_data(as_text=True)[:500]
    assert client.get(f"/staff/cities/{city.id}/audit").status_code == 200
