"""Extension objects, created once and bound to the app in ``create_app``."""

import time

import flask_compress
from flask_babel import Babel
from flask_limiter import Limiter
from flask_wtf import CSRFProtect

from surveyapp.db import Database

db = Database()
babel = Babel()
csrf = CSRFProtect()


class Compress(flask_compress.Compress):
    """Flask-Compress, also for error pages (4xx and 5xx), which it leaves uncompressed.

    A page with errors to fix (422) is the heaviest resident page. Only the status check is
    bypassed: the response is handed over as a 200 and given its status back.
    """

    def after_request(self, response):  # type: ignore[no-untyped-def]
        status = response.status_code if response is not None else 200
        if status < 400:
            return super().after_request(response)
        response.status_code = 200
        try:
            # No ETag or Last-Modified on these pages: the conditional check never makes a 304.
            return super().after_request(response)
        finally:
            response.status_code = status


compress = Compress()

# Rate limits. Keys are chosen per limit (the sign-in limit counts failures per e-mail
# address); nothing is stored beyond the limiter's counters. In-memory storage by default;
# set SURVEYAPP_RATELIMIT_STORAGE_URI (e.g. redis://127.0.0.1:6379) to share counters
# between server processes. When that storage cannot be reached (Redis restarting, down),
# residents must still be able to answer: each process then counts in its own memory, with
# the same limits, and goes back to the shared storage once it answers again (checked at
# growing intervals); an error while counting after a page was saved is logged, not shown.
limiter = Limiter(
    key_func=lambda: "global",
    default_limits=[],
    in_memory_fallback_enabled=True,
    swallow_errors=True,
)


def retry_after() -> int:
    """Seconds until the limit this request went over lets it through again (at least 1)."""
    current = limiter.current_limit
    if current is None or not current.breached:
        return 60
    try:
        return max(1, int(current.reset_at - time.time()))
    except Exception:  # the counters' storage went away between counting and asking
        return 60
