"""Letters in the browser: the button starts a background job; its page shows progress,
then the download and the confirmation that the letters were sent."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from playwright.sync_api import Page

#: A job worker that takes longer than this to lay out a few letters is not running.
WAIT_MS = 120_000


def letters_from_job(page: Page, button: str, *, confirm: bool = True) -> zipfile.ZipFile:
    """Click ``button``, wait on the job's page for the letters, download them, confirm."""
    page.get_by_role("button", name=button).click()
    page.wait_for_url("**/staff/jobs/*")
    page.locator("#download-letters").wait_for(timeout=WAIT_MS)
    with page.expect_download() as download:
        page.locator("#download-letters").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
    if confirm:
        page.locator("#confirm-sent").click()
        page.get_by_text("Sent on").wait_for()
    return archive
