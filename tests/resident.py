"""A resident on the questionnaire pages, driven like a browser by the Flask test client."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient


def idempotency_key(page: bytes) -> str:
    """The submission key a questionnaire page carries in its form."""
    match = re.search(rb'name="idempotency_key" value="([^"]+)"', page)
    assert match, "page has no idempotency key"
    return match.group(1).decode()


def past_area_step(client: FlaskClient, url: str, area: str = "dont_know") -> str:
    """The questionnaire page a just-started open-link draft goes on to: a wave-wide link
    first asks "Which neighbourhood do you live in?", answered here with ``area``."""
    if url.endswith("/area"):
        posted = client.post(url, data={"area": area})
        assert posted.status_code == 303, posted.data[:300]
        return posted.location
    return url


class Resident:
    """Drives the resident pages like a browser: follows redirects, reuses rendered keys."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.url = ""
        self.html = b""

    def open(self, url: str) -> int:
        page = self.client.get(url)
        while page.status_code in (302, 303):
            url = page.location
            page = self.client.get(url)
        self.url, self.html = url, page.data
        return page.status_code

    def consent(self, area: str | None = "dont_know") -> str:
        """Agree on the welcome page; a wave-wide open link then asks the neighbourhood,
        answered with ``area`` (an area id or a reply), or left on that page if None."""
        posted = self.client.post(self.url, data={"idempotency_key": idempotency_key(self.html)})
        assert posted.status_code == 303, posted.data[:300]
        self.open(posted.location)
        if area is not None and self.url.endswith("/area"):
            self.choose_area(area)
        return self.url

    def choose_area(self, area: str) -> int:
        """Answer "Which neighbourhood do you live in?" with an area id or a reply."""
        posted = self.client.post(self.url, data={"area": area})
        if posted.status_code == 303:
            self.open(posted.location)
            return 303
        self.html = posted.data
        return posted.status_code

    def submit(self, answers: dict[str, Any], nav: str = "next", **extra: str) -> int:
        data = answers | {"idempotency_key": idempotency_key(self.html), "nav": nav} | extra
        posted = self.client.post(self.url, data=data)
        if posted.status_code == 303:
            if posted.location.endswith("/thanks"):
                self.url, self.html = posted.location, self.client.get(posted.location).data
                return 303
            self.open(posted.location)
            return 303
        self.html = posted.data
        return posted.status_code

    @property
    def text(self) -> str:
        return self.html.decode()
