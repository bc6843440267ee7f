"""What commands read from the settings, with or without the app."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import current_app

from surveyapp.config import read_environment

#: Who the audit log names for every change made from the command line.
ACTOR = "surveyapp cli"


def settings() -> Mapping[str, Any]:
    """The app's settings inside a command that created it, else the ``SURVEYAPP_*`` ones.

    File-only commands never create the app: creating it refuses production settings without
    a secret, and checking an instrument or compiling catalogs needs none.
    """
    if current_app:
        return current_app.config
    return read_environment()


def instruments_dir() -> Path:
    """The folder of instrument files (``<id>/<version>.yaml``)."""
    return Path(settings()["INSTRUMENTS_DIR"])


def translations_dir() -> Path:
    """The folder of translation catalogs."""
    return Path(settings()["BABEL_TRANSLATION_DIRECTORIES"])


def base_url() -> str:
    """The address residents and staff reach the app at, e.g. for links in letters."""
    return str(settings()["BASE_URL"])
