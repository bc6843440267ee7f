"""200 residents behind one address, and ballot stuffing from one address (issue 23).

gunicorn with the production rate limits counted in Redis; every request comes from
127.0.0.1, as residents on a community centre's wifi or a carrier's shared address do.
"""

from __future__ import annotations

import random
import time

import pytest
from sqlalchemy import select

from surveyapp.models import Channel, Response, ResponseStatus

from .conftest import Server
from .driver import CSRF, Resident, Tally

pytestmark = pytest.mark.load


class OneResident(Resident):
    """Answers one questionnaire, by the open link or by typing an invitation code (with a
    typo first, as people do, when ``typo``), pausing ``think`` seconds on average per page."""

    def __init__(
        self, server: Server, tally: Tally, think: float, code: str = "", typo: bool = False
    ) -> None:
        deadline = time.monotonic() + 300
        super().__init__(server.url, server.open_path, server.pages, deadline, tally, think)
        self.code, self.typo = code, typo
        self.refused = 0

    def _pause(self) -> None:
        if self.think:
            time.sleep(random.uniform(0.5, 1.5) * self.think)

    def _ok(self, response) -> None:
        if response.status == 429:
            self.refused += 1
            raise AssertionError("refused")

    def by_code(self) -> None:
        _r, html, _t = self._request("GET", "/")
        csrf = CSRF.search(html).group(1).decode()
        self._pause()
        if self.typo:
            typo = self.code[:-1] + ("A" if self.code[-1] != "A" else "C")
            response, _c, _t = self._request("POST", "/", {"csrf_token": csrf, "code": typo})
            self._ok(response)
            assert response.status == 404, response.status
        response, _c, _t = self._request("POST", "/", {"csrf_token": csrf, "code": self.code})
        self._ok(response)
        assert response.status == 303, response.status
        self.open_path = self._location(response)

    def run(self) -> None:
        try:
            if self.code:
                self.by_code()
            self.questionnaire()
        except AssertionError:
            pass
        finally:
            if self.connection is not None:
                self.connection.close()


def _crowd(server: Server, residents: list[OneResident], every: float) -> None:
    for resident in residents:
        resident.start()
        time.sleep(every)
    for resident in residents:
        resident.join(timeout=300)


def test_two_hundred_residents_behind_one_address(limited_server: Server) -> None:
    """100 by the open link, 100 by typing their code (half of them after a typo),
    arriving one every 0.6 s and spending about a second on each page: far denser than a
    community centre (200 in two minutes, not in an hour), and still nobody is refused.

    The address's allowance for wrong codes (60 a minute) is what bounds the pace: at one
    arrival every 0.3 s with a typo each, 68 residents were refused on their typo."""
    server = limited_server
    tally = Tally()
    residents = []
    for n in range(200):
        code = server.codes[n // 2] if n % 2 else ""
        residents.append(OneResident(server, tally, think=1.0, code=code, typo=n % 4 == 1))
    started = time.monotonic()
    _crowd(server, residents, every=0.6)
    took = time.monotonic() - started
    refused = sum(r.refused for r in residents)
    with server.session() as session:
        sent = session.scalars(
            select(Response).where(Response.status == ResponseStatus.COMPLETE)
        ).all()
    by_channel = {c: sum(r.channel == c for r in sent) for c in (Channel.OPEN_LINK, "invitation")}
    # 100 open-link questionnaires sent within two minutes from one address: at this pace,
    # denser than any community centre, most are flagged as a burst (not refused).
    bursts = sum("completion_burst" in (r.quality_flags or []) for r in sent)
    print(
        f"\n200 residents behind one address in {took:.0f} s: refused {refused}, "
        f"sent {by_channel}, flagged as a burst {bursts}, statuses {tally.statuses}"
    )
    assert refused == 0 and 429 not in tally.statuses, tally.statuses
    assert tally.completed == 200
    assert by_channel == {Channel.OPEN_LINK: 100, "invitation": 100}


def test_a_hundred_completions_in_a_minute_are_flagged(limited_server: Server) -> None:
    """Software sends 100 questionnaires by the open link from one address within a minute,
    a new cookie each time: none is refused (below the flood ceiling), the burst is flagged."""
    server = limited_server
    tally = Tally()
    server.open_path = server.other_open_path  # a wave of its own
    stuffers = [OneResident(server, tally, think=0.0) for _ in range(100)]
    started = time.monotonic()
    _crowd(server, stuffers, every=0.45)
    took = time.monotonic() - started
    with server.session() as session:
        flags = [
            r.quality_flags
            for r in session.scalars(
                select(Response)
                .where(Response.status == ResponseStatus.COMPLETE)
                .order_by(Response.id)
            )
        ]
    flagged = sum("completion_burst" in (f or []) for f in flags)
    print(f"\n100 stuffed in {took:.0f} s: {flagged} flagged, statuses {tally.statuses}")
    assert len(flags) == 100 and 429 not in tally.statuses
    # From the 20th on (81), less a few sent at the same moment as the 19th.
    assert flagged >= 75
