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


def test_create_a_citywide_round_over_chosen_or_all_areas(
    runner: FlaskCliRunner, make: Factory
) -> None:
    from surveyapp import designs

    city = make.city(slug="mechelen", languages=["en"])
    for code in ("north", "south", "east"):
        make.area(city, code=code)
    make.instrument_row()
    out = _ok(runner, "waves", "create", "--city", "mechelen", "--areas", "north,EAST",
              "--name", "City round 2027")  # fmt: skip
    assert "city-wide wave" in out and "(north, east)" in out
    _ok(runner, "waves", "create", "--city", "mechelen", "--name", "Everywhere")
    rounds = designs.citywide_waves(make.session, city.id)
    assert [w.name for w in rounds] == ["City round 2027", "Everywhere"]
    assert [a.code for a in designs.wave_areas(make.session, rounds[0])] == ["east", "north"]
    assert len(designs.wave_areas(make.session, rounds[1])) == 3
    opened = _ok(runner, "waves", "open", str(rounds[0].id))
    assert "is open" in opened


def test_create_needs_exactly_one_owner_and_known_areas(
    runner: FlaskCliRunner, make: Factory
) -> None:
    city = make.city(slug="leuven", languages=["en"])
    make.area(city, code="centre")
    initiative = make.initiative(city)
    make.instrument_row()
    for args, message in (
        (["--name", "X"], "Give either INITIATIVE_ID or --city"),
        ([str(initiative.id), "--city", "leuven", "--name", "X"], "Give either INITIATIVE_ID"),
        ([str(initiative.id), "--areas", "centre", "--name", "X"], "--areas only goes with --city"),
        (["--city", "leuven", "--areas", "nowhere", "--name", "X"], "has no area with the code"),
        (["--city", "atlantis", "--name", "X"], "There is no city with the slug"),
    ):
        result = runner.invoke(main, ["waves", "create", *args])
        assert result.exit_code != 0 and message in result.output, (args, result.output)
    assert make.session.scalars(select(Wave)).all() == []
