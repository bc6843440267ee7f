"""Small doors an attacker tries: huge ids, readable files, passwords on command lines."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from surveyapp import backup
from surveyapp.db import build_engine
from surveyapp.models import Role

from .conftest import Factory, sign_in


@pytest.mark.parametrize(
    "path",
    [
        "/staff/cities/{big}/audit",
        "/staff/initiatives/{big}/report.json",
        "/staff/waves/{big}/monitor",
        "/i/K7PMQ2XAHC/{big}",
    ],
)
def test_ids_beyond_what_the_database_stores_are_404(
    client: FlaskClient, make: Factory, path: str
) -> None:
    admin = make.user(make.city(), role=Role.ADMIN)
    sign_in(client, admin)
    for big in (2**31, 2**63, 10**30):
        assert client.get(path.format(big=big)).status_code == 404


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_sqlite_database_and_its_backup_are_private(tmp_path: Path) -> None:
    database = tmp_path / "city.sqlite"
    engine = build_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE answers (value TEXT)")
    engine.dispose()
    assert _mode(database) == 0o600
    copy = tmp_path / "backup.sqlite"
    copy.touch(mode=0o644)  # a file left from before is made private too
    backup.backup(f"sqlite:///{database}", copy)
    assert _mode(copy) == 0o600


def test_pg_dump_gets_the_password_from_its_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    class Done:
        returncode, stderr = 0, ""

    monkeypatch.setattr(backup.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(
        backup.subprocess, "run", lambda command, **kwargs: calls.append((command, kwargs)) or Done
    )
    url = "postgresql+psycopg://surveyapp:S3cret-Pass@db.internal:5432/city"
    backup.backup(url, tmp_path / "city.dump")
    backup.restore(url, tmp_path / "city.dump")
    for command, kwargs in calls:
        assert not any("S3cret-Pass" in part for part in command)  # `ps` shows arguments
        assert kwargs["env"]["PGPASSWORD"] == "S3cret-Pass"
        assert any("surveyapp@db.internal:5432/city" in part for part in command)
    assert _mode(tmp_path / "city.dump") == 0o600
