"""A stand-in for ``systemctl`` in the walk-through's smoke test, where there is no systemd.

It runs what the installed unit files say, as far as a test can: a service's
``EnvironmentFile=``, ``Environment=``, ``WorkingDirectory=`` and ``ExecStart=`` lines,
started from systemd's own minimal environment (so a unit that relies on the caller's
shell fails here too). ``Type=oneshot`` services run to the end (``start`` fails when they
do); other services start in the background, their output in ``STATE/<unit>.log``. A
timer is checked (its service exists) and recorded, not scheduled. ``User=`` must be the
user running the test (the walk-through's ``sed`` sets it); sandboxing options
(``ProtectSystem=`` and the like) are not applied.

Usage: ``systemctl COMMAND [--now] UNIT...`` with ``SMOKE_UNITS`` (the folder the
walk-through installs units into) and ``SMOKE_STATE`` (pids and logs) set.
"""

from __future__ import annotations

import getpass
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

#: systemd's environment for services, before EnvironmentFile= and Environment=.
BASE_ENVIRONMENT = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
}


class UnitError(Exception):
    """What systemctl would report as a failed command."""


def read_unit(path: Path) -> dict[str, list[str]]:
    """``Section.Key`` -> every value given for it, in order (ExecStart= may repeat)."""
    if not path.is_file():
        raise UnitError(f"Unit {path.name} not found in {path.parent}.")
    unit: dict[str, list[str]] = {}
    section = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        unit.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return unit


def environment(unit: dict[str, list[str]]) -> dict[str, str]:
    """The service's environment: systemd's base, then its files, then Environment=."""
    env = dict(BASE_ENVIRONMENT)
    for name in unit.get("Service.EnvironmentFile", []):
        for line in Path(name.lstrip("-")).read_text().splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                key, _, value = line.partition("=")
                env[key.strip()] = value.strip().strip("'\"")
    for assignments in unit.get("Service.Environment", []):
        for assignment in shlex.split(assignments):
            key, _, value = assignment.partition("=")
            env[key] = value
    return env


class Systemd:
    """The units in ``units`` and the processes started for them, tracked in ``state``."""

    def __init__(self, units: Path, state: Path) -> None:
        self.units, self.state = units, state
        state.mkdir(parents=True, exist_ok=True)

    def _service(self, name: str) -> dict[str, list[str]]:
        unit = read_unit(self.units / name)
        user = unit.get("Service.User", [getpass.getuser()])[-1]
        if user != getpass.getuser():
            raise UnitError(f"{name}: User={user}, but the test runs as {getpass.getuser()}.")
        if not unit.get("Service.ExecStart"):
            raise UnitError(f"{name} has no ExecStart=.")
        return unit

    def _pid(self, name: str) -> int | None:
        pid_file = self.state / f"{name}.pid"
        if not pid_file.exists():
            return None
        pid = int(pid_file.read_text())
        return pid if _alive(pid) else None

    def start(self, name: str) -> None:
        if name.endswith(".timer"):
            timer = read_unit(self.units / name)
            service = timer.get("Timer.Unit", [name.removesuffix(".timer") + ".service"])[-1]
            self._service(service)
            (self.state / f"{name}.enabled").touch()
            return
        unit = self._service(name)
        env = environment(unit)
        cwd = unit.get("Service.WorkingDirectory", ["/"])[-1]
        log = self.state / f"{name}.log"
        if unit.get("Service.Type", ["simple"])[-1] == "oneshot":
            for command in unit["Service.ExecStart"]:
                with log.open("a") as out:
                    done = subprocess.run(
                        shlex.split(command), cwd=cwd, env=env, stdout=out, stderr=out
                    )
                if done.returncode != 0:
                    tail = "".join(log.read_text().splitlines(keepends=True)[-20:])
                    raise UnitError(f"{name} failed: {command}\n{tail}")
            return
        if self._pid(name):
            return
        with log.open("a") as out:
            process = subprocess.Popen(
                shlex.split(unit["Service.ExecStart"][-1]),
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        (self.state / f"{name}.pid").write_text(str(process.pid))

    def stop(self, name: str) -> None:
        pid = self._pid(name)
        if pid is None:
            return
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while _alive(pid):
            if time.monotonic() > deadline:
                os.killpg(pid, signal.SIGKILL)
            time.sleep(0.1)
        (self.state / f"{name}.pid").unlink()

    def reload(self, name: str) -> None:
        pid = self._pid(name)
        if pid is None:
            raise UnitError(f"{name} is not running.")
        os.kill(pid, signal.SIGHUP)

    def stop_all(self) -> None:
        """Stop every service still running (the test's clean-up)."""
        for pid_file in self.state.glob("*.pid"):
            self.stop(pid_file.name.removesuffix(".pid"))


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, not yet reaped by init, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


def main(argv: list[str]) -> int:
    systemd = Systemd(Path(os.environ["SMOKE_UNITS"]), Path(os.environ["SMOKE_STATE"]))
    command, *rest = argv
    now = "--now" in rest
    names = [arg for arg in rest if not arg.startswith("-")]
    actions = {
        "daemon-reload": [],
        "enable": [systemd.start] if now else [],
        "start": [systemd.start],
        "stop": [systemd.stop],
        "restart": [systemd.stop, systemd.start],
        "reload": [systemd.reload],
    }
    if command not in actions:
        print(f"fake systemctl: {command} is not supported", file=sys.stderr)
        return 2
    try:
        for name in names:
            read_unit(systemd.units / name)
            for action in actions[command]:
                action(name)
    except UnitError as error:
        print(f"fake systemctl: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
