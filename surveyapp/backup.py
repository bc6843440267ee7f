"""Backups of the whole database, and restoring them, for SQLite and PostgreSQL.

SQLite: a consistent copy made with SQLite's online backup API (safe while the app runs,
WAL included). PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean``, which
must be installed (Debian: postgresql-client, the same major version as the server).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from surveyapp.security import private_file


class BackupError(RuntimeError):
    """A backup or restore could not be made; the message says why."""


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The libpq URL without its password, and the environment that carries it.

    A password on a command line is visible to every user of the machine (``ps``); libpq
    reads ``PGPASSWORD`` from the child's environment instead.
    """
    parsed = make_url(url).set(drivername="postgresql")
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    bare = URL.create(
        "postgresql",
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=parsed.query,
    )
    return bare.render_as_string(hide_password=False), env


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    return Path(database)


def backup(url: str, out: Path) -> None:
    """Write a backup of the database at ``url`` to ``out``."""
    backend = make_url(url).get_backend_name()
    private_file(out)
    if backend == "sqlite":
        source = sqlite3.connect(_sqlite_path(url))
        target = sqlite3.connect(out)
        try:
            with target:
                source.backup(target)
        finally:
            source.close()
            target.close()
    elif backend == "postgresql":
        target, env = _libpq(url)
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={out}", target], env)
    else:
        raise BackupError(f"No backup method for {backend}.")


def restore(url: str, source: Path) -> None:
    """Replace the database at ``url`` with the backup in ``source``."""
    if not source.is_file():
        raise BackupError(f"{source} is not a file.")
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        check = sqlite3.connect(source)
        try:
            intact = check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        except sqlite3.DatabaseError:
            intact = False
        finally:
            check.close()
        if not intact:
            raise BackupError(f"{source} is not an intact SQLite database.")
        target = _sqlite_path(url)
        for suffix in ("-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(source, target)
    elif backend == "postgresql":
        target, env = _libpq(url)
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                f"--dbname={target}",
                str(source),
            ],
            env,
        )
    else:
        raise BackupError(f"No restore method for {backend}.")


def _run(command: list[str], env: dict[str, str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (Debian package postgresql-client).")
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[:500]}")
