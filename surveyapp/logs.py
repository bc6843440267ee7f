"""Server logs without residents in them: no addresses, no invitation codes, no resume tokens.

The development server (``surveyapp run``, ``make run``) logs every request as
``127.0.0.1 - - [date] "GET /i/K7PM-Q2XA HTTP/1.1" 200 -``: the resident's address next to
their invitation code, which in a panel wave leads to their name on the letter list. The
filter below removes the address and masks the codes and tokens in paths before any handler
sees the line. (gunicorn, the production server, writes no access log unless asked;
docs/operations.md says which format to use then.)
"""

from __future__ import annotations

import logging
import re

from flask import Flask

#: ``<address> - - [`` at the start of a werkzeug request or error line.
_ADDRESS = re.compile(r"^\S+ - - \[")
#: Invitation codes (/i/), resume tokens (/r/) and open-link tokens (/w/) in paths, and staff
#: sign-up and password links (/staff/join/, /staff/reset/, also URL-encoded in ``next=``).
_SECRET_PATH = re.compile(
    r"(/[irw]/|(?:/|%2F)staff(?:/|%2F)(?:join|reset)(?:/|%2F))[^/\s?#&\"%]+", re.IGNORECASE
)


def private(line: str) -> str:
    """``line`` without its client address and with codes and tokens masked."""
    line = _ADDRESS.sub("- - - [", line, count=1)
    return _SECRET_PATH.sub(r"\1…", line)


class PrivateRequestLog(logging.Filter):
    """Rewrites werkzeug's request lines with :func:`private` (see the module notes)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = private(record.getMessage()), None
        return True


def init_app(app: Flask) -> None:
    """Filter the development server's request log and the app's error log (which names the
    path of a request that failed)."""
    for logger in (logging.getLogger("werkzeug"), app.logger):
        if not any(isinstance(f, PrivateRequestLog) for f in logger.filters):
            logger.addFilter(PrivateRequestLog())
