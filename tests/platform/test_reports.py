"""Responses as an analysis-ready table, and the validation report in the console."""

from __future__ import annotations

from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.cli import main
from surveyapp.models import Initiative
from surveyapp.reports import initiative_frame


def _demo(runner: FlaskCliRunner, db_session: Session) -> Initiative:
    assert runner.invoke(main, ["instruments", "load"]).exit_code == 0
    assert runner.invoke(main, ["demo"]).exit_code == 0
    return db_session.scalar(select(Initiative))


def test_initiative_frame_has_one_row_per_complete_response(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    initiative = _demo(runner, db_session)
    frame = initiative_frame(db_session, initiative)
    assert len(frame) == 400
    assert list(frame["wave"].unique()) == ["Baseline", "Follow-up after six months"]
    assert set(frame["group"]) == {"treated", "comparison"}
    assert set(frame["area"]) == {"riverside", "old-town", "hillcrest", "station-quarter"}
    assert frame["ppltrst"].between(-2, 10).all()
    assert (frame["duration_seconds"] > 0).all()
    assert "home_language" not in frame.columns  # free text stays out
