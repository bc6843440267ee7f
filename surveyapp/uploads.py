"""The app's request class: uploaded files stay in memory, never in a temporary file.

Werkzeug spools uploads above 500 KB to a temporary file. A reminder CSV holds a city's
invitation codes beside its residents' addresses, which the platform promises never to
store; every upload is bounded (64 KB app-wide, 20 MB for reminders), so memory suffices.
"""

from __future__ import annotations

import io
from typing import IO

from flask import Request


class InMemoryUploads(Request):
    """A request whose uploaded files are read into memory."""

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        """Werkzeug's documented hook for where an uploaded file goes: here, a buffer."""
        return io.BytesIO()
