"""Rules the database itself enforces, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from surveyapp.db import Base, utcnow
from surveyapp.models import (
    Answer,
    AreaRole,
    AuditEvent,
    Initiative,
    InitiativeArea,
    Invitation,
    Response,
    User,
)

from ..conftest import Factory

PERSONAL_COLUMNS = ("ip", "user_agent", "agent", "email", "e_mail", "name", "phone", "address")


def _refused(session: Session, obj: object) -> None:
    """Adding ``obj`` fails in the database; the savepoint keeps earlier objects intact."""
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(obj)
        session.flush()


def _refused_sql(session: Session, statement: str, **params: object) -> None:
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(text(statement), params)


def test_responses_and_answers_hold_no_personal_data() -> None:
    """No column of a resident's data can hold an IP address, user agent, name or e-mail."""
    for table in ("responses", "answers"):
        columns = set(Base.metadata.tables[table].columns.keys())
        personal = {c for c in columns for bad in PERSONAL_COLUMNS if bad in c.lower()}
        assert personal == set(), f"{table} has personal-data columns {personal}"
    # And no link from a response to the invitation code that was used.
    assert "invitation_id" not in Base.metadata.tables["responses"].columns


def test_migrated_schema_has_the_same_columns(db_session: Session) -> None:
    """The migrated database, not just the models, lacks personal-data columns."""
    names = {c["name"] for c in inspect(db_session.connection()).get_columns("responses")}
    assert {"wave_id", "area_id", "language", "channel", "idempotency_key"} <= names
    assert not {n for n in names if n in PERSONAL_COLUMNS}


def test_invitation_code_hashes_are_unique(make: Factory) -> None:
    _code, invitation = make.invitation()
    duplicate = Invitation(
        wave_id=invitation.wave_id, area_id=invitation.area_id, code_hash=invitation.code_hash
    )
    _refused(make.session, duplicate)


def test_area_codes_are_unique_per_city_only(make: Factory) -> None:
    first, second = make.city(), make.city()
    make.area(first, code="north")
    make.area(second, code="north")  # another city may use the same code
    from surveyapp.models import Area

    _refused(make.session, Area(city_id=first.id, code="north", name="North again"))


def test_unknown_enum_values_are_refused_by_the_database(make: Factory) -> None:
    """Check constraints reject values Python would never write, e.g. from a bad script."""
    wave = make.wave()
    for statement in (
        "UPDATE waves SET status = 'deleted' WHERE id = :id",
        "UPDATE waves SET mode = 'carrier_pigeon' WHERE id = :id",
    ):
        _refused_sql(make.session, statement, id=wave.id)


def test_membership_role_and_pyramid_level_are_checked(make: Factory) -> None:
    city = make.city()
    user = make.user()
    _refused_sql(
        make.session,
        "INSERT INTO memberships (user_id, city_id, role) VALUES (:u, :c, 'mayor')",
        u=user.id,
        c=city.id,
    )
    _refused(make.session, Initiative(city_id=city.id, name="Too high", pyramid_level=5))


def test_foreign_keys_are_enforced(make: Factory) -> None:
    _refused(
        make.session,
        Response(wave_id=999_999, language="en", channel="open_link", idempotency_key="k" * 20),
    )


def test_initiative_cannot_use_another_citys_area(make: Factory) -> None:
    """The composite foreign key keeps an initiative's areas inside its own city."""
    initiative = make.initiative()
    foreign_area = make.area(make.city())
    _refused(
        make.session,
        InitiativeArea(
            initiative_id=initiative.id,
            area_id=foreign_area.id,
            city_id=initiative.city_id,
            role=AreaRole.COMPARISON,
        ),
    )


def test_answer_holds_exactly_one_value(make: Factory) -> None:
    wave = make.wave()
    response = Response(
        wave_id=wave.id, language="en", channel="open_link", idempotency_key="a" * 24
    )
    make.session.add(response)
    make.session.flush()
    _refused(make.session, Answer(response_id=response.id, item_id="ppltrst"))
    _refused(
        make.session,
        Answer(response_id=response.id, item_id="ppltrst", value_code=3, value_text="three"),
    )


def test_idempotency_key_is_unique(make: Factory) -> None:
    wave = make.wave()
    make.session.add(
        Response(wave_id=wave.id, language="en", channel="open_link", idempotency_key="same" * 5)
    )
    make.session.flush()
    _refused(
        make.session,
        Response(wave_id=wave.id, language="en", channel="open_link", idempotency_key="same" * 5),
    )


def test_complete_response_needs_submission_time(make: Factory) -> None:
    wave = make.wave()
    _refused(
        make.session,
        Response(
            wave_id=wave.id,
            language="en",
            channel="open_link",
            status="complete",
            idempotency_key="c" * 24,
        ),
    )


def test_opened_wave_must_have_frozen_instrument(make: Factory) -> None:
    wave = make.wave(status="draft")
    _refused_sql(make.session, "UPDATE waves SET status = 'open' WHERE id = :id", id=wave.id)


def test_user_emails_are_stored_lower_case(make: Factory) -> None:
    _refused(make.session, User(email="Mixed@City.example", display_name="x", password_hash="x"))


def test_timestamps_round_trip_as_aware_utc(make: Factory) -> None:
    """Times come back timezone-aware on both backends; naive times are refused."""
    event = AuditEvent(actor="test", action="tested")
    make.session.add(event)
    make.session.flush()
    make.session.expire(event)
    assert event.occurred_at.tzinfo is not None
    assert abs((utcnow() - event.occurred_at).total_seconds()) < 60
    with pytest.raises(StatementError, match="naive datetime"), make.session.begin_nested():
        make.session.add(AuditEvent(actor="test", action="naive", occurred_at=datetime(2026, 1, 1)))
        make.session.flush()


def test_deleting_a_wave_with_responses_is_refused(make: Factory) -> None:
    """Responses keep their wave: RESTRICT, not cascade, in the database."""
    wave = make.wave()
    make.session.add(
        Response(wave_id=wave.id, language="en", channel="open_link", idempotency_key="d" * 24)
    )
    make.session.flush()
    _refused_sql(make.session, "DELETE FROM waves WHERE id = :id", id=wave.id)
    assert make.session.get(type(wave), wave.id) is not None
