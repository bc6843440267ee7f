"""Demo data: one city, four areas, one initiative, two waves and synthetic responses.

The responses come from a latent-factor model: each resident has correlated levels of
trust, participation, belonging and perceived safety; each item reflects its construct
with noise. Between the baseline and the follow-up, the treated areas improve a little
more than the comparison areas, so later analysis has a real (synthetic) effect to find.
Nothing here is real data.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.auth.services import create_user
from surveyapp.db import utcnow
from surveyapp.instruments import Instrument, Item
from surveyapp.instruments.registry import newest_published
from surveyapp.models import (
    Answer,
    Area,
    AreaMargin,
    AreaRole,
    AreaSource,
    AuditEvent,
    Channel,
    City,
    Initiative,
    InitiativeArea,
    Membership,
    PyramidLevel,
    Response,
    ResponseStatus,
    Role,
    User,
    Wave,
    WaveMode,
    WaveStatus,
)
from surveyapp.models import Instrument as InstrumentRow

STANDARD_INSTRUMENT = "social-cohesion-safety"
DEMO_CITY_SLUG = "demo-city"
DEMO_EMAIL = "coordinator@demo.example"
DEMO_PASSWORD = "demo-coordinator-password"  # Printed by `surveyapp demo`; demo only.
CORE = ("trust", "participation", "belonging", "perceived_safety")
# (code, name, role, population)
AREAS = (
    ("riverside", "Riverside", AreaRole.TREATED, 8200),
    ("old-town", "Old Town", AreaRole.TREATED, 6100),
    ("hillcrest", "Hillcrest", AreaRole.COMPARISON, 7400),
    ("station-quarter", "Station Quarter", AreaRole.COMPARISON, 5300),
)
# Shift of the latent means in the follow-up (in SD units): treated areas gain more.
FOLLOW_UP_SHIFT = {AreaRole.TREATED: 0.5, AreaRole.COMPARISON: 0.1}


@dataclass(frozen=True)
class DemoInfo:
    """What the demo command prints."""

    city: City
    open_wave: Wave
    created: bool
    responses: int


class DemoError(ValueError):
    """The demo cannot be built yet; the message says what to run first."""


def create_demo(session: Session) -> DemoInfo:
    """Build the demo from the newest loaded standard instrument (committed by the caller)."""
    row = newest_published(session, STANDARD_INSTRUMENT)
    if row is None:
        raise DemoError(
            "The standard instrument is not loaded yet; run `surveyapp instruments load` first."
        )
    return build_demo(session, row, Instrument.from_definition(row.definition))


def build_demo(
    session: Session,
    instrument_row: InstrumentRow,
    instrument: Instrument,
    *,
    per_wave: int = 200,
    seed: int = 2026,
) -> DemoInfo:
    """Create the demo once; later calls return what exists (committed by the caller)."""
    city = session.scalar(select(City).where(City.slug == DEMO_CITY_SLUG))
    if city is not None:
        return _existing_demo(session, city)

    # One generator, drawn from in a fixed order (margins, then responses), so a seed
    # always gives the same demo.
    rng = np.random.default_rng(seed)
    city, areas = _city_and_areas(session, rng)
    initiative = _initiative(session, city, areas)
    baseline, follow_up = _waves(session, initiative, instrument_row)
    sections = instrument.sections_for(["demographics"])
    items = [item for section in sections for item in section.items]
    total = 0
    for wave, follow in ((baseline, False), (follow_up, True)):
        total += _add_responses(session, wave, follow, areas, items, rng, per_wave)
    _add_coordinator(session, city)
    session.add(AuditEvent(actor="surveyapp demo", city=city, action="demo_created"))
    session.flush()
    return DemoInfo(city, follow_up, True, total)


def _existing_demo(session: Session, city: City) -> DemoInfo:
    """What an earlier call created: the city, its open wave and its responses."""
    wave = session.scalar(
        select(Wave)
        .join(Initiative)
        .where(Initiative.city_id == city.id, Wave.status == WaveStatus.OPEN)
    )
    count = session.scalar(
        select(func.count(Response.id))
        .join(Wave)
        .join(Initiative)
        .where(Initiative.city_id == city.id)
    )
    return DemoInfo(city, wave, False, count)


def _city_and_areas(
    session: Session, rng: np.random.Generator
) -> tuple[City, dict[str, tuple[Area, AreaRole]]]:
    """The demo city and its areas with population margins, by area code with their role."""
    city = City(
        slug=DEMO_CITY_SLUG,
        name="Demo City",
        privacy_contact="privacy@demo.example",
        languages=["en", "fr", "nl"],
        default_language="en",
    )
    session.add(city)
    areas: dict[str, tuple[Area, AreaRole]] = {}
    for code, name, role, population in AREAS:
        area = Area(city=city, code=code, name=name)
        area.margins = _margins(population, rng)
        session.add(area)
        areas[code] = (area, role)
    session.flush()
    return city, areas


def _initiative(
    session: Session, city: City, areas: dict[str, tuple[Area, AreaRole]]
) -> Initiative:
    """The demo initiative, linked to every area in its role."""
    initiative = Initiative(
        city=city,
        name="Neighbourhood hosts",
        description=(
            "Residents trained as hosts organise monthly street meals and welcome "
            "newcomers in Riverside and Old Town."
        ),
        pyramid_level=PyramidLevel.QUALITY_OF_LIFE,
        target_constructs=["trust", "belonging"],
        start_date=date.today() - timedelta(days=150),
    )
    initiative.area_links = [
        InitiativeArea(area=area, city_id=city.id, role=role) for area, role in areas.values()
    ]
    session.add(initiative)
    return initiative


def _waves(
    session: Session, initiative: Initiative, instrument_row: InstrumentRow
) -> tuple[Wave, Wave]:
    """A closed baseline and an open follow-up of the initiative.

    Dates start at midnight (UTC), so that the day each demo answer was sent, and so the
    published sample's order (:func:`surveyapp.reports.published_frame`), does not depend
    on the time of day the demo is built.
    """
    now = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    common = {
        "initiative": initiative,
        "instrument_id": instrument_row.id,
        "modules": ["demographics"],
        "languages": ["en", "fr", "nl", "ar"],
        "mode": WaveMode.BOTH,
        "frozen_instrument_hash": instrument_row.content_hash,
    }
    baseline = Wave(
        name="Baseline",
        status=WaveStatus.CLOSED,
        opens_at=now - timedelta(days=200),
        closes_at=now - timedelta(days=170),
        **common,
    )
    follow_up = Wave(
        name="Follow-up after six months",
        status=WaveStatus.OPEN,
        opens_at=now - timedelta(days=14),
        closes_at=now + timedelta(days=30),
        open_token=secrets.token_urlsafe(16),
        **common,
    )
    session.add_all([baseline, follow_up])
    session.flush()
    return baseline, follow_up


def _add_responses(
    session: Session,
    wave: Wave,
    follow: bool,
    areas: dict[str, tuple[Area, AreaRole]],
    items: list[Item],
    rng: np.random.Generator,
    per_wave: int,
) -> int:
    """Add ``per_wave`` complete responses to the wave, the areas in turn; their number."""
    start = wave.opens_at
    total = 0
    for index in range(per_wave):
        area, role = list(areas.values())[index % len(areas)]
        shift = FOLLOW_UP_SHIFT[role] if follow else 0.0
        started = start + timedelta(minutes=int(rng.integers(0, 60 * 24 * 12)))
        duration = timedelta(seconds=int(np.clip(rng.normal(420, 90), 120, 1500)))
        session.add(
            Response(
                wave_id=wave.id,
                area_id=area.id,
                language="en",
                channel=Channel.INVITATION if index % 3 else Channel.OPEN_LINK,
                # The demo's open-link answers came through their area's own poster.
                area_source=AreaSource.LETTER if index % 3 else AreaSource.AREA_LINK,
                status=ResponseStatus.COMPLETE,
                started_on=started.date(),
                submitted_on=(started + duration).date(),
                duration_seconds=int(duration.total_seconds()),
                started_at=None,
                idempotency_key=f"demo-{wave.id}-{index}",
                quality_flags=[],
                answers=_answers(items, rng, shift),
            )
        )
        total += 1
    return total


def _add_coordinator(session: Session, city: City) -> None:
    """The demo coordinator, created or given a membership of the demo city."""
    user = session.scalar(select(User).where(User.email == DEMO_EMAIL))
    if user is None:
        user = create_user(
            session,
            email=DEMO_EMAIL,
            password=DEMO_PASSWORD,
            display_name="Demo coordinator",
            city=city,
            role=Role.COORDINATOR,
        )
    elif not any(m.city_id == city.id for m in user.memberships):
        user.memberships.append(Membership(city=city, role=Role.COORDINATOR))


AGE_BANDS = ("1", "2", "3", "4", "5", "6", "7")
AGE_SHARES = (0.13, 0.17, 0.17, 0.16, 0.15, 0.12, 0.10)


def _margins(population: int, rng: np.random.Generator) -> list[AreaMargin]:
    """Age band x gender counts (codes of the demographics items) for raking."""
    margins = []
    for band, share in zip(AGE_BANDS, AGE_SHARES, strict=True):
        women = int(population * share * rng.uniform(0.49, 0.53))
        men = int(population * share) - women
        margins.append(AreaMargin(age_band=band, gender="1", population=women))
        margins.append(AreaMargin(age_band=band, gender="2", population=men))
    return margins


def _answers(items: list[Item], rng: np.random.Generator, shift: float) -> list[Answer]:
    correlation = np.full((4, 4), 0.45) + np.eye(4) * 0.55
    latent = dict(zip(CORE, rng.multivariate_normal(np.full(4, shift), correlation), strict=True))
    latent["participation"] -= shift * 0.5  # participation moves less than trust.
    answers = []
    for item in items:
        value = _answer(item, latent, rng)
        if value is not None:
            answers.append(Answer(item_id=item.id, **value))
    return answers


def _answer(item: Item, latent: dict[str, float], rng: np.random.Generator) -> dict | None:
    missing = [option.code for option in item.missing_options]
    if missing and rng.random() < 0.03:
        return {"value_code": int(rng.choice(missing))}
    if item.construct in latent:
        z = 0.7 * latent[item.construct] + np.sqrt(1 - 0.49) * rng.normal()
        if item.reverse:
            z = -z
        if item.type == "yes_no":
            return {"value_code": int(z > 0.4)}
        codes = sorted(option.code for option in item.options)
        cdf = 0.5 * (1 + math.erf(z / math.sqrt(2)))  # standard normal CDF
        position = min(int(cdf * len(codes)), len(codes) - 1)
        return {"value_code": codes[position]}
    if item.type == "number":
        low, high = item.min or 0, min(item.max or 6, 6)
        return {"value_number": float(rng.integers(low, high + 1))}
    if item.type in ("single_choice", "yes_no", "scale"):
        codes = [option.code for option in item.options]
        if item.id == "gender":
            return {"value_code": int(rng.choice(codes, p=[0.51, 0.47, 0.02]))}
        return {"value_code": int(rng.choice(codes))}
    return None  # free text stays empty in the demo.
