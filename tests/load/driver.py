"""Simulated residents for load and fault tests and the load benchmark (stdlib only).

Each resident is a thread with its own keep-alive HTTP connection and session cookie. It
opens the wave's open link, consents, and answers every page. A page save counts as
*acknowledged* only when the server answered it with a redirect (303); after an error or a
dropped connection the resident sends the same form again, with the same idempotency key,
as a browser's retry would.
"""

from __future__ import annotations

import http.client
import random
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

CSRF = re.compile(rb'name="csrf_token" value="([^"]+)"')
KEY = re.compile(rb'name="idempotency_key" value="([^"]+)"')


@dataclass
class Ack:
    """One acknowledged page save."""

    key: str
    path: str
    answers: dict[str, str]
    outcome: str


@dataclass
class Tally:
    """What all residents saw, shared between threads."""

    acks: list[Ack] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    connection_errors: int = 0
    completed: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, status: int) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1


class Resident(threading.Thread):
    """Answers questionnaires on ``open_path`` until ``deadline`` (time.monotonic)."""

    def __init__(
        self,
        base_url: str,
        open_path: str,
        pages: list[dict[str, str]],
        deadline: float,
        tally: Tally,
        think: float = 0.0,
    ) -> None:
        super().__init__(daemon=True)
        self.think = think
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.open_path, self.pages, self.deadline, self.tally = open_path, pages, deadline, tally
        self.cookie = ""
        self.connection: http.client.HTTPConnection | None = None

    # -- HTTP ----------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: dict[str, str] | None = None):
        for _attempt in range(60):
            if time.monotonic() > self.deadline + 30:
                raise TimeoutError("gave up")
            try:
                if self.connection is None:
                    self.connection = http.client.HTTPConnection(self.host, self.port, timeout=15)
                headers = {"Cookie": self.cookie} if self.cookie else {}
                data = None
                if body is not None:
                    data = urlencode(body)
                    headers["Content-Type"] = "application/x-www-form-urlencoded"
                started = time.perf_counter()
                self.connection.request(method, path, body=data, headers=headers)
                response = self.connection.getresponse()
                content = response.read()
                elapsed = (time.perf_counter() - started) * 1000
            except (OSError, http.client.HTTPException):
                with self.tally.lock:
                    self.tally.connection_errors += 1
                if self.connection is not None:
                    self.connection.close()
                self.connection = None
                time.sleep(0.5)
                continue
            cookie = response.getheader("Set-Cookie")
            if cookie:
                self.cookie = cookie.split(";", 1)[0]
            self.tally.count(response.status)
            if response.status >= 500:
                time.sleep(0.5)  # "Please try again in a moment"
                continue
            return response, content, elapsed
        raise TimeoutError(f"{method} {path} never succeeded")

    def _location(self, response) -> str:
        return urlsplit(response.getheader("Location")).path

    # -- A questionnaire -----------------------------------------------------------------
    def questionnaire(self) -> None:
        _r, html, _t = self._request("GET", self.open_path)
        csrf = CSRF.search(html).group(1).decode()
        consent = {"csrf_token": csrf, "idempotency_key": KEY.search(html).group(1).decode()}
        response, _c, _t = self._request("POST", self.open_path, consent)
        assert response.status == 303, response.status
        path = self._location(response)
        if path.endswith("/area"):  # the wave-wide link asks the neighbourhood first
            reply = {"csrf_token": csrf, "area": "dont_know"}
            response, _c, _t = self._request("POST", path, reply)
            assert response.status == 303, response.status
            path = self._location(response)
        for answers in self.pages:
            if self.think:
                time.sleep(random.uniform(0.5, 1.5) * self.think)  # reading, tapping
            key = secrets.token_urlsafe(24)  # as the page would carry it
            form = {**answers, "csrf_token": csrf, "idempotency_key": key, "nav": "next"}
            response, _c, elapsed = self._request("POST", path, form)
            if response.status != 303:
                raise AssertionError(f"page save answered {response.status}")
            outcome = self._location(response)
            with self.tally.lock:
                self.tally.acks.append(Ack(key, path, answers, outcome))
                self.tally.latencies_ms.append(elapsed)
            path = outcome
        if path.endswith("/thanks"):
            with self.tally.lock:
                self.tally.completed += 1

    def run(self) -> None:
        try:
            while time.monotonic() < self.deadline:
                self.questionnaire()
        except TimeoutError:
            return
        finally:
            if self.connection is not None:
                self.connection.close()


def run_residents(
    base_url: str,
    open_path: str,
    pages: list[dict[str, str]],
    residents: int,
    seconds: float,
    think: float = 0.0,
) -> Tally:
    """Run ``residents`` simulated residents for ``seconds``; returns what they saw.

    ``think`` is the mean time (s) a resident spends on a page before sending it; 0 sends
    the next page as soon as the last one is saved (a stress test).
    """
    tally = Tally()
    deadline = time.monotonic() + seconds
    threads = [
        Resident(base_url, open_path, pages, deadline, tally, think) for _ in range(residents)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    return tally


def verify(session: Any, tally: Tally, page_items: list[list[str]]) -> dict[str, int]:
    """Check the database against the acknowledged saves; returns counts for the report.

    Every acknowledged save is stored exactly once (its key, its answers); every stored page
    is whole (all its items, and a record of its save); nothing half-written remains.
    """
    from sqlalchemy import select

    from surveyapp.models import Answer, PageSubmission, Response

    submissions = {s.idempotency_key: s for s in session.scalars(select(PageSubmission))}
    missing = [ack.key for ack in tally.acks if ack.key not in submissions]
    assert not missing, f"{len(missing)} acknowledged saves are not in the database"
    by_response: dict[int, dict[str, str]] = {}
    for ack in tally.acks:
        by_response.setdefault(submissions[ack.key].response_id, {}).update(ack.answers)
    answers: dict[int, dict[str, int]] = {}
    for answer in session.scalars(select(Answer)):
        answers.setdefault(answer.response_id, {})[answer.item_id] = answer.value_code
    for response_id, expected in by_response.items():
        stored = answers.get(response_id, {})
        for field_name, value in expected.items():
            item = field_name.removeprefix("q-")
            assert stored.get(item) == int(value), (response_id, item, stored.get(item), value)
    # Whole pages only: a page's answers exist exactly when its save was recorded.
    pages_saved: dict[int, set[int]] = {}
    for submission in submissions.values():
        pages_saved.setdefault(submission.response_id, set()).add(submission.page)
    for response_id, stored in answers.items():
        for number, items in enumerate(page_items, start=1):
            present = [i for i in items if i in stored]
            assert len(present) in (0, len(items)), (response_id, number, present)
            assert bool(present) == (number in pages_saved.get(response_id, set())), (
                response_id,
                number,
            )
    complete = session.scalars(select(Response).where(Response.status == "complete")).all()
    for response in complete:
        stored = answers.get(response.id, {})
        assert len(stored) == sum(len(items) for items in page_items), response.id
    return {
        "acknowledged": len(tally.acks),
        "stored_page_saves": len(submissions),
        "responses": len(answers),
        "complete": len(complete),
    }
