"""Every audit event comes from one writer: who, where, what, on which object."""

from __future__ import annotations

from surveyapp import audit
from surveyapp.models import AuditEvent

from .conftest import Factory


def test_a_staff_member_is_recorded_by_id_and_address(make: Factory) -> None:
    city = make.city()
    user = make.user(city)
    event = audit.record(make.session, user, city.id, "area_created", "area", 7, rows=3)
    make.session.flush()
    stored = make.session.get(AuditEvent, event.id)
    assert (stored.user_id, stored.actor, stored.city_id) == (user.id, user.email, city.id)
    assert (stored.object_type, stored.object_id, stored.details) == ("area", "7", {"rows": 3})


def test_a_command_is_recorded_by_name(make: Factory) -> None:
    event = audit.record(make.session, "surveyapp cli", None, "signed_in")
    make.session.flush()
    assert (event.user_id, event.actor, event.object_id) == (None, "surveyapp cli", None)
