"""Runs the walk-through in docs/operations.md as written, in a throw-away environment.

Every fenced ``sh`` block in the file carries a mark: ``<!-- smoke -->`` (run it) or
``<!-- smoke: skip (why) -->``. The first block (step 0, the settings) is pasted before
every other block, as a reader opening a new shell would; each block runs in its own
``bash -euo pipefail``, with no terminal and no input, and nothing is echoed (the blocks
generate secrets). The environment differs from a server only in what the settings block
lets the test choose:

- ``PREFIX``: a temporary folder standing for ``/`` (with the empty ``srv/``,
  ``etc/systemd/system/`` and ``var/backups/`` a Debian server has);
- ``REPO_URL``: a git repository holding this checkout's files as they are on disk;
- ``APP_USER``: the user running the test (no system user is created); ``runuser`` is
  replaced by one that only accepts that user, ``systemctl`` by ``fake_systemctl.py``;
- ``DB_NAME``/``DB_ROLE``: new ones on the PostgreSQL server of the test suite, reached
  as its superuser through ``PG*`` variables (``PG_SUPERUSER`` empty), dropped afterwards;
- ``APP_PORT``: a free port; ``REDIS_URL``: database 14 of the local Redis;
- ``BACKUP_PUBLIC_KEY``/``BACKUP_KEY``: an age key pair made for the test (on a server,
  the private key is made elsewhere and only copied in for a restore).
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

from .fake_systemctl import Systemd

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parents[1]
DOC = PROJECT / "docs" / "operations.md"

_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.M | re.S)
_MARK = re.compile(r"<!-- smoke(?::\s*skip \((?P<why>.+?)\))? -->\s*\n\Z", re.S)
_HEADING = re.compile(r"^#{2,3} (.+)$", re.M)

FAKE_RUNUSER = """#!/bin/sh
# runuser for the walk-through's smoke test: it can only "become" the user running it.
if [ "$1" != -u ] || [ "$3" != -- ]; then
    echo "fake runuser: only 'runuser -u USER -- COMMAND' is supported" >&2; exit 2
fi
if [ "$2" != "$(id -un)" ]; then echo "fake runuser: cannot become $2" >&2; exit 1; fi
shift 3
exec "$@"
"""


@dataclass
class Block:
    """One shell block of the walk-through: the heading it is under, its code, and why it
    is skipped (``None``: it is run)."""

    heading: str
    code: str
    skip: str | None


def blocks(text: str) -> list[Block]:
    """The ``sh`` blocks of ``text`` in order; each must carry a smoke mark."""
    found = []
    for match in _BLOCK.finditer(text):
        before = text[: match.start()]
        mark = _MARK.search(before[-400:])
        headings = _HEADING.findall(before)
        heading = headings[-1] if headings else "(top)"
        if mark is None:
            raise ValueError(f"A sh block under {heading!r} has no <!-- smoke --> mark.")
        found.append(Block(heading, match.group(1), mark.group("why")))
    return found


@dataclass
class Walkthrough:
    """The throw-away environment in ``root`` and what was run in it."""

    root: Path
    pg_admin_url: str
    admin_password: str
    env: dict[str, str] = field(default_factory=dict)
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def prefix(self) -> Path:
        return self.root / "server"

    @property
    def log(self) -> Path:
        return self.root / "walkthrough.log"

    @property
    def systemd(self) -> Systemd:
        return Systemd(Path(self.env["SMOKE_UNITS"]), Path(self.env["SMOKE_STATE"]))

    def prepare(self, name: str, app_port: int) -> None:
        """The empty server, the repository, the stand-ins and the variables."""
        for folder in ("srv", "etc/systemd/system", "var/backups"):
            (self.prefix / folder).mkdir(parents=True)
        tools = self.root / "bin"
        tools.mkdir()
        (tools / "runuser").write_text(FAKE_RUNUSER)
        (tools / "systemctl").write_text(
            f'#!/bin/sh\nexec "{sys.executable}" "{HERE / "fake_systemctl.py"}" "$@"\n'
        )
        for tool in tools.iterdir():
            tool.chmod(0o755)
        key = self.root / "backup-key.txt"
        subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
        public = subprocess.run(
            ["age-keygen", "-y", str(key)], check=True, capture_output=True, text=True
        ).stdout.strip()
        admin = make_url(self.pg_admin_url)
        self.env = {
            **_clean_environment(),
            "PATH": f"{tools}:{_path_without_this_venv()}",
            "PREFIX": str(self.prefix),
            "REPO_URL": str(_snapshot(self.root / "repo")),
            "APP_USER": getpass.getuser(),
            "APP_PORT": str(app_port),
            "DB_NAME": name,
            "DB_ROLE": name,
            "DB_ADDRESS": f"{admin.host or '127.0.0.1'}:{admin.port or 5432}",
            "REDIS_URL": "redis://127.0.0.1:6379/14",
            "PG_SUPERUSER": "",
            "PGHOST": admin.host or "127.0.0.1",
            "PGPORT": str(admin.port or 5432),
            "PGUSER": admin.username or "postgres",
            "PGDATABASE": admin.database or "postgres",
            "BACKUP_PUBLIC_KEY": public,
            "BACKUP_KEY": str(key),
            # `users create` asks for the password; with no terminal, it is taken from here.
            "SURVEYAPP_NEW_USER_PASSWORD": self.admin_password,
            "SMOKE_UNITS": str(self.prefix / "etc/systemd/system"),
            "SMOKE_STATE": str(self.root / "systemd"),
        }
        if admin.password:
            self.env["PGPASSWORD"] = str(admin.password)

    def run(self, doc: Path = DOC) -> None:
        """Run the marked blocks in order; raise with the output of the one that fails."""
        settings, *steps = blocks(doc.read_text())
        if settings.skip:
            raise ValueError("The first block (the settings) must be run.")
        with self.log.open("w") as out:
            for block in [settings, *steps]:
                if block.skip:
                    self.skipped.append(block.heading)
                    out.write(f"\n## SKIPPED {block.heading}: {block.skip}\n")
                    continue
                script = block.code if block is settings else f"{settings.code}\n{block.code}"
                out.write(f"\n## {block.heading}\n")
                out.flush()
                started = time.monotonic()
                done = subprocess.run(
                    ["bash", "-euo", "pipefail", "-c", script],
                    cwd=self.root,
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    timeout=600,
                )
                self.seconds[block.heading] = round(time.monotonic() - started, 1)
                self.ran.append(block.heading)
                if done.returncode != 0:
                    out.flush()
                    tail = "".join(self.log.read_text().splitlines(keepends=True)[-30:])
                    raise AssertionError(
                        f"The block under {block.heading!r} failed ({done.returncode}):\n{tail}"
                    )


def _clean_environment() -> dict[str, str]:
    """The test's environment without the app's settings and this virtualenv's traces."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SURVEYAPP_", "PYTHON", "PG")) and key != "VIRTUAL_ENV"
    }


def _path_without_this_venv() -> str:
    here = str(Path(sys.prefix) / "bin")
    return ":".join(p for p in os.environ.get("PATH", "").split(":") if p and p != here)


def _snapshot(target: Path) -> Path:
    """A git repository with this checkout's files as on disk (committed or not)."""
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=PROJECT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\0")
    for name in filter(None, files):
        source = PROJECT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    git = ["git", "-c", "user.name=smoke", "-c", "user.email=smoke@example.org"]
    subprocess.run([*git, "init", "--quiet", "-b", "main"], cwd=target, check=True)
    subprocess.run([*git, "add", "--all"], cwd=target, check=True)
    subprocess.run([*git, "commit", "--quiet", "-m", "snapshot"], cwd=target, check=True)
    return target
