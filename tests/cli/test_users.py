"""`surveyapp users`: staff accounts."""

from __future__ import annotations

from flask.testing import FlaskCliRunner
from sqlalchemy import select

from surveyapp.auth.passwords import verify_password
from surveyapp.cli import main
from surveyapp.models import AuditEvent, User

from ..conftest import Factory


def test_users_create_with_city_role(runner: FlaskCliRunner, make: Factory) -> None:
    city = make.city(slug="ghent")
    result = runner.invoke(
        main,
        ["users", "create", "--email", "An@Ghent.example", "--city", "ghent", "--role", "analyst"],
        input="a long enough password\na long enough password\n",
    )
    assert result.exit_code == 0, result.output
    user = make.session.scalar(select(User).where(User.email == "an@ghent.example"))
    assert user is not None
    assert [(m.city_id, m.role) for m in user.memberships] == [(city.id, "analyst")]
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, "a long enough password")
    assert make.session.scalar(select(AuditEvent).where(AuditEvent.action == "user_created"))


def test_users_create_explains_mistakes(runner: FlaskCliRunner, make: Factory) -> None:
    make.user(email="taken@city.example")
    cases = [
        (["--email", "taken@city.example"], "already an account"),
        (["--email", "new@city.example", "--city", "atlantis", "--role", "admin"], "atlantis"),
        (["--email", "not-an-address"], "not an e-mail address"),
    ]
    for args, message in cases:
        result = runner.invoke(
            main, ["users", "create", *args, "--password", "a long enough password"]
        )
        assert result.exit_code != 0
        assert message in result.output
    result = runner.invoke(
        main, ["users", "create", "--email", "x@y.example", "--password", "short"]
    )
    assert result.exit_code != 0 and "at least 12" in result.output
