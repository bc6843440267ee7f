"""`surveyapp demo`: demo data, once, never in production by accident."""

from __future__ import annotations

from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.cli import main
from surveyapp.models import Response, Wave


def test_demo_is_idempotent(runner: FlaskCliRunner, db_session: Session) -> None:
    assert runner.invoke(main, ["instruments", "load"]).exit_code == 0
    first = runner.invoke(main, ["demo"])
    assert first.exit_code == 0, first.output
    assert "/w/" in first.output and "sign in as" in first.output
    responses = db_session.scalar(select(func.count(Response.id)))
    waves = db_session.scalar(select(func.count(Wave.id)))
    assert responses >= 300 and waves == 2

    second = runner.invoke(main, ["demo"])
    assert second.exit_code == 0, second.output
    assert db_session.scalar(select(func.count(Response.id))) == responses
    assert db_session.scalar(select(func.count(Wave.id))) == waves
    link = next(line for line in first.output.splitlines() if "/w/" in line)
    assert link in second.output


def test_demo_needs_the_instrument(runner: FlaskCliRunner) -> None:
    result = runner.invoke(main, ["demo"])
    assert result.exit_code != 0
    assert "instruments load" in result.output


def test_demo_refused_in_production(runner: FlaskCliRunner, monkeypatch) -> None:
    monkeypatch.setitem(runner.app.config, "ENV_NAME", "production")
    result = runner.invoke(main, ["demo"])
    assert result.exit_code != 0
    assert "refused in production" in result.output
