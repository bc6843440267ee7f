"""Backups restore to exactly what was saved, on the backend under test."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from surveyapp import create_app, migrate
from surveyapp.cli import main
from surveyapp.extensions import db
from surveyapp.instruments import load_instrument
from surveyapp.models import Answer, Response
from surveyapp.respond import used_codes

from .conftest import CORE_INSTRUMENT, Factory, throwaway_database


def _counts() -> tuple[int, int, list[str]]:
    return (
        db.session.scalar(select(func.count(Response.id))),
        db.session.scalar(select(func.count()).select_from(Answer)),
        sorted(db.session.scalars(select(Answer.item_id)).all()),
    )


def test_backup_and_restore_round_trip(tmp_path: Path) -> None:
    with throwaway_database(tmp_path) as url:
        migrate.upgrade(url)
        app = create_app({"ENV_NAME": "testing", "DATABASE_URL": url})
        try:
            with app.app_context():
                make = Factory(db.session, load_instrument(CORE_INSTRUMENT))
                wave = make.wave()
                response = Response(
                    wave_id=wave.id,
                    language="en",
                    channel="open_link",
                    status="draft",
                    idempotency_key="backup-test-key-0001",
                    quality_flags=[],
                    answers=[Answer(item_id="ppltrst", value_code=7)],
                )
                db.session.add(response)
                db.session.commit()
                before = _counts()
            runner = app.test_cli_runner()
            out = tmp_path / "backup.dump"
            made = runner.invoke(main, ["db", "backup", str(out)])
            assert made.exit_code == 0, made.output
            assert out.stat().st_size > 0
            # Something goes wrong after the backup: answers are lost.
            with app.app_context():
                db.session.execute(Answer.__table__.delete())
                db.session.commit()
                assert _counts()[1] == 0
                db.session.remove()
            db.engine_for(app).dispose()
            restored = runner.invoke(main, ["db", "restore", str(out), "--yes"])
            assert restored.exit_code == 0, restored.output
            with app.app_context():
                assert _counts() == before
                db.session.remove()
        finally:
            db.engine_for(app).dispose()


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path: Path, database_url: str) -> None:
    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": database_url})
    junk = tmp_path / "junk.dump"
    junk.write_bytes(b"this is not a database backup" * 50)
    result = app.test_cli_runner().invoke(main, ["db", "restore", str(junk), "--yes"])
    assert result.exit_code == 1
    assert "not an intact SQLite database" in result.output or "pg_restore failed" in result.output
    db.engine_for(app).dispose()


@pytest.mark.parametrize("dry_run", [True, False])
def test_retention_purge_deletes_drafts_and_unused_codes_only(
    runner, make: Factory, dry_run: bool
) -> None:
    from datetime import timedelta

    from surveyapp.db import utcnow
    from surveyapp.models import Invitation, WaveStatus

    old = make.wave(
        status=WaveStatus.CLOSED,
        opens_at=utcnow() - timedelta(days=400),
        closes_at=utcnow() - timedelta(days=200),
        retention_days=90,
    )
    recent = make.wave(
        status=WaveStatus.CLOSED,
        opens_at=utcnow() - timedelta(days=40),
        closes_at=utcnow() - timedelta(days=20),
        retention_days=90,
    )
    for wave in (old, recent):
        make.invitation(wave)
        _code, used = make.invitation(wave)
        make.use(used)
        for status in ("draft", "complete"):
            make.session.add(
                Response(
                    wave_id=wave.id,
                    language="en",
                    channel="open_link",
                    status=status,
                    submitted_on=utcnow().date() if status == "complete" else None,
                    started_at=None if status == "complete" else utcnow(),
                    idempotency_key=f"retention-{wave.id}-{status}-xxxxxxxx",
                    quality_flags=[],
                    answers=[Answer(item_id="ppltrst", value_code=5)],
                )
            )
    make.session.commit()
    args = ["retention", "purge"] + (["--dry-run"] if dry_run else [])
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    verb = "Would delete" if dry_run else "Deleted"
    assert f"{verb} 1 unfinished questionnaire(s) and 1 unused code(s) of wave {old.id}" in (
        result.output
    )
    make.session.expire_all()
    left = {(r.wave_id, r.status) for r in make.session.scalars(select(Response))}
    codes = {
        (i.wave_id, not used_codes.is_used(make.session, i))
        for i in make.session.scalars(select(Invitation))
    }
    if dry_run:
        assert (old.id, "draft") in left and (old.id, True) in codes
    else:
        assert left == {(old.id, "complete"), (recent.id, "draft"), (recent.id, "complete")}
        assert codes == {(old.id, False), (recent.id, True), (recent.id, False)}
