"""The `surveyapp` command as an operator meets it: help, settings, configuration errors.

These run the command in a fresh process with a production environment that has no
secret (SURVEYAPP_ENV unset means production), as on a server before it is configured.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import surveyapp.cli as cli_package
from surveyapp.cli import main

from ..conftest import CORE_INSTRUMENT

SECRET_ERROR = "Error: SURVEYAPP_SECRET_KEY is missing"


def production_environment(**extra: str) -> dict[str, str]:
    """This process's environment without any SURVEYAPP_* setting, plus ``extra``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SURVEYAPP_", "FLASK_"))}
    return clean | extra


def run_surveyapp(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m surveyapp.cli ARGS`` in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "surveyapp.cli", *args],
        cwd=cwd,
        env=production_environment(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def own_commands() -> set[str]:
    """Names of the top-level commands and groups defined in the surveyapp.cli modules."""
    commands: list[click.Command] = []
    for module in pkgutil.iter_modules(cli_package.__path__):
        if module.name == "__main__":
            continue
        namespace = vars(importlib.import_module(f"surveyapp.cli.{module.name}"))
        commands += [obj for obj in namespace.values() if isinstance(obj, click.Command)]
    nested = {
        id(sub) for c in commands if isinstance(c, click.Group) for sub in c.commands.values()
    }
    return {c.name for c in commands if id(c) not in nested and c is not main}


def listed_commands(help_text: str) -> set[str]:
    """The command names in the "Commands:" section of a --help page."""
    section = help_text.split("Commands:", 1)[1]
    return set(re.findall(r"^  (\S+)", section, flags=re.MULTILINE))


def test_help_lists_every_command_group_without_settings(tmp_path: Path) -> None:
    result = run_surveyapp("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    listed = listed_commands(result.stdout)
    assert own_commands() <= listed
    assert listed == set(main.list_commands(click.Context(main)))
    known = {"db", "users", "instruments", "cities", "areas", "initiatives", "waves"}
    known |= {"invitations", "audit", "i18n", "data", "tokens", "retention", "demo"}
    known |= {"run", "shell", "routes", "limiter"}
    assert known <= listed


def test_every_group_defined_is_registered() -> None:
    assert own_commands() <= set(main.commands)


@pytest.mark.parametrize("group", ["db", "waves", "tokens", "i18n", "instruments"])
def test_help_of_a_group_needs_no_settings(group: str) -> None:
    result = CliRunner().invoke(main, [group, "--help"], env=production_environment())
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_file_commands_run_in_production_without_a_secret(tmp_path: Path) -> None:
    validated = run_surveyapp("instruments", "validate", str(CORE_INSTRUMENT), cwd=tmp_path)
    assert validated.returncode == 0, validated.stderr
    assert "1 file(s) valid." in validated.stdout
    form = tmp_path / "form.xlsx"
    args = ("instruments", "export-xlsform", "social-cohesion-safety", "1.0.0", str(form))
    exported = run_surveyapp(*args, "--languages", "en,fr", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert form.stat().st_size > 5000


def test_translation_status_runs_in_production_without_a_secret() -> None:
    result = CliRunner().invoke(main, ["i18n", "status", "--json"], env=production_environment())
    assert result.exit_code == 0, result.output
    assert '"language": "fr"' in result.output


def test_file_commands_read_the_folders_from_the_environment(tmp_path: Path) -> None:
    (tmp_path / "social-cohesion-safety").mkdir()
    copy = tmp_path / "social-cohesion-safety" / "1.0.0.yaml"
    copy.write_text(CORE_INSTRUMENT.read_text(encoding="utf-8"), encoding="utf-8")
    env = production_environment(SURVEYAPP_INSTRUMENTS_DIR=str(tmp_path))
    result = CliRunner().invoke(main, ["instruments", "validate"], env=env)
    assert result.exit_code == 0, result.output
    empty = production_environment(SURVEYAPP_INSTRUMENTS_DIR=str(tmp_path / "none"))
    result = CliRunner().invoke(main, ["instruments", "validate"], env=empty)
    assert result.exit_code != 0 and "No instrument files found." in result.output


def test_a_missing_secret_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    result = run_surveyapp("db", "upgrade", cwd=tmp_path)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(SECRET_ERROR)
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["demo"], {}, SECRET_ERROR),
        (["waves", "tick"], {"SURVEYAPP_SECRET_KEY": "change-me"}, SECRET_ERROR),
        (["audit", "x"], {"SURVEYAPP_ENV": "staging"}, "Error: SURVEYAPP_ENV='staging' is not"),
    ],
)
def test_configuration_errors_are_one_line(args: list[str], env: dict, message: str) -> None:
    result = CliRunner().invoke(main, args, env=production_environment(**env))
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), result.output


@pytest.mark.parametrize("args", [["waves", "tick"], ["db", "upgrade"], ["db", "check"]])
def test_an_unreachable_database_is_one_line(args: list[str], tmp_path: Path) -> None:
    env = production_environment(
        SURVEYAPP_ENV="development",
        SURVEYAPP_DATABASE_URL=f"sqlite:///{tmp_path / 'missing' / 'folder' / 'db.sqlite'}",
    )
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: Cannot reach the database"), lines


def test_a_database_url_that_is_no_url_is_one_line() -> None:
    env = production_environment(SURVEYAPP_ENV="development", SURVEYAPP_DATABASE_URL="nonsense")
    result = CliRunner().invoke(main, ["db", "upgrade"], env=env)
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: SURVEYAPP_DATABASE_URL is not usable: "
        "Could not parse SQLAlchemy URL from given URL string"
    )
