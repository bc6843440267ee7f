"""Invitation letters through the console, as staff get them: a background job, then its ZIP.

The test app's queue is ``memory://``: the job runs inside the request that starts it, so
the job's page is done when the request returns.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping

from flask.testing import FlaskClient


def start(
    client: FlaskClient, url: str, data: Mapping[str, str], headers: Mapping[str, str] | None = None
) -> str:
    """Post a letters form; the URL of the job's page it leads to."""
    started = client.post(url, data=data, headers=headers)
    assert started.status_code == 303, started.get_data(as_text=True)[:500]
    assert "/staff/jobs/" in started.location, client.get(started.location).get_data(as_text=True)
    return started.location


def download(client: FlaskClient, job_url: str) -> zipfile.ZipFile:
    """The job's ZIP (letters PDF and codes.csv)."""
    got = client.get(f"{job_url}/letters.zip")
    assert got.status_code == 200 and got.mimetype == "application/zip", got.status_code
    return zipfile.ZipFile(io.BytesIO(got.data))


def letters_zip(
    client: FlaskClient,
    url: str,
    data: Mapping[str, str],
    headers: Mapping[str, str] | None = None,
    *,
    confirm: bool = True,
) -> zipfile.ZipFile:
    """Start the job, download its ZIP and (by default) confirm the letters were sent."""
    job_url = start(client, url, data, headers)
    archive = download(client, job_url)
    if confirm:
        assert client.post(f"{job_url}/confirm").status_code == 303
    return archive
