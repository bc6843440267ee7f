"""Settings: the app refuses to start outside development without a real secret key."""

from __future__ import annotations

import pytest

from surveyapp import create_app
from surveyapp.config import ConfigurationError, load_config

STRONG = "x" * 48


@pytest.mark.parametrize("secret", [None, "", "change-me", "development-only-secret-key", "short"])
def test_production_refuses_missing_default_or_short_secret(secret: str | None) -> None:
    environ = {"SURVEYAPP_ENV": "production"}
    if secret is not None:
        environ["SURVEYAPP_SECRET_KEY"] = secret
    with pytest.raises(ConfigurationError, match="SURVEYAPP_SECRET_KEY"):
        load_config(environ=environ)


def test_production_is_the_default_environment() -> None:
    """Forgetting SURVEYAPP_ENV must not give a server with the development secret."""
    with pytest.raises(ConfigurationError):
        load_config(environ={})


def test_create_app_refuses_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SURVEYAPP_SECRET_KEY", raising=False)
    monkeypatch.setenv("SURVEYAPP_ENV", "production")
    with pytest.raises(ConfigurationError):
        create_app({"DATABASE_URL": "sqlite://"})


def test_production_with_a_real_secret_starts_with_secure_cookies() -> None:
    config = load_config(environ={"SURVEYAPP_ENV": "production", "SURVEYAPP_SECRET_KEY": STRONG})
    assert config["SECRET_KEY"] == STRONG
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True


def test_development_gets_a_local_secret_and_sqlite_under_instance(tmp_path) -> None:
    config = load_config(environ={"SURVEYAPP_ENV": "development"}, instance_path=tmp_path)
    assert config["SECRET_KEY"]
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'surveyapp.sqlite'}"


def test_database_url_comes_from_the_environment() -> None:
    url = "postgresql+psycopg://surveyapp@db.internal/surveyapp"
    config = load_config(environ={"SURVEYAPP_ENV": "development", "SURVEYAPP_DATABASE_URL": url})
    assert config["DATABASE_URL"] == url


def test_unknown_environment_name_is_an_error() -> None:
    with pytest.raises(ConfigurationError, match="staging"):
        load_config(environ={"SURVEYAPP_ENV": "staging"})


def test_admins_need_a_second_factor_unless_switched_off_outside_production() -> None:
    production = {"SURVEYAPP_ENV": "production", "SURVEYAPP_SECRET_KEY": STRONG}
    assert load_config(environ=production)["ADMIN_SECOND_FACTOR"] is True
    assert load_config(environ={"SURVEYAPP_ENV": "testing"})["ADMIN_SECOND_FACTOR"] is True
    with pytest.raises(ConfigurationError, match="SURVEYAPP_ADMIN_SECOND_FACTOR"):
        load_config(environ={**production, "SURVEYAPP_ADMIN_SECOND_FACTOR": "0"})
    development = {"SURVEYAPP_ENV": "development", "SURVEYAPP_ADMIN_SECOND_FACTOR": "0"}
    assert load_config(environ=development)["ADMIN_SECOND_FACTOR"] is False
