"""Schemathesis: requests generated from the API's OpenAPI document, answers checked against it.

One test per operation of the document, each with a bounded number of generated requests
sent to the app in process (WSGI, no server). The demo data is built once for the module,
inside a transaction rolled back at the end, so that most requests hit real objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from surveyapp.api.openapi import document
from surveyapp.api.tokens import create_token
from surveyapp.designs import waves_for_initiative
from surveyapp.extensions import db, limiter
from surveyapp.instruments import Instrument
from surveyapp.models import Initiative, Membership, Role, User

from ..conftest import Factory

pytestmark = pytest.mark.slow  # `make test-fast` leaves it to `make test`

# The document as the app serves it (test_api.py checks that the two are the same). Loaded
# from the dict, not from the app, because the app exists only once the fixtures run;
# schemathesis.pytest.from_fixture would allow that, but it relies on pytest's private
# Node._nodeid, which pytest 9.2 no longer has.
schema = schemathesis.openapi.from_dict(document())


@dataclass(frozen=True)
class Access:
    """A token and, per path parameter, ids to try: the token's own, another city's, none."""

    token: str
    ids: dict[str, tuple[int, ...]]


@pytest.fixture(scope="module")
def api_access(app: Flask, core_instrument: Instrument) -> Iterator[Access]:
    """The demo city read by its admin, beside another city's wave, for the whole module.

    Like ``db_session`` in conftest.py, but module-wide: every operation's test reads the
    same data, built once (a demo takes seconds), and everything is rolled back after.
    """
    from surveyapp.demo import DEMO_EMAIL, EFFECTIVE, build_demo

    connection = db.engine_for(app).connect()
    transaction = connection.begin()
    db.session.remove()
    db.session.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        make = Factory(db.session, core_instrument)
        info = build_demo(db.session, make.instrument_row(), core_instrument, per_area=5)
        db.session.commit()
        user = db.session.scalar(select(User).where(User.email == DEMO_EMAIL))
        # Admin: every download is allowed, so the files themselves are checked too.
        membership = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
        membership.role = Role.ADMIN
        token, _row = create_token(db.session, user, name="schemathesis", days=1, actor=user)
        other = make.wave(name="Not yours")
        db.session.commit()
        initiative = db.session.scalar(select(Initiative).where(Initiative.name == EFFECTIVE))
        baseline = waves_for_initiative(db.session, initiative)[0]
        yield Access(
            token=token,
            ids={
                "city_id": (info.city.id, other.initiative.city_id, 2**31 - 1),
                "initiative_id": (initiative.id, other.initiative_id, 2**31 - 1),
                "wave_id": (info.open_wave.id, baseline.id, other.id, 2**31 - 1),
            },
        )
    finally:
        db.session.remove()
        db.session.configure(bind=None, join_transaction_mode="conditional_savepoint")
        if transaction.is_active:
            transaction.rollback()
        connection.close()


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_answer_matches_the_openapi_document(
    case: schemathesis.Case, app: Flask, api_access: Access
) -> None:
    # Hundreds of requests with the one token: keep the per-token limit out of the way.
    limiter.reset()
    # Generated ids rarely exist: three in four requests use a real id of the token's city
    # or of another city (or the largest id, which nothing has), picked by the generated number.
    for name, value in (case.path_parameters or {}).items():
        choices = api_access.ids.get(name)
        if choices and isinstance(value, int) and value % 4:
            case.path_parameters[name] = choices[value % len(choices)]
    case.headers = {
        **(case.headers or {}),
        "Authorization": f"Bearer {api_access.token}",
        # The in-process WSGI transport does not undo Flask-Compress's gzip/zstd as an
        # HTTP client would, so ask for the bytes as they are.
        "Accept-Encoding": "identity",
    }
    case.call_and_validate(
        app=app,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
