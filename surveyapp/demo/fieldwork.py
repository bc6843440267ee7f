"""The demo's rounds: who answers in each area, by which channel, and the panel part."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
from sqlalchemy.orm import Session

from surveyapp.db import utcnow
from surveyapp.demo import population
from surveyapp.instruments import Item
from surveyapp.models import Channel, City, Response, ResponseStatus, Wave, WaveMode, WaveStatus
from surveyapp.models import Instrument as InstrumentRow

#: How residents arrive: a letter, their area's poster, or the city-wide open link.
CHANNELS = ("letter", "area_link", "self_reported")
CHANNEL_SHARES = (0.6, 0.2, 0.2)
#: Share of city-wide open-link residents who answer "outside the city" or "don't know".
NO_AREA = 0.05
#: Share of the follow-up's letter answers from households that answered the baseline.
PANEL_SHARE = 0.3
LANGUAGES = (("en", 0.8), ("fr", 0.1), ("nl", 0.07), ("ar", 0.03))


@dataclass
class Round:
    """A city-wide round: its name, opening and closing (days before today; negative is
    after today), status, latent shifts per area code and a common trend."""

    name: str
    opened: int
    closes: int
    status: str
    shifts: dict[str, dict[str, float]]
    trend: dict[str, float] = field(default_factory=dict)


def add_round(
    session: Session,
    city: City,
    instrument_row: InstrumentRow,
    spec: Round,
    areas: dict[str, tuple],
    items: list[Item],
    rng: np.random.Generator,
    *,
    per_area: int,
    panel: dict,
) -> tuple[Wave, int]:
    """Create one round over every area of the city with its answers; the wave and count.

    ``panel`` carries the baseline's panel members (by area code: their panel id, latent
    levels, age and gender) to the follow-up, which reuses some of them.
    """
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    wave = Wave(
        city_id=city.id,  # no initiative: a round owned by the city
        instrument_id=instrument_row.id,
        name=spec.name,
        modules=["demographics"],
        languages=["en", "fr", "nl", "ar"],
        mode=WaveMode.BOTH,
        is_panel=True,
        status=spec.status,
        opens_at=today - timedelta(days=spec.opened),
        closes_at=today - timedelta(days=spec.closes),
        open_token=secrets.token_urlsafe(16) if spec.status == WaveStatus.OPEN else None,
        frozen_instrument_hash=instrument_row.content_hash,
    )
    session.add(wave)
    session.flush()
    total = 0
    follow_up = bool(panel)
    for code, (area, profile) in areas.items():
        shift = {c: spec.trend.get(c, 0.0) + spec.shifts.get(code, {}).get(c, 0.0)
                 for c in population.CORE}  # fmt: skip
        # Who answers differs by area (lognormal around per_area).
        count = max(round(per_area / 2), round(per_area * rng.lognormal(0, 0.3)))
        members = panel.setdefault(code, []) if not follow_up else list(panel.get(code, []))
        for index in range(count):
            resident = _resident(rng, profile, wave, shift, members, follow_up)
            session.add(_response(wave, area, index, resident, items, rng, total))
            total += 1
    return wave, total


def _resident(
    rng: np.random.Generator,
    profile: population.AreaProfile,
    wave: Wave,
    shift: dict[str, float],
    members: list,
    follow_up: bool,
) -> dict:
    """One respondent: channel, panel id, age, gender, latent levels."""
    channel = str(rng.choice(CHANNELS, p=CHANNEL_SHARES))
    wave_no = 1 if follow_up else 0
    if follow_up and channel == "letter" and members and rng.random() < PANEL_SHARE:
        panel_id, earlier, age, woman = members.pop(int(rng.integers(len(members))))
        _own, latent = population.latent_levels(profile, wave_no, shift, age, woman, rng, earlier)
        return {"channel": channel, "panel_id": panel_id, "age": age, "woman": woman,
                "latent": latent}  # fmt: skip
    age = population.respondent_age(profile, rng)
    woman = bool(rng.random() < 0.52)
    own, latent = population.latent_levels(profile, wave_no, shift, age, woman, rng)
    panel_id = None
    if channel == "letter":
        panel_id = f"{int(rng.integers(2**62)):016x}"
        if not follow_up:
            members.append((panel_id, own, age, woman))
    return {"channel": channel, "panel_id": panel_id, "age": age, "woman": woman,
            "latent": latent}  # fmt: skip


def _response(
    wave: Wave,
    area,
    index: int,
    resident: dict,
    items: list[Item],
    rng: np.random.Generator,
    serial: int,
) -> Response:
    """The complete response of one resident."""
    source = resident["channel"]
    known = source != "self_reported" or rng.random() >= NO_AREA
    started = wave.opens_at + timedelta(minutes=int(rng.integers(0, 60 * 24 * 12)))
    duration = timedelta(seconds=int(np.clip(rng.normal(420, 90), 120, 1500)))
    languages, shares = zip(*LANGUAGES, strict=True)
    response = Response(
        wave_id=wave.id,
        area_id=area.id if known else None,
        language=str(rng.choice(languages, p=shares)),
        channel=Channel.INVITATION if source == "letter" else Channel.OPEN_LINK,
        status=ResponseStatus.COMPLETE,
        started_on=started.date(),
        submitted_on=(started + duration).date(),
        duration_seconds=int(duration.total_seconds()),
        started_at=None,
        idempotency_key=f"demo-{wave.id}-{serial}",
        quality_flags=[],
        panel_id=resident["panel_id"],
        area_source=source,
        area_reply=None if known else str(rng.choice(["outside_city", "dont_know"])),
        answers=population.answers(
            items, resident["latent"], resident["age"], resident["woman"], rng
        ),
    )
    return response
