"""deploy/nginx/surveyapp.conf: nginx's access log holds no code, token or client address.

The first test reads the log maps out of the shipped file and checks them, with Python's
regular expressions, against the masking of surveyapp's own logs. The second runs the file
(ports, certificate and log paths changed) in a real nginx in front of gunicorn.
"""

from __future__ import annotations

import http.client
import os
import re
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from surveyapp import migrate
from surveyapp.logs import private

from ..conftest import throwaway_database
from .servers import free_port, require_tools, wait_for, wait_for_port

PROJECT = Path(__file__).resolve().parents[2]
NGINX_CONF = PROJECT / "deploy" / "nginx" / "surveyapp.conf"
DOMAIN = "survey.city.example"
CODE = "K7PMQ2XAHC"
TOKEN = "Zq8vT3mW9xYbresumetoken"
STAFF_TOKEN = "pA9sV2kL0qWeRtYuIoP1aSdFgHjKlZxCvBnM3q4w5e6"
LATER_TOKEN = "Lq0wE9rT8yU7iO6pA5sD4fG3hJ2kL1zX"

#: Paths a resident or a staff member requests, with what nginx should log for them.
SAMPLES = {
    f"/i/{CODE}": "/i/*",
    "/i/K7PM-Q2XA": "/i/*",
    f"/i/{CODE}/3": "/i/*/3",
    f"/r/{TOKEN}": "/r/*",
    f"/r/{TOKEN}/2": "/r/*/2",
    f"/w/{TOKEN}": "/w/*",
    f"/staff/join/{STAFF_TOKEN}": "/staff/join/*",
    f"/staff/reset/{STAFF_TOKEN}": "/staff/reset/*",
    "/staff/reset/short-Token": "/staff/reset/*",
    f"/staff/a-later-link/{LATER_TOKEN}/next": "/staff/a-later-link/*/next",
    "/": "/",
    "/healthz": "/healthz",
    "/thanks": "/thanks",
    "/static/style.css": "/static/style.css",
    "/staff/login": "/staff/login",
    "/staff/waves/12/monitor": "/staff/waves/12/monitor",
    "/api/v1/initiatives/3/changes": "/api/v1/initiatives/3/changes",
}


def _maps(conf: str) -> list[tuple[str, list[tuple[re.Pattern[str], str]]]]:
    """Each ``map`` of the file: its source variable, and its regex entries in order."""
    maps = []
    for source, body in re.findall(r"^map \$(\w+) \$\w+ \{(.*?)^\}", conf, re.M | re.S):
        entries = re.findall(r'"~(.+?)"\s+"(.*?)";', body, re.S)
        # nginx's PCRE names groups (?<name>...); Python spells them (?P<name>...).
        maps.append(
            (
                source,
                [(re.compile(pattern.replace("(?<", "(?P<")), value) for pattern, value in entries],
            )
        )
    return maps


def _nginx_log_path(maps: list, uri: str) -> str:
    """What the maps make of ``uri``: the first matching regex's value, captures filled in."""
    value = uri
    for _source, entries in maps:
        for pattern, template in entries:
            match = pattern.search(value)
            if match:
                groups = {k: v or "" for k, v in match.groupdict().items()}
                value = re.sub(r"\$(\w+)", lambda m, g=groups: g[m.group(1)], template)
                break
    return value


def test_the_log_maps_mask_codes_and_tokens_as_the_app_does() -> None:
    maps = _maps(NGINX_CONF.read_text())
    assert [source for source, _ in maps] == ["uri", "surveyapp_masked_path"]
    assert all(entries for _, entries in maps)
    for uri, expected in SAMPLES.items():
        assert _nginx_log_path(maps, uri) == expected, uri
        if uri.startswith(("/i/", "/r/", "/w/", "/staff/join/", "/staff/reset/")):
            # The same segments that gunicorn's and the development server's logs mask.
            assert private(uri).replace("…", "*") == expected, uri


def _derived_config(tmp: Path, http_port: int, https_port: int, app_port: int) -> Path:
    """The shipped file with test ports, a self-signed certificate and logs in ``tmp``."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", f"/CN={DOMAIN}",
         "-keyout", str(tmp / "privkey.pem"), "-out", str(tmp / "fullchain.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    site = NGINX_CONF.read_text()
    replacements = {
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:80;": "",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "listen [::]:443 ssl http2;": "",
        f"/etc/letsencrypt/live/{DOMAIN}/": f"{tmp}/",
        "/var/log/nginx/": f"{tmp}/",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{app_port};",
    }
    for old, new in replacements.items():
        assert old in site, f"{old!r} is no longer in {NGINX_CONF.name}: update this test"
        site = site.replace(old, new)
    (tmp / "site.conf").write_text(site)
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temp_paths = "\n".join(f"    {kind}_temp_path {tmp}/{kind};" for kind in kinds)
    main = tmp / "nginx.conf"
    main.write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"worker_processes 1;\npid {tmp}/nginx.pid;\nerror_log {tmp}/main-error.log;\n"
        + "events { worker_connections 64; }\n"
        + f"http {{\n{temp_paths}\n    access_log off;\n    include {tmp}/site.conf;\n}}\n"
    )
    return main


def _request(
    port: int,
    path: str,
    secure: bool = True,
    body: bytes | None = None,
    forwarded: str = "198.51.100.23",
    source: str = "127.0.0.1",
):
    if secure:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=10, context=context, source_address=(source, 0)
        )
    else:
        connection = http.client.HTTPConnection(
            "127.0.0.1", port, timeout=10, source_address=(source, 0)
        )
    headers = {
        "Host": DOMAIN,
        "User-Agent": "Mozilla/5.0 (Linux; Android 9) ResidentPhone/1.0",
        "Referer": f"https://{DOMAIN}/i/{CODE}/2",
        "X-Forwarded-For": forwarded,
    }
    connection.request("POST" if body else "GET", path, body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status, response.getheader("Location")


@dataclass
class Proxied:
    """nginx with the shipped site in front of gunicorn with the shipped settings."""

    http_port: int
    https_port: int
    logs: Path


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[Proxied]:
    tools = require_tools("nginx", "openssl")
    http_port, https_port, app_port = free_port(), free_port(), free_port()
    main = _derived_config(tmp_path, http_port, https_port, app_port)
    nginx = [tools["nginx"], "-p", str(tmp_path), "-e", str(tmp_path / "startup-error.log")]
    nginx += ["-c", str(main)]
    check = subprocess.run([*nginx, "-t"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    with throwaway_database(tmp_path) as url:
        migrate.upgrade(url)
        env = {
            **os.environ,
            "SURVEYAPP_ENV": "testing",
            "SURVEYAPP_DATABASE_URL": url,
            "SURVEYAPP_PROXY_HOPS": "1",
            "SURVEYAPP_BIND": f"127.0.0.1:{app_port}",
            "SURVEYAPP_WORKERS": "1",
            "SURVEYAPP_ACCESS_LOG": str(tmp_path / "gunicorn-access.log"),
            "SURVEYAPP_ERROR_LOG": str(tmp_path / "gunicorn-error.log"),
        }
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py"],
            cwd=PROJECT,
            env=env,
        )
        proxy = subprocess.Popen([*nginx, "-g", "daemon off;"])
        try:
            wait_for(f"http://127.0.0.1:{app_port}/healthz")
            wait_for_port(https_port)
            yield Proxied(http_port, https_port, tmp_path)
        finally:
            proxy.terminate()
            gunicorn.terminate()
            proxy.wait(timeout=30)
            gunicorn.wait(timeout=30)


def _access_log(proxied: Proxied, lines: int) -> str:
    """nginx's access log once it has ``lines`` lines: a request is logged when nginx is
    done with it, which for a refused upload is after the client has its answer."""
    path = proxied.logs / "surveyapp.access.log"
    for _ in range(100):
        if len(path.read_text().splitlines()) >= lines:
            break
        time.sleep(0.05)
    log = path.read_text()
    assert len(log.splitlines()) == lines, log
    return log


def test_nginx_in_front_of_gunicorn_logs_no_code_token_or_address(proxied: Proxied) -> None:
    redirect = _request(proxied.http_port, f"/i/{CODE}", secure=False)
    statuses = {path: _request(proxied.https_port, path)[0] for path in SAMPLES}
    too_large = _request(proxied.https_port, "/", body=b"code=" + b"x" * 100_000)
    assert redirect == (301, f"https://{DOMAIN}/i/{CODE}")
    assert statuses["/healthz"] == statuses["/"] == statuses["/static/style.css"] == 200
    assert statuses[f"/i/{CODE}"] == statuses[f"/w/{TOKEN}"] == 404  # answered by the app
    assert too_large[0] == 413  # the app's own page: nginx let the body through
    log = _access_log(proxied, lines=len(SAMPLES) + 2)
    assert '"GET /i/* HTTP/1.1" 404' in log and '"GET /i/*/3 HTTP/1.1" 404' in log
    assert '"GET /staff/join/* HTTP/1.1" 404' in log
    assert '"POST / HTTP/1.1" 413' in log
    everything = log + "".join(
        p.read_text() for p in proxied.logs.glob("*.log") if p.name != "startup-error.log"
    )
    hidden = (CODE, "K7PM-Q2XA", TOKEN, STAFF_TOKEN, "short-Token", "127.0.0.1 ")
    for secret in (*hidden, "198.51.100.23", "ResidentPhone"):
        assert secret not in everything, secret
    # gunicorn's log masks the links the app has (surveyapp/logs.py); nginx also masks any
    # segment long enough to be a token, in case a link is added without telling it.
    assert LATER_TOKEN not in log


def test_nginx_forwards_the_real_client_so_a_forged_address_gains_nothing(
    proxied: Proxied,
) -> None:
    """Code guesses count per address (60 a minute, for clients that keep no cookie): a
    client that forges X-Forwarded-For is still itself, as nginx replaces the header, and
    another client keeps its own allowance."""
    statuses = [
        _request(proxied.https_port, f"/i/GUESS{n:04d}", forwarded=f"203.0.113.{n}")[0]
        for n in range(61)
    ]
    assert statuses == [404] * 60 + [429]
    other = _request(proxied.https_port, "/i/GUESS9999", source="127.0.0.2")[0]
    assert other == 404
