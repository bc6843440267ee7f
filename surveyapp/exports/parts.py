"""The parts of a dataset: the rows each initiative contributes, and the rest of a round.

An initiative's file is one part: its own waves, and of each city-wide round the rows in
its treated and comparison areas (:mod:`surveyapp.designs`). A city's file and a city-wide
round's file hold every answer once: one part per initiative, in initiative order, each
leaving out the round rows an earlier initiative's design already holds, then a last part
for the round rows outside every design (no area, "outside the city", "don't know", or an
area no initiative uses). Those rows have no initiative and no group, but their index
scores, flags and weights are computed as for the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, not_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from analysis.cleaning import STRAIGHTLINE_MIN_ITEMS
from analysis.instrument_model import InstrumentModel, from_instrument
from analysis.scoring import verify_scoring_model
from surveyapp import designs
from surveyapp import scoring as scoring_models
from surveyapp.instruments import Instrument
from surveyapp.instruments.registry import wave_instrument, wave_sections
from surveyapp.models import Area, City, Initiative, Response, Wave
from surveyapp.reports import initiative_modules

__all__ = ["InitiativePart", "initiative_part", "rest_part", "unique_parts"]


@dataclass
class InitiativePart:
    """The part of a dataset that comes from one initiative (or, with ``initiative`` None,
    a city-wide round's rows outside every initiative's design)."""

    initiative: Initiative | None
    waves: list[Wave]
    wave_numbers: dict[int, int]
    # Plain copies of what the rows need: rows are streamed after the request's database
    # session is gone, when the ORM objects above can no longer load anything.
    initiative_id: int | None
    initiative_name: str
    city_id: int
    city_slug: str
    pyramid_level: int | None
    wave_ids: list[int]
    wave_names: dict[int, str]
    instrument: Instrument
    model: InstrumentModel
    scoring: dict[str, Any] | None
    scoring_note: str | None
    scoring_frozen: bool
    roles: dict[int, str]
    # City-wide rounds among the waves: only their rows in ``roles``' areas belong here.
    round_ids: list[int]
    area_codes: dict[int, str]
    blocks: dict[str, list[str]]
    attention_checks: dict[str, int]
    asked_by: dict[str, set[int]]
    # Round rows (round ids, area ids) an earlier part of the file already holds.
    skip: list[tuple[list[int], list[int]]] = field(default_factory=list)

    def left_out(self) -> list[ColumnElement[bool]]:
        """Conditions on ``Response`` that leave out the rows earlier parts hold (a row
        without an area is never held: ``IS NOT NULL`` keeps SQL's NULL out of the NOT)."""
        known = Response.area_id.is_not(None)
        return [
            not_(and_(Response.wave_id.in_(rounds), known, Response.area_id.in_(areas)))
            for rounds, areas in self.skip
            if rounds and areas
        ]

    def claims(self) -> tuple[list[int], list[int]]:
        """The round rows this part holds: its city-wide rounds in its design's areas."""
        rounds = [w for w in self.round_ids if w in self.wave_ids]
        return rounds, list(self.roles)


def initiative_part(session: Session, initiative: Initiative, waves: list[Wave]) -> InitiativePart:
    """The rows of ``waves`` that ``initiative`` uses, with its scoring model and groups."""
    all_waves = designs.waves_for_initiative(session, initiative)
    stored, note = scoring_models.for_download(session, initiative)
    scoring = None
    if stored is not None:
        verify_scoring_model(stored.definition)
        scoring = stored.definition
    return _make_part(
        session,
        initiative.city,
        waves,
        all_waves,
        initiative=initiative,
        scoring=(scoring, note, stored is not None and stored.frozen_at is not None),
        roles=designs.area_groups(session, initiative),
        round_ids=[wave.id for wave in all_waves if wave.initiative_id is None],
    )


def rest_part(
    session: Session, city: City, rounds: list[Wave], parts: list[InitiativePart]
) -> InitiativePart:
    """The rows of the city-wide ``rounds`` that none of ``parts`` holds.

    Scored with the first part's scoring model that covers the same questionnaire (or
    unscored when there is none: a round no initiative uses yet).
    """
    part = _make_part(
        session,
        city,
        rounds,
        designs.citywide_waves(session, city.id),  # wave_order: among the city's rounds
        initiative=None,
        scoring=(None, "No initiative uses these answers: no scoring model.", False),
        roles={},
        round_ids=[],
    )
    for other in parts:
        same = other.instrument.content_hash == part.instrument.content_hash
        if other.scoring is not None and same:
            part.scoring, part.scoring_note = other.scoring, other.scoring_note
            part.scoring_frozen = other.scoring_frozen
            break
    part.skip = [other.claims() for other in parts]
    return part


def unique_parts(parts: list[InitiativePart]) -> list[InitiativePart]:
    """``parts`` with each round row kept only in the first part that holds it."""
    for number, part in enumerate(parts):
        part.skip = [earlier.claims() for earlier in parts[:number]]
    return parts


def _make_part(
    session: Session,
    city: City,
    waves: list[Wave],
    all_waves: list[Wave],
    *,
    initiative: Initiative | None,
    scoring: tuple[dict[str, Any] | None, str | None, bool],
    roles: dict[int, str],
    round_ids: list[int],
) -> InitiativePart:
    instrument = wave_instrument(all_waves[0])
    model = from_instrument(instrument, initiative_modules(instrument, all_waves))
    codes = session.execute(select(Area.id, Area.code).where(Area.city_id == city.id))
    area_codes = dict(codes.all())
    return InitiativePart(
        initiative=initiative,
        waves=waves,
        wave_numbers={wave.id: number for number, wave in enumerate(all_waves, start=1)},
        initiative_id=None if initiative is None else initiative.id,
        initiative_name="" if initiative is None else initiative.name,
        city_id=city.id,
        city_slug=city.slug,
        pyramid_level=None if initiative is None else int(initiative.pyramid_level),
        wave_ids=[wave.id for wave in waves],
        wave_names={wave.id: wave.name for wave in waves},
        instrument=instrument,
        model=model,
        scoring=scoring[0],
        scoring_note=scoring[1],
        scoring_frozen=scoring[2],
        roles=roles,
        round_ids=round_ids,
        area_codes=area_codes,
        blocks=model.straightline_blocks(min_items=STRAIGHTLINE_MIN_ITEMS),
        attention_checks=dict(model.attention_checks),
        asked_by={
            item_id: {
                wave.id
                for wave in waves
                if any(item.id == item_id for s in wave_sections(wave) for item in s.items)
            }
            for item_id in model.attention_checks
        },
    )
