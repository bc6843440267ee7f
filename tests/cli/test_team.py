"""`surveyapp users invite|reset-password|deactivate|reactivate|set-role`: end to end."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from surveyapp.cli import main
from surveyapp.models import AuditEvent, Role, User

from ..conftest import Factory, sign_in

NEW_PASSWORD = "violet tram under the bridge"


def _link(output: str) -> str:
    match = re.search(r"^(http\S+)$", output, flags=re.MULTILINE)
    assert match, output
    return match.group(1)


def _cli_events(make: Factory, action: str) -> list[AuditEvent]:
    return list(
        make.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == action, AuditEvent.actor == "surveyapp cli"
            )
        )
    )


def test_invite_prints_a_link_that_makes_the_account(
    app: Flask, runner: FlaskCliRunner, make: Factory
) -> None:
    city = make.city(slug="ghent")
    result = runner.invoke(
        main,
        ["users", "invite", "--email", "new@city.example", "--city", "ghent", "--role", "admin"],
    )
    assert result.exit_code == 0, result.output
    link = _link(result.output)
    assert link.startswith(app.config["BASE_URL"].rstrip("/") + "/staff/join/")
    assert _cli_events(make, "invitation_created")[0].city_id == city.id

    browser = app.test_client()
    path = link.removeprefix(app.config["BASE_URL"].rstrip("/"))
    data = {"display_name": "New", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert browser.post(path, data=data).status_code == 303
    user = make.session.scalar(select(User).where(User.email == "new@city.example"))
    assert [(m.city_id, m.role) for m in user.memberships] == [(city.id, "admin")]
    assert browser.post(path, data=data).status_code == 410


def test_reset_password_prints_a_link_that_works_once(
    app: Flask, runner: FlaskCliRunner, make: Factory
) -> None:
    user = make.user(make.city(), email="anne@city.example")
    laptop = app.test_client()
    sign_in(laptop, user)
    result = runner.invoke(main, ["users", "reset-password", "--email", "Anne@City.example"])
    assert result.exit_code == 0, result.output
    path = _link(result.output).removeprefix(app.config["BASE_URL"].rstrip("/"))
    browser = app.test_client()
    data = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert browser.post(path, data=data).status_code == 200
    assert laptop.get("/staff/").status_code == 302
    sign_in(browser, user, NEW_PASSWORD)
    assert app.test_client().post(path, data=data).status_code == 410


def test_deactivate_and_reactivate(app: Flask, runner: FlaskCliRunner, make: Factory) -> None:
    city = make.city()
    make.user(city, role=Role.ADMIN)
    user = make.user(city, email="leaving@city.example")
    browser = app.test_client()
    sign_in(browser, user)
    result = runner.invoke(main, ["users", "deactivate", "--email", "leaving@city.example"])
    assert result.exit_code == 0, result.output
    assert browser.get("/staff/").status_code == 302
    sign_in(app.test_client(), user, expect=401, address="10.0.0.5")
    assert _cli_events(make, "user_deactivated")[0].city_id == city.id
    assert len(_cli_events(make, "sessions_ended")) == 1

    result = runner.invoke(main, ["users", "reactivate", "--email", "leaving@city.example"])
    assert result.exit_code == 0, result.output
    sign_in(app.test_client(), user, address="10.0.0.6")
    runner.invoke(main, ["users", "deactivate", "--email", "leaving@city.example"])
    result = runner.invoke(
        main, ["users", "deactivate", "--reactivate", "--email", "leaving@city.example"]
    )
    assert result.exit_code == 0 and make.session.get(User, user.id).is_active


def test_set_role_changes_a_role_and_adds_a_city(
    app: Flask, runner: FlaskCliRunner, make: Factory
) -> None:
    ghent, bruges = make.city(slug="ghent"), make.city(slug="bruges")
    make.user(ghent, role=Role.ADMIN)
    user = make.user(ghent, role=Role.COORDINATOR, email="an@city.example")
    browser = app.test_client()
    sign_in(browser, user)
    args = ["users", "set-role", "--email", "an@city.example"]
    result = runner.invoke(main, [*args, "--city", "ghent", "--role", "analyst"])
    assert result.exit_code == 0, result.output
    assert browser.get("/staff/").status_code == 302  # a role change ends the sessions
    result = runner.invoke(main, [*args, "--city", "bruges", "--role", "coordinator"])
    assert result.exit_code == 0, result.output
    roles = {m.city_id: m.role for m in make.session.get(User, user.id).memberships}
    assert roles == {ghent.id: "analyst", bruges.id: "coordinator"}
    changed = _cli_events(make, "role_changed")[0]
    assert (changed.details["old"], changed.details["new"]) == ("coordinator", "analyst")
    assert _cli_events(make, "member_added")[0].city_id == bruges.id


def test_the_last_admin_is_protected_on_the_command_line(
    runner: FlaskCliRunner, make: Factory
) -> None:
    admin_id = make.user(make.city(slug="bruges"), role=Role.ADMIN, email="only@city.example").id
    for args in (
        ["deactivate", "--email", "only@city.example"],
        ["set-role", "--email", "only@city.example", "--city", "bruges", "--role", "analyst"],
    ):
        result = runner.invoke(main, ["users", *args])
        assert result.exit_code != 0 and "last admin" in result.output
    assert make.session.get(User, admin_id).is_active


def test_mistakes_are_one_line(runner: FlaskCliRunner, make: Factory) -> None:
    make.user(make.city(slug="ghent"), email="member@city.example")
    cases = [
        (["reset-password", "--email", "nobody@city.example"], "no account"),
        (["deactivate", "--email", "nobody@city.example"], "no account"),
        (
            ["invite", "--email", "x@city.example", "--city", "atlantis", "--role", "admin"],
            "atlantis",
        ),
        (
            ["invite", "--email", "member@city.example", "--city", "ghent", "--role", "admin"],
            "already a member",
        ),
        (
            ["set-role", "--email", "member@city.example", "--city", "ghent", "--role", "boss"],
            "boss",
        ),
    ]
    for args, message in cases:
        result = runner.invoke(main, ["users", *args])
        assert result.exit_code != 0 and message in result.output, result.output
        assert "Traceback" not in result.output
