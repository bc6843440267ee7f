"""``surveyapp run``: Flask's development server, refused off loopback with a known secret.

The development secret key is published in this repository. A development server reachable
from other machines with that key lets anyone who can reach it forge a staff session (the
session cookie is only signed with it), so ``run`` on a non-loopback address needs a secret
of its own (``SURVEYAPP_SECRET_KEY``).
"""

from __future__ import annotations

import ipaddress
from typing import Any

import click
from flask.cli import run_command

from surveyapp.config import KNOWN_DEFAULT_SECRETS, load_config


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` is only reachable from this machine."""
    if not host or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve to anything


def _guarded(*args: Any, **kwargs: Any) -> Any:
    host = kwargs.get("host")
    if not is_loopback(host):
        secret = load_config().get("SECRET_KEY") or ""
        if secret in KNOWN_DEFAULT_SECRETS or len(secret) < 32:
            raise click.UsageError(
                f"Refusing to serve on {host} with the development secret key: anyone who can "
                "reach this server could forge a staff session. Set SURVEYAPP_SECRET_KEY to a "
                "secret of your own, or serve on 127.0.0.1."
            )
    return run_command.callback(*args, **kwargs)


run_guarded = click.Command(
    "run",
    callback=_guarded,
    params=list(run_command.params),
    help=run_command.help,
    short_help=run_command.short_help,
)
