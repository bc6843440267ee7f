"""What the deployment tests share: free ports, waiting for a server, the tools they need."""

from __future__ import annotations

import os
import shutil
import socket
import time
import urllib.request

import pytest


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, seconds: float = 20) -> None:
    """Return once ``url`` answers 200; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def wait_for_port(port: int, seconds: float = 20) -> None:
    """Return once something accepts connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def require_tools(*names: str) -> dict[str, str]:
    """Each tool's path (``/usr/sbin`` included, for nginx). A missing one skips the test,
    except in CI, where it fails: `make deploy-tools` installs them there, so a missing
    one is a broken CI set-up, not a reason to skip."""
    search = f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin"
    found = {name: shutil.which(name, path=search) for name in names}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        message = f"{', '.join(missing)} not installed (make deploy-tools installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return {name: str(path) for name, path in found.items()}
