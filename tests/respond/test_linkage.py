"""The attacker who knows how the platform stores data cannot tie answers to a letter.

A city keeps its mail-merge CSV (code -> household). Whoever gets a copy of the database as
well (a backup, a dump, a read-only account) must not be able to tell which sent
questionnaire came from which code better than chance among the responses sent that day in
that area (DESIGN.md, "Anonymity"). The test plays that attacker generously: it knows which
invitation row belongs to which code (their ids follow the CSV's order), reads every column
of every table, and on PostgreSQL also each row's system columns (``xmin``: the transaction
that last wrote it; ``ctid``: where it lies on disk, the order of a ``pg_dump``), on SQLite
the ``rowid``. It then tries every pairing: equal values, nearest values (times, numbers)
and the same rank within an area.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, current_app
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from surveyapp import create_app, migrate
from surveyapp.console.invitations import generate
from surveyapp.console.panel_letters import follow_up
from surveyapp.extensions import db
from surveyapp.instruments import Instrument
from surveyapp.instruments.registry import wave_sections
from surveyapp.models import AreaRole, Invitation, Response, ResponseStatus

from ..conftest import BACKEND, Factory, complete_answers, throwaway_database
from ..resident import Resident

PER_AREA = 12
INVITATION_SIDE = ("invitations", "used_invitations")
RESPONSE_SIDE = ("responses", "answers", "page_submissions")
# Chance is about one right guess per area and day (2 here); a random pairing of 12 gets 8
# or more right in at most 1 run in 1,000. The old schema's used_at join got all 24.
MOST_RIGHT_BY_CHANCE = 7


@pytest.fixture
def city(tmp_path: Path, core_instrument: Instrument) -> Iterator[tuple[Flask, Any, Factory]]:
    """An app on a database of its own whose data is committed for real, as in production."""
    from surveyapp.extensions import limiter

    # The limiter is one object: an app made with limits off switches them off for every
    # app until the next is made, so the later tests' limits are put back afterwards.
    limits_on = limiter.enabled
    with throwaway_database(tmp_path) as url:
        migrate.upgrade(url)
        app = create_app(
            {
                "ENV_NAME": "testing",
                "DATABASE_URL": url,
                "WTF_CSRF_ENABLED": False,
                "RATELIMIT_ENABLED": False,
            }
        )
        engine = create_engine(url)
        session = Session(engine, expire_on_commit=False)
        try:
            with app.app_context():
                yield app, engine, Factory(session, core_instrument)
        finally:
            session.close()
            engine.dispose()
            db.engine_for(app).dispose()
            limiter.enabled = limits_on


def _letters(make: Factory, kind: str = "plain") -> tuple[Any, list[tuple[str, int, int]]]:
    """A wave with letters for two areas: (code, invitation id, area id) in CSV order.

    ``kind`` "panel": a panel wave's first letters (made as the console makes them, with
    panel seeds); "follow-up": a panel wave's letters made from such a wave's batch, after
    every household answered that first wave.
    """
    if kind == "plain":
        wave = make.wave(languages=["en"], mode="invitation")
        letters = []
        for role in (AreaRole.TREATED, AreaRole.COMPARISON):
            area = wave.initiative.areas_with_role(role)[0]
            for _ in range(PER_AREA):
                code, invitation = make.invitation(wave, area)
                letters.append((code, invitation.id, area.id))
        return wave, letters
    wave = make.wave(languages=["en"], mode="invitation", is_panel=True)
    counts = {wave.initiative.areas_with_role(role)[0].id: PER_AREA for role in AreaRole}
    made = generate(make.session, wave, counts, base_url="https://x.example", actor="test")
    make.session.commit()
    if kind == "follow-up":
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        _answer_in_random_order(app, make.session.get_bind(), wave, _rows(make, wave, made))
        batch = make.session.scalar(
            select(Invitation.batch_id).where(Invitation.wave_id == wave.id)
        )
        wave = make.wave(wave.initiative, languages=["en"], mode="invitation", is_panel=True)
        made = follow_up(make.session, wave, batch, base_url="https://x.example", actor="test")
        make.session.commit()
    return wave, _rows(make, wave, made)


def _rows(make: Factory, wave: Any, made: list[Any]) -> list[tuple[str, int, int]]:
    """The letters as (code, invitation id, area id): ids follow the CSV's order."""
    query = select(Invitation).where(Invitation.wave_id == wave.id).order_by(Invitation.id)
    rows = list(make.session.scalars(query))
    assert [r.area_id for r in rows] == [m.area.id for m in made]
    return [(m.code, r.id, r.area_id) for m, r in zip(made, rows, strict=True)]


def _answer_in_random_order(
    app: Flask, engine: Any, wave: Any, letters: list[tuple[str, int, int]]
) -> dict[int, int]:
    """Residents start in one random order and send in another; truth: invitation -> response."""
    rng = random.Random(20261207)
    sections = wave_sections(wave)
    residents = {}
    for code, invitation_id, _area in rng.sample(letters, len(letters)):
        resident = Resident(app.test_client())
        assert resident.open(f"/i/{code}") == 200
        resident.consent()
        residents[invitation_id] = resident
    truth = {}
    for invitation_id in rng.sample(sorted(residents), len(residents)):
        before = _complete_ids(engine)
        for section in sections:
            assert residents[invitation_id].submit(complete_answers([section])) == 303
        (sent,) = _complete_ids(engine) - before
        truth[invitation_id] = sent
    return truth


def _complete_ids(engine: Any) -> set[int]:
    with Session(engine) as session:
        query = select(Response.id).where(Response.status == ResponseStatus.COMPLETE)
        return set(session.scalars(query))


def _dump(engine: Any, table: str) -> list[dict[str, Any]]:
    """Every row with every column, and the system columns an attacker could read."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            system = "CAST(CAST(xmin AS TEXT) AS BIGINT) AS sys_xmin, ctid AS sys_ctid"
        else:
            system = "rowid AS sys_rowid"
        rows = connection.execute(text(f"SELECT {system}, * FROM {table}")).mappings().all()
    out = []
    for row in rows:
        row = dict(row)
        if "sys_ctid" in row:  # "(page,item)": the physical order of a dump
            page, item = str(row.pop("sys_ctid")).strip("()").split(",")
            row["sys_ctid"] = int(page) * 10_000 + int(item)
        out.append(row)
    return out


def _comparable(value: Any) -> float | str | None:
    if value is None or isinstance(value, (dict, list)):
        return None if value is None else str(value)
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, date):
        return float(value.toordinal())
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    return str(value)


def _invitation_features(engine: Any) -> dict[int, dict[str, Any]]:
    """Per invitation: its own columns and those of the used-code set that holds it."""
    features: dict[int, dict[str, Any]] = {}
    for row in _dump(engine, "invitations"):
        features[row["id"]] = {f"invitations.{k}": _comparable(v) for k, v in row.items()}
    for row in _dump(engine, "used_invitations"):
        ids = row["invitation_ids"]
        for invitation_id in ids if isinstance(ids, list) else json.loads(ids):
            features[int(invitation_id)] |= {
                f"used_invitations.{k}": _comparable(v) for k, v in row.items()
            }
    return features


def _response_features(engine: Any) -> dict[int, dict[str, list[Any]]]:
    """Per sent questionnaire: every value of its rows in every response-side table."""
    features: dict[int, dict[str, list[Any]]] = {}
    for table in RESPONSE_SIDE:
        for row in _dump(engine, table):
            owner = row["id"] if table == "responses" else row["response_id"]
            mine = features.setdefault(owner, {})
            for key, value in row.items():
                mine.setdefault(f"{table}.{key}", []).append(_comparable(value))
    return features


def _attacks(
    invitations: dict[int, dict[str, Any]],
    responses: dict[int, dict[str, list[Any]]],
    truth: dict[int, int],
    area_of: dict[int, int],
) -> dict[str, int]:
    """Right guesses of every attack: equal or nearest value, and same rank in the area."""
    right: dict[str, int] = {}
    by_area: dict[int, list[int]] = {}
    for invitation_id, response_id in truth.items():
        by_area.setdefault(area_of[invitation_id], []).append(response_id)
    inv_keys = sorted({k for f in invitations.values() for k in f})
    resp_keys = sorted({k for f in responses.values() for k in f})
    for f in inv_keys:
        for g in resp_keys:
            nearest = ranked = 0
            for area, candidates in by_area.items():
                mine = [i for i in truth if area_of[i] == area]
                for i in mine:
                    v = invitations[i].get(f)
                    scored = []
                    for r in sorted(candidates):
                        values = [x for x in responses[r].get(g, []) if x is not None]
                        if v is None or not values:
                            continue
                        if isinstance(v, str) or any(isinstance(x, str) for x in values):
                            distance = 0.0 if str(v) in map(str, values) else float("inf")
                        else:
                            distance = min(abs(v - x) for x in values)
                        scored.append((distance, r))
                    if scored:
                        best = min(scored)
                        nearest += best[1] == truth[i] and best[0] != float("inf")

                # Same rank: the k-th invitation by f is taken for the k-th response by g.
                def key_of(value: Any) -> tuple[int, Any]:
                    return (0, value) if isinstance(value, float) else (1, str(value))

                inv_order = sorted(
                    (i for i in mine if invitations[i].get(f) is not None),
                    key=lambda i: (key_of(invitations[i][f]), i),
                )
                resp_values = {
                    r: max(
                        (key_of(x) for x in responses[r].get(g, []) if x is not None), default=None
                    )
                    for r in candidates
                }
                resp_order = sorted(
                    (r for r in candidates if resp_values[r] is not None),
                    key=lambda r: (resp_values[r], r),
                )
                if len(inv_order) == len(resp_order) == len(mine):
                    ranked += sum(truth[i] == r for i, r in zip(inv_order, resp_order, strict=True))
            right[f"nearest {f} ~ {g}"] = nearest
            right[f"rank {f} ~ {g}"] = ranked
    return right


@pytest.mark.parametrize("kind", ["plain", "panel", "follow-up"])
def test_no_stored_value_ties_a_sent_questionnaire_to_its_letter(
    city: tuple[Flask, Any, Factory], kind: str
) -> None:
    """Also in panel waves: the response's panel id is a keyed hash of the letter's seed."""
    app, engine, make = city
    wave, letters = _letters(make, kind)
    truth = _answer_in_random_order(app, engine, wave, letters)
    assert len(truth) == 2 * PER_AREA
    if kind != "plain":  # the panel link is there: each household's answers share an id
        with Session(engine) as session:
            ids = list(
                session.scalars(select(Response.panel_id).where(Response.panel_id.is_not(None)))
            )
        assert (
            len(set(ids)) == 2 * PER_AREA
            and len(ids) == (4 if kind == "follow-up" else 2) * PER_AREA
        )

    area_of = {invitation_id: area for _code, invitation_id, area in letters}
    invitations = _invitation_features(engine)
    responses = _response_features(engine)
    # The attacker's knowledge is real: every invitation and every sent questionnaire is there.
    assert set(truth) <= set(invitations) and set(truth.values()) <= set(responses)
    right = _attacks(invitations, responses, truth, area_of)
    assert len(right) > 100  # every pairing of columns was tried
    linked = {attack: n for attack, n in right.items() if n > MOST_RIGHT_BY_CHANCE}
    assert linked == {}, f"{BACKEND}: these pairings find letters better than chance: {linked}"


def test_the_attack_finds_a_stored_link(city: tuple[Flask, Any, Factory]) -> None:
    """The attacker is not blind: a column that did link (as used_at once did) is found."""
    app, engine, make = city
    wave, letters = _letters(make)
    truth = _answer_in_random_order(app, engine, wave, letters)
    area_of = {invitation_id: area for _code, invitation_id, area in letters}
    invitations = _invitation_features(engine)
    responses = _response_features(engine)
    for invitation_id, response_id in truth.items():  # what the old schema stored
        invitations[invitation_id]["invitations.used_at"] = float(response_id) * 7.0
        responses[response_id]["responses.submitted_at"] = [float(response_id) * 7.0 + 0.001]
    right = _attacks(invitations, responses, truth, area_of)
    assert right["nearest invitations.used_at ~ responses.submitted_at"] == len(truth)
    assert right["rank invitations.used_at ~ responses.submitted_at"] == len(truth)
