"""`surveyapp waves`: the daily tick closes waves past their closing date."""

from __future__ import annotations

from flask.testing import FlaskCliRunner
from sqlalchemy import select

from surveyapp.cli import main
from surveyapp.models import AuditEvent, City, Wave, WaveStatus

from ..conftest import Factory


def _ok(runner: FlaskCliRunner, *args: str) -> str:
    result = runner.invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_tick_closes_waves_past_their_closing_date(runner: FlaskCliRunner, make: Factory) -> None:
    from datetime import timedelta

    from surveyapp.db import utcnow

    due = make.wave(opens_at=utcnow() - timedelta(days=10), closes_at=utcnow() - timedelta(hours=1))
    running = make.wave()
    assert f"Closed 1 wave(s): {due.id}" in _ok(runner, "waves", "tick")
    make.session.expire_all()
    assert make.session.get(Wave, due.id).status == WaveStatus.CLOSED
    assert make.session.get(Wave, running.id).status == WaveStatus.OPEN
    assert make.session.scalar(select(AuditEvent).where(AuditEvent.actor == "surveyapp cli"))
    assert make.session.scalar(select(City).where(City.id == due.initiative.city_id))
