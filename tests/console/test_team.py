"""A city's team page: invitations, roles, deactivation and password links, per city."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from surveyapp.api.tokens import create_token
from surveyapp.auth import links
from surveyapp.models import AccountLink, AuditEvent, Membership, Role, User

from ..conftest import Factory, sign_in

NEW_PASSWORD = "violet tram under the bridge"


def _copy_cookie(source: FlaskClient, target: FlaskClient) -> None:
    target.set_cookie("session", source.get_cookie("session").value)


def _event(make: Factory, action: str) -> AuditEvent:
    return make.session.scalar(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc())
    )


@pytest.fixture
def team(app: Flask, client: FlaskClient, make: Factory):
    """A city with a signed-in admin and a coordinator signed in on a second browser."""
    city = make.city(name="Ghent")
    admin = make.user(city, role=Role.ADMIN, email="admin@city.example")
    member = make.user(city, role=Role.COORDINATOR, email="coord@city.example")
    member_browser = app.test_client()
    sign_in(member_browser, member, address="10.0.0.2")
    sign_in(client, admin)
    return city, admin, member, member_browser


def test_the_team_page_lists_members_with_role_and_status(client: FlaskClient, team) -> None:
    city, _admin, _member, _browser = team
    page = client.get(f"/staff/cities/{city.id}/team").get_data(as_text=True)
    assert "admin@city.example" in page and "coord@city.example" in page
    assert "Invite a colleague" in page and "active" in page


def test_a_role_change_ends_the_members_sessions(
    app: Flask, client: FlaskClient, make: Factory, team
) -> None:
    city, _admin, member, member_browser = team
    copy = app.test_client()
    _copy_cookie(member_browser, copy)
    url = f"/staff/cities/{city.id}/members/{member.id}/role"
    assert client.post(url, data={"role": "analyst"}).status_code == 303
    assert make.session.get(Membership, member.memberships[0].id).role == "analyst"
    assert member_browser.get("/staff/").status_code == 302
    assert copy.get("/staff/").status_code == 302
    event = _event(make, "role_changed")
    assert event.city_id == city.id
    assert (event.details["old"], event.details["new"]) == ("coordinator", "analyst")


def test_deactivation_ends_sessions_and_api_tokens_and_reactivation_undoes_it(
    app: Flask, client: FlaskClient, make: Factory, team
) -> None:
    city, _admin, member, member_browser = team
    token, _row = create_token(make.session, member, name="script", actor=member)
    make.session.commit()
    api = app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/me", headers=bearer).status_code == 200

    assert client.post(f"/staff/cities/{city.id}/members/{member.id}/deactivate").status_code == 303
    assert member_browser.get("/staff/").status_code == 302
    assert api.get("/api/v1/me", headers=bearer).status_code == 401
    sign_in(app.test_client(), member, address="10.0.0.3", expect=401)
    event = _event(make, "user_deactivated")
    assert (event.details["old"], event.details["new"]) == ("active", "deactivated")
    assert "deactivated" in client.get(f"/staff/cities/{city.id}/team").get_data(as_text=True)

    assert client.post(f"/staff/cities/{city.id}/members/{member.id}/reactivate").status_code == 303
    assert make.session.get(User, member.id).is_active
    assert member_browser.get("/staff/").status_code == 302  # old sessions stay ended
    sign_in(app.test_client(), member, address="10.0.0.4")
    assert _event(make, "user_reactivated") is not None


def test_the_last_admin_is_neither_demoted_nor_deactivated(
    client: FlaskClient, make: Factory, team
) -> None:
    city, admin, member, _browser = team
    # Not themselves by accident...
    own_role = client.post(
        f"/staff/cities/{city.id}/members/{admin.id}/role",
        data={"role": "analyst"},
        follow_redirects=True,
    )
    assert "your own account" in own_role.get_data(as_text=True)
    client.post(f"/staff/cities/{city.id}/members/{admin.id}/deactivate")
    assert make.session.get(User, admin.id).is_active
    # ...nor another admin who is the city's last one (a second admin from elsewhere).
    other_admin = make.user(make.city(), role=Role.ADMIN, email="other@city.example")
    make.session.add(Membership(user=other_admin, city_id=city.id, role=Role.ADMIN))
    make.session.commit()
    client.post(f"/staff/cities/{city.id}/members/{other_admin.id}/role", data={"role": "analyst"})
    assert {m.role for m in make.session.get(User, other_admin.id).memberships} == {
        "analyst",
        "admin",
    }
    last = client.post(
        f"/staff/cities/{city.id}/members/{other_admin.id}/deactivate", follow_redirects=True
    )
    assert "is the last admin of" in last.get_data(as_text=True)
    assert make.session.get(User, other_admin.id).is_active
    assert member.id


def test_an_admin_acts_only_on_members_of_their_own_city(
    client: FlaskClient, make: Factory, team
) -> None:
    city, _admin, _member, _browser = team
    other = make.city()
    stranger = make.user(other, role=Role.ANALYST, email="stranger@other.example")
    for action in ("role", "deactivate", "reactivate", "reset-link"):
        here = f"/staff/cities/{city.id}/members/{stranger.id}/{action}"
        there = f"/staff/cities/{other.id}/members/{stranger.id}/{action}"
        assert client.post(here, data={"role": "admin"}).status_code == 404
        assert client.post(there, data={"role": "admin"}).status_code == 404
    assert client.get(f"/staff/cities/{other.id}/team").status_code == 404
    assert (
        client.post(
            f"/staff/cities/{other.id}/team/invite", data={"email": "a@b.example", "role": "admin"}
        ).status_code
        == 404
    )
    assert make.session.get(User, stranger.id).is_active


def test_a_coordinator_cannot_manage_the_team(app: Flask, make: Factory, team) -> None:
    city, admin, _member, member_browser = team
    assert member_browser.get(f"/staff/cities/{city.id}/team").status_code == 403
    url = f"/staff/cities/{city.id}/members/{admin.id}/deactivate"
    assert member_browser.post(url).status_code == 403


def _shown_link(page: str) -> str:
    match = re.search(r'id="link-value" value="http[^"]*(/staff/(?:join|reset)/[^"]+)"', page)
    assert match, page
    return match.group(1)


def test_an_invitation_link_works_once(
    app: Flask, client: FlaskClient, make: Factory, team
) -> None:
    city, _admin, _member, _browser = team
    made = client.post(
        f"/staff/cities/{city.id}/team/invite",
        data={"email": "New@City.example", "role": "analyst"},
    )
    assert made.status_code == 200
    path = _shown_link(made.get_data(as_text=True))
    stored = make.session.scalar(select(AccountLink).where(AccountLink.email == "new@city.example"))
    assert path.rsplit("/", 1)[1] not in stored.token_hash  # only a hash is kept
    assert 6 <= (stored.expires_at - stored.created_at).days <= 7
    assert _event(make, "invitation_created").details["role"] == "analyst"

    newcomer = app.test_client()
    form = newcomer.get(path).get_data(as_text=True)
    assert "new@city.example" in form
    weak = newcomer.post(
        path, data={"display_name": "An", "password": "password1234", "confirm": "password1234"}
    )
    assert weak.status_code == 400
    joined = newcomer.post(
        path, data={"display_name": "An Peeters", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert joined.status_code == 303
    assert newcomer.get("/staff/").status_code == 200  # signed in at once
    user = make.session.scalar(select(User).where(User.email == "new@city.example"))
    assert [(m.city_id, m.role) for m in user.memberships] == [(city.id, "analyst")]
    again = app.test_client().post(
        path, data={"display_name": "Eve", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert again.status_code == 410


def test_an_invited_admin_sets_up_a_second_factor_before_the_console_opens(
    app: Flask, make: Factory, team, admin_second_factor
) -> None:
    city, admin, _member, _browser = team
    token = links.invite(
        make.session, email="chief@city.example", city=city, role="admin", actor=admin
    )
    make.session.commit()
    newcomer = app.test_client()
    joined = newcomer.post(
        f"/staff/join/{token}",
        data={"display_name": "Chief", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert joined.status_code == 303 and "second-factor" in joined.location
    assert newcomer.get("/staff/").status_code == 302  # not in the console yet
    assert "otpauth" in newcomer.get(joined.location).get_data(as_text=True) or (
        "data:image/svg+xml" in newcomer.get(joined.location).get_data(as_text=True)
    )


def test_an_invitation_expires(client: FlaskClient, make: Factory, team) -> None:
    city, admin, _member, _browser = team
    token = links.invite(
        make.session, email="late@city.example", city=city, role="analyst", actor=admin
    )
    row = make.session.scalar(select(AccountLink).where(AccountLink.email == "late@city.example"))
    row.expires_at = row.created_at - timedelta(seconds=1)
    make.session.commit()
    page = client.get(f"/staff/join/{token}")
    assert page.status_code == 410 and "expired" in page.get_data(as_text=True)


def test_an_invitation_for_an_existing_account_joins_after_sign_in(
    app: Flask, client: FlaskClient, make: Factory, team
) -> None:
    city, admin, _member, _browser = team
    elsewhere = make.user(make.city(), role=Role.ADMIN, email="colleague@other.example")
    token = links.invite(
        make.session, email=elsewhere.email, city=city, role="coordinator", actor=admin
    )
    make.session.commit()
    browser = app.test_client()
    page = browser.get(f"/staff/join/{token}").get_data(as_text=True)
    assert "sign in with it to accept" in page
    sign_in(browser, elsewhere, address="10.0.0.9")
    assert browser.post(f"/staff/join/{token}").status_code == 303
    roles = {m.city_id: m.role for m in make.session.get(User, elsewhere.id).memberships}
    assert roles[city.id] == "coordinator"
    assert browser.get(f"/staff/join/{token}").status_code == 410


def test_an_admin_adds_an_existing_account_directly(
    client: FlaskClient, make: Factory, team
) -> None:
    city, _admin, _member, _browser = team
    elsewhere = make.user(make.city(), role=Role.ANALYST, email="colleague@other.example")
    done = client.post(
        f"/staff/cities/{city.id}/team/add",
        data={"email": "colleague@other.example", "role": "analyst"},
    )
    assert done.status_code == 303
    assert city.id in {m.city_id for m in make.session.get(User, elsewhere.id).memberships}
    assert _event(make, "member_added").city_id == city.id
    missing = client.post(
        f"/staff/cities/{city.id}/team/add",
        data={"email": "nobody@city.example", "role": "analyst"},
        follow_redirects=True,
    )
    assert "invite them" in missing.get_data(as_text=True)


def test_an_admin_makes_a_password_link_shown_once(
    app: Flask, client: FlaskClient, make: Factory, team
) -> None:
    city, _admin, member, member_browser = team
    made = client.post(f"/staff/cities/{city.id}/members/{member.id}/reset-link")
    path = _shown_link(made.get_data(as_text=True))
    assert "/staff/reset/" in path
    assert "link-value" not in client.get(f"/staff/cities/{city.id}/team").get_data(as_text=True)
    used = app.test_client().post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert used.status_code == 200
    assert member_browser.get("/staff/").status_code == 302
    assert _event(make, "password_reset_link_created").city_id == city.id


def test_team_actions_need_a_csrf_token(app: Flask, make: Factory, team) -> None:
    city, _admin, member, _browser = team
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        browser = app.test_client()
        sign_in(browser, "admin@city.example", expect=None, address="10.0.0.7")
        url = f"/staff/cities/{city.id}/members/{member.id}/deactivate"
        assert browser.post(url).status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert make.session.get(User, member.id).is_active
