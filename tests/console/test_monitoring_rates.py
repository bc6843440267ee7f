"""Monitoring's response rate is letters answered per letter sent, and only where letters
went out (issue 20: a wave without letters showed "Response rate 100%")."""

from __future__ import annotations

import hashlib
import re

from flask.testing import FlaskClient

from surveyapp.db import utcnow
from surveyapp.models import Invitation, Response, Role, Wave

from ..conftest import Factory, sign_in


def _answers(make: Factory, wave: Wave, area_id: int, channel: str, count: int) -> None:
    now = utcnow()
    for i in range(count):
        make.session.add(
            Response(
                wave_id=wave.id,
                area_id=area_id,
                language="en",
                channel=channel,
                status="complete",
                submitted_on=now.date(),
                idempotency_key=f"k-{wave.id}-{area_id}-{channel}-{i}-{'x' * 12}",
                quality_flags=[],
                page=1,
            )
        )
    make.session.commit()


def _letters(make: Factory, wave: Wave, area_id: int, count: int) -> None:
    for i in range(count):
        digest = hashlib.sha256(f"{wave.id}-{area_id}-{i}".encode()).hexdigest()
        make.session.add(Invitation(wave_id=wave.id, area_id=area_id, code_hash=digest))
    make.session.commit()


def _area_rows(page: str) -> dict[str, list[str]]:
    table = page.split('id="targets"')[0].split("By area")[-1]
    rows = re.findall(r"<tr><td>([^<]+)</td>((?:<td>[^<]*</td>)+)</tr>", table)
    return {name: re.findall(r"<td>([^<]*)</td>", cells) for name, cells in rows}


def test_response_rate_only_where_letters_went_out(client: FlaskClient, make: Factory) -> None:
    wave = make.wave(mode="both")
    treated = wave.initiative.areas_with_role("treated")[0]
    comparison = wave.initiative.areas_with_role("comparison")[0]
    names = (treated.name, comparison.name)
    # Treated area: 40 letters, 10 answered by code, 12 more by the open link or a poster.
    _letters(make, wave, treated.id, 40)
    _answers(make, wave, treated.id, "invitation", 10)
    _answers(make, wave, treated.id, "open_link", 12)
    # Comparison area: no letters, 15 open-link answers (all completed).
    _answers(make, wave, comparison.id, "open_link", 15)
    sign_in(client, make.user(make.session.get(Wave, wave.id).initiative.city, role=Role.ADMIN))
    rows = _area_rows(client.get(f"/staff/waves/{wave.id}/monitor").get_data(as_text=True))
    letters, _started, completed, rate = rows[names[0]]
    assert (letters, completed, rate) == ("40", "22", "25%")  # 10 of 40, not 22 of 40
    letters, _started, completed, rate = rows[names[1]]
    assert (letters, completed, rate) == ("–", "15", "–")  # no letters: no response rate (was 100%)
