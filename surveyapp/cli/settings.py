"""What commands read from the settings, with or without the app."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import ScriptInfo

from surveyapp.config import read_environment

#: Who the audit log names for every change made from the command line.
ACTOR = "surveyapp cli"


class SettingsError(click.ClickException):
    """The app cannot be created with these settings; shown as one line, exit code 1."""


def settings() -> Mapping[str, Any]:
    """The app's settings, or the ``SURVEYAPP_*`` ones when the app refuses them.

    Commands that read files only (checking and exporting instruments, catalogs) need no
    secret: creating the app refuses production settings without one, so they fall back
    to the environment then. The app comes first because a caller may hand the command an
    app of its own (``FlaskCliRunner`` in tests, ``--app``).
    """
    if current_app:
        return current_app.config
    context = click.get_current_context(silent=True)
    info = context.find_object(ScriptInfo) if context else None
    if info is None:
        return read_environment()
    meta = context.find_root().meta
    if "surveyapp.settings" not in meta:
        try:
            meta["surveyapp.settings"] = info.load_app().config
        except SettingsError:
            meta["surveyapp.settings"] = read_environment()
    return meta["surveyapp.settings"]


def instruments_dir() -> Path:
    """The folder of instrument files (``<id>/<version>.yaml``)."""
    return Path(settings()["INSTRUMENTS_DIR"])


def translations_dir() -> Path:
    """The folder of translation catalogs."""
    return Path(settings()["BABEL_TRANSLATION_DIRECTORIES"])


def base_url() -> str:
    """The address residents and staff reach the app at, e.g. for links in letters."""
    return str(settings()["BASE_URL"])
