"""gunicorn, run with the shipped configuration, logs no resident: no address, no code."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from surveyapp import migrate

from .conftest import throwaway_database

PROJECT = Path(__file__).resolve().parent.parent
CODE, TOKEN = "K7PMQ2XAHC", "resume-token-Zq8vT3mW9xYb"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, headers: dict[str, str]) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10):
            return 200
    except urllib.error.HTTPError as error:
        return error.code


#: gunicorn's own "combined" format plus the forwarded address: what an operator might set.
COMBINED = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %({x-forwarded-for}i)s'


@pytest.mark.parametrize("log_format", [None, COMBINED], ids=["shipped", "combined"])
def test_access_and_error_logs_hold_no_address_code_token_or_agent(
    tmp_path: Path, log_format: str | None
) -> None:
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    with throwaway_database(tmp_path) as url:
        migrate.upgrade(url)
        port = _free_port()
        env = {
            **os.environ,
            "SURVEYAPP_ENV": "testing",
            "SURVEYAPP_DATABASE_URL": url,
            "SURVEYAPP_BIND": f"127.0.0.1:{port}",
            "SURVEYAPP_WORKERS": "1",
            "SURVEYAPP_ACCESS_LOG": str(access),
            "SURVEYAPP_ERROR_LOG": str(errors),
        }
        command = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py"]
        if log_format:
            command += ["--access-logformat", log_format]
        server = subprocess.Popen(command, cwd=PROJECT, env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"{base}/healthz", timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            headers = {
                "User-Agent": "Mozilla/5.0 (Linux; Android 9; SM-J530F) ResidentPhone/1.0",
                "Referer": f"{base}/i/{CODE}/2",
                "X-Forwarded-For": "198.51.100.23",
            }
            statuses = [
                _get(f"{base}/i/{CODE}", headers),
                _get(f"{base}/i/{CODE}/3?lang=fr", headers),
                _get(f"{base}/r/{TOKEN}/1", headers),
                _get(f"{base}/w/{TOKEN}", headers),
            ]
        finally:
            server.terminate()
            server.wait(timeout=30)
    assert statuses == [404, 404, 404, 404]
    lines = access.read_text().splitlines()
    assert len(lines) >= 4 and any('"GET /i/… HTTP/1.1" 404' in line for line in lines)
    text = access.read_text() + errors.read_text()
    for secret in (CODE, TOKEN, "127.0.0.1 -", "198.51.100.23", "ResidentPhone", "lang=fr"):
        assert secret not in text, secret
