"""gunicorn's logs without residents in them (``deploy/gunicorn.conf.py`` selects this).

gunicorn's usual access log line holds the client's address, the request line with the
invitation code or resume token in its path, the Referer (a page URL with the code) and the
User-Agent; its error log names the path of a request that failed. This logger class gives
every access-log atom that could identify a resident a neutral value, masks codes and tokens
in paths (:func:`surveyapp.logs.private`), and filters the error log the same way, whatever
``access_log_format`` an operator writes.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

from surveyapp.logs import PrivateRequestLog, private

#: Atoms that name the client or where it came from: never logged.
HIDDEN_ATOMS = ("h", "u", "f", "a", "q")
#: A query string in a request line: left out (it can carry a page to return to, a token).
_QUERY = re.compile(r"\?\S*")
#: Atoms holding the path: logged with codes and tokens masked.
PATH_ATOMS = ("r", "U")


class PrivateGunicornLogger(Logger):
    """gunicorn's logger with addresses, agents, referrers, headers and codes left out."""

    def setup(self, cfg: Any) -> None:
        """Set up gunicorn's handlers, then filter the error log."""
        super().setup(cfg)
        if not any(isinstance(f, PrivateRequestLog) for f in self.error_log.filters):
            self.error_log.addFilter(PrivateRequestLog())

    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict[str, Any]:
        """The access-log atoms, with everything that could identify a resident removed."""
        atoms = super().atoms(resp, req, environ, request_time)
        for key in list(atoms):
            # {header}i, {header}o and {variable}e: cookies, X-Forwarded-For, REMOTE_ADDR...
            if key.startswith("{"):
                atoms[key] = "-"
        for key in HIDDEN_ATOMS:
            atoms[key] = "-"
        for key in PATH_ATOMS:
            atoms[key] = private(_QUERY.sub("", str(atoms[key])))
        return atoms
