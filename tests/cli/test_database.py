"""`surveyapp db`: the schema and its migrations."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskCliRunner

from surveyapp.cli import main


def test_db_check_reports_no_drift(runner: FlaskCliRunner) -> None:
    result = runner.invoke(main, ["db", "check"])
    assert result.exit_code == 0, result.output
    assert "agree" in result.output


def test_commands_on_an_empty_database_say_what_to_do(tmp_path: Path) -> None:
    """No traceback when someone forgets `surveyapp db upgrade`."""
    from surveyapp import create_app

    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": f"sqlite:///{tmp_path / 'e.db'}"})
    result = app.test_cli_runner().invoke(main, ["instruments", "load"])
    assert result.exit_code != 0
    assert "Run `surveyapp db upgrade` first" in result.output
    from surveyapp.extensions import db

    db.engine_for(app).dispose()


def test_db_upgrade_passes_the_code_key_to_the_migrations(
    runner: FlaskCliRunner, monkeypatch
) -> None:
    """A migration that re-keys invitation-code hashes gets the app's key, not none."""
    from surveyapp import migrate

    calls = []
    monkeypatch.setattr(migrate, "upgrade", lambda *args, **kwargs: calls.append((args, kwargs)))
    result = runner.invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert calls == [
        (
            (runner.app.config["DATABASE_URL"], "head"),
            {"code_key": runner.app.config["CODE_KEY"]},
        )
    ]
    assert runner.app.config["CODE_KEY"]
