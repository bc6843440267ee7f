"""The reverse proxy in front of the app: whose ``X-Forwarded-*`` headers are trusted.

Behind ``SURVEYAPP_PROXY_HOPS`` proxies, werkzeug's ProxyFix takes the client's address and
scheme from the last that many ``X-Forwarded-For``/``-Proto`` entries. Left at 0 behind a
proxy, every resident appears to come from the proxy's address and all share one rate
limit: the first ``X-Forwarded-For`` a process sees is then logged as a warning, once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

#: Logged once per process when a proxy forwards addresses that the app does not trust.
UNTRUSTED_FORWARDING = (
    "Requests carry X-Forwarded-For but SURVEYAPP_PROXY_HOPS is 0: every client appears "
    "to come from the proxy's address and shares one rate limit. Behind one reverse "
    "proxy set SURVEYAPP_PROXY_HOPS=1 (docs/operations.md)."
)


class ForwardingWatch:
    """WSGI middleware that warns, once, about ``X-Forwarded-For`` it is not told to trust."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]], logger: logging.Logger) -> None:
        self.wsgi_app = wsgi_app
        self.logger = logger
        self.warned = False

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if not self.warned and "HTTP_X_FORWARDED_FOR" in environ:
            self.warned = True
            self.logger.warning(UNTRUSTED_FORWARDING)
        return self.wsgi_app(environ, start_response)


def init_app(app: Flask) -> None:
    """Trust ``PROXY_HOPS`` proxies, or watch for forwarded headers when there are none."""
    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    else:
        app.wsgi_app = ForwardingWatch(app.wsgi_app, app.logger)  # type: ignore[method-assign]
