"""Migration c17e5a0b9d42 (city-wide rounds): data survives both ways; refusals are clear."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from surveyapp import migrate
from surveyapp.db import build_engine

from .conftest import Factory, throwaway_database

BEFORE = "a4f1c9e2d7b5"


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    with throwaway_database(tmp_path) as url:
        yield url


def _counts(url: str) -> dict[str, int]:
    engine = build_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("waves", "invitations", "used_invitations", "responses")
            }
    finally:
        engine.dispose()


def test_upgrade_backfills_the_city_and_keeps_invitations_and_responses(
    database: str, core_instrument
) -> None:
    """Rebuilding ``waves`` (SQLite copies the table) must not cascade to its letters."""
    migrate.upgrade(database)
    engine = build_engine(database)
    try:
        with Session(engine, expire_on_commit=False) as session:
            make = Factory(session, core_instrument)
            wave = make.wave(status="open", languages=["en"])
            _code, used = make.invitation(wave)
            make.invitation(wave)
            make.use(used)
            session.commit()
            wave_id, city_id = wave.id, wave.initiative.city_id
        migrate.downgrade(database, BEFORE)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO responses (wave_id, area_id, language, channel, status,"
                    " started_on, quality_flags, idempotency_key, page) VALUES (:w, NULL,"
                    " 'en', 'open_link', 'draft', '2026-11-30', '[]', :k, 1)"
                ),
                {"w": wave_id, "k": "m" * 24},
            )
        before = _counts(database)
        assert before == {"waves": 1, "invitations": 2, "used_invitations": 1, "responses": 1}
        migrate.upgrade(database)
        migrate.check(database)
        assert _counts(database) == before
        with engine.connect() as connection:
            assert (
                connection.execute(
                    text("SELECT city_id FROM waves WHERE id = :id"), {"id": wave_id}
                ).scalar_one()
                == city_id
            )
    finally:
        engine.dispose()


def test_downgrade_drops_unanswered_citywide_rounds_and_refuses_answered_ones(
    database: str, core_instrument
) -> None:
    migrate.upgrade(database)
    engine = build_engine(database)
    try:
        with Session(engine, expire_on_commit=False) as session:
            make = Factory(session, core_instrument)
            city = make.city()
            areas = [make.area(city) for _ in range(3)]
            own = make.wave(make.initiative(city, treated=[areas[0]], comparison=[areas[1]]))
            empty = make.citywide_wave(city, areas[:2], name="Never answered")
            make.invitation(empty, areas[0])
            answered = make.citywide_wave(city, name="Answered")
            session.commit()
            ids = (own.id, empty.id, answered.id)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO responses (wave_id, area_id, language, channel, status,"
                    " started_on, quality_flags, idempotency_key, page) VALUES (:w, NULL,"
                    " 'en', 'open_link', 'draft', '2026-11-30', '[]', :k, 1)"
                ),
                {"w": ids[2], "k": "n" * 24},
            )
        with pytest.raises(RuntimeError, match=rf"city-wide wave\(s\) \[{ids[2]}\] have responses"):
            migrate.downgrade(database, BEFORE)
        assert _counts(database)["waves"] == 3  # nothing changed
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM responses"))
        migrate.downgrade(database, BEFORE)
        with engine.connect() as connection:
            left = connection.execute(text("SELECT id FROM waves")).scalars().all()
            assert left == [ids[0]]
            assert connection.execute(text("SELECT count(*) FROM invitations")).scalar() == 0
        migrate.upgrade(database)
        migrate.check(database)
    finally:
        engine.dispose()
