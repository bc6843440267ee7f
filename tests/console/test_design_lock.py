"""Once answers have arrived, an initiative's design (treated and comparison areas, start
date, pyramid level) changes only through "Change the design", which shows what changes in
the results, asks for a tick and a reason, and audits the old and new values."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from surveyapp import designs
from surveyapp.console import initiatives
from surveyapp.console.errors import ConsoleError
from surveyapp.db import utcnow
from surveyapp.instruments.registry import wave_sections
from surveyapp.models import AuditEvent, Initiative, Response, Role, Wave
from surveyapp.respond.codes import normalize_code

from ..conftest import Factory, complete_answers, sign_in
from ..resident import Resident


def _design(make: Factory, **fields) -> Initiative:
    """Treated Noord, comparison Zuid; Oost is in the city but not in the design."""
    city = make.city(name="Mechelen")
    noord = make.area(city, code="N", name="Noord")
    zuid = make.area(city, code="Z", name="Zuid")
    make.area(city, code="O", name="Oost")
    return make.initiative(city, treated=[noord], comparison=[zuid], **fields)


def _area(initiative: Initiative, code: str):
    return next(a for a in initiative.city.areas if a.code == code)


def _answer_by_letter(app: Flask, make: Factory, wave: Wave, area) -> None:
    """A resident of ``area`` answers the whole questionnaire from an invitation letter."""
    code, _invitation = make.invitation(wave, area)
    resident = Resident(app.test_client())
    assert resident.open(f"/i/{normalize_code(code)}") == 200
    resident.consent()
    for section in wave_sections(wave):
        assert resident.submit(complete_answers([section])) == 303


def _answers(make: Factory, wave: Wave, area_id: int, count: int, status="complete") -> None:
    today = utcnow().date()
    for i in range(count):
        make.session.add(
            Response(wave_id=wave.id, area_id=area_id, language="en", channel="paper",
                     status=status, submitted_on=today if status == "complete" else None,
                     quality_flags=[], idempotency_key=f"lock-{wave.id}-{area_id}-{i}-{status}")
        )  # fmt: skip
    make.session.commit()


def _form(initiative: Initiative, **changes) -> dict:
    """The edit form as the page sends it, with ``changes``."""
    links = initiative.area_links
    form = {
        "name": initiative.name,
        "description": initiative.description or "",
        "pyramid_level": str(initiative.pyramid_level),
        "constructs": list(initiative.target_constructs),
        "treated": [str(a.area_id) for a in links if a.role == "treated"],
        "comparison": [str(a.area_id) for a in links if a.role == "comparison"],
        "start_date": initiative.start_date.isoformat() if initiative.start_date else "",
    }
    return form | changes


def _groups(make: Factory, initiative_id: int) -> dict[str, str]:
    make.session.expire_all()
    found = make.session.get(Initiative, initiative_id)
    by_id = {area.id: area.code for area in found.city.areas}
    return {by_id[a]: g for a, g in designs.area_groups(make.session, found).items()}


def _events(make: Factory, action: str) -> list[AuditEvent]:
    make.session.expire_all()
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return list(make.session.scalars(query))


def test_swapping_treated_and_comparison_after_an_answer_is_refused(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    initiative = _design(make)
    wave = make.wave(initiative)
    _answer_by_letter(app, make, wave, _area(initiative, "N"))
    noord, zuid = _area(initiative, "N").id, _area(initiative, "Z").id
    sign_in(client, make.user(initiative.city, role=Role.COORDINATOR))
    url = f"/staff/initiatives/{initiative.id}/edit"
    swap = _form(initiative, name="Renamed", treated=[str(zuid)], comparison=[str(noord)])

    refused = client.post(url, data=swap)

    assert refused.status_code == 409
    assert "Nothing was saved: this initiative already has answers" in refused.get_data(
        as_text=True
    )
    found = make.session.get(Initiative, initiative.id)
    assert found.name == "Street meals"  # nothing at all was saved
    assert _groups(make, initiative.id) == {"N": "treated", "Z": "comparison"}
    assert _events(make, "initiative_changed") == []
    page = client.get(f"/staff/initiatives/{initiative.id}").get_data(as_text=True)
    assert "Noord" in page.split("Treated areas")[1].split("</dd>")[0]
    # The edit page shows the design read-only, with the way to change it.
    edit = client.get(url).get_data(as_text=True)
    assert 'name="treated" type="checkbox"' not in edit and 'id="treated-' not in edit
    assert "Design (fixed since answers arrived)" in edit
    assert f"/staff/initiatives/{initiative.id}/design" in edit


def test_after_answers_the_edit_form_still_changes_name_and_targets(
    client: FlaskClient, make: Factory
) -> None:
    initiative = _design(make, start_date=date(2026, 3, 1))
    _answers(make, make.wave(initiative), _area(initiative, "Z").id, 1)
    sign_in(client, make.user(initiative.city))
    url = f"/staff/initiatives/{initiative.id}/edit"
    # What the locked page sends: the stored design in hidden fields, new words and targets.
    sent = _form(initiative, name="Street meals and music", constructs=["trust", "belonging"])
    assert client.post(url, data=sent | {"target_change": "4"}).status_code == 303
    found = make.session.get(Initiative, initiative.id)
    assert found.name == "Street meals and music"
    assert found.target_constructs == ["belonging", "trust"]
    assert found.target_change == 4.0 and found.start_date == date(2026, 3, 1)
    (event,) = _events(make, "initiative_changed")
    assert event.details["old"] == {
        "name": "Street meals", "target_constructs": ["trust"], "target_change": None
    }  # fmt: skip
    assert event.details["new"] == {
        "name": "Street meals and music", "target_constructs": ["belonging", "trust"],
        "target_change": 4.0,
    }  # fmt: skip
    # Moving the start date the ordinary way is refused like the areas.
    moved = client.post(url, data=sent | {"start_date": "2026-05-01"})
    assert moved.status_code == 409
    assert make.session.get(Initiative, initiative.id).start_date == date(2026, 3, 1)


def test_changing_the_design_shows_what_changes_then_saves_with_a_reason(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    today = utcnow()
    initiative = _design(make, start_date=(today - timedelta(days=20)).date())
    baseline = make.wave(
        initiative,
        name="Baseline",
        opens_at=today - timedelta(days=60),
        closes_at=today - timedelta(days=40),
    )
    noord, zuid = _area(initiative, "N").id, _area(initiative, "Z").id
    _answers(make, baseline, noord, 12)
    _answers(make, baseline, zuid, 3)
    _answers(make, baseline, zuid, 2, status="draft")  # drafts are no answers yet
    sign_in(client, make.user(initiative.city, role=Role.COORDINATOR))
    url = f"/staff/initiatives/{initiative.id}/design"
    assert "Change the design" in client.get(url).get_data(as_text=True)
    new_start = (today - timedelta(days=70)).date()
    choice = _form(
        initiative, treated=[str(zuid)], comparison=[str(noord)], start_date=new_start.isoformat()
    )
    for key in ("name", "description", "constructs"):
        choice.pop(key)

    shown = client.post(url, data=choice)

    html = shown.get_data(as_text=True)
    assert shown.status_code == 200, html[:2000]
    assert "Noord moves from treated to comparison: its 12 answers change group." in html
    # Fewer than 10 answers are not told exactly to a coordinator.
    assert "Zuid moves from comparison to treated: its &lt;10 answers change group." in html
    assert (
        "Wave Baseline changes from “before the start” to “after the start”: its 15 answers" in html
    )
    assert _groups(make, initiative.id) == {"N": "treated", "Z": "comparison"}  # not yet
    confirm_url = f"{url}/confirm"
    choice["seen"] = _seen(html)
    unconfirmed = client.post(confirm_url, data=choice | {"reason": "Wrong map"})
    assert unconfirmed.status_code == 422
    assert "Tick the box to confirm" in unconfirmed.get_data(as_text=True)
    no_reason = client.post(confirm_url, data=choice | {"confirm": "y", "reason": "  "})
    assert no_reason.status_code == 422 and "Say why the design changes" in no_reason.get_data(
        as_text=True
    )
    assert _groups(make, initiative.id) == {"N": "treated", "Z": "comparison"}
    assert _events(make, "initiative_design_changed") == []

    reason = "The street meals moved to Zuid before they began."
    saved = client.post(confirm_url, data=choice | {"confirm": "y", "reason": reason})

    assert saved.status_code == 303
    assert saved.location.endswith(f"/staff/initiatives/{initiative.id}")
    assert _groups(make, initiative.id) == {"Z": "treated", "N": "comparison"}
    assert make.session.get(Initiative, initiative.id).start_date == new_start
    (event,) = _events(make, "initiative_design_changed")
    assert event.details == {
        "old": {"treated": ["N"], "comparison": ["Z"],
                "start_date": (today - timedelta(days=20)).date().isoformat()},
        "new": {"treated": ["Z"], "comparison": ["N"], "start_date": new_start.isoformat()},
        "reason": reason,
    }  # fmt: skip
    # The admin's audit log tells it as a sentence, with the reason.
    admin = app.test_client()
    sign_in(admin, make.user(initiative.city, role=Role.ADMIN))
    log = admin.get(f"/staff/cities/{initiative.city_id}/audit").get_data(as_text=True)
    assert "Changed an initiative&#39;s design" in log and "Treated areas: N → Z" in log
    assert f"Reason: {reason}" in log


def _seen(html: str) -> str:
    found = re.search(r'name="seen" value="([0-9a-f]+)"', html)
    assert found, html[:2000]
    return found.group(1)


def test_a_confirmation_made_on_an_outdated_page_is_shown_again(
    client: FlaskClient, make: Factory
) -> None:
    initiative = _design(make, start_date=(utcnow() - timedelta(days=20)).date())
    wave = make.wave(initiative)
    noord, zuid = _area(initiative, "N").id, _area(initiative, "Z").id
    _answers(make, wave, noord, 3)
    sign_in(client, make.user(initiative.city, role=Role.COORDINATOR))
    url = f"/staff/initiatives/{initiative.id}/design"
    swap = _form(initiative, treated=[str(zuid)], comparison=[str(noord)])
    seen = _seen(client.post(url, data=swap).get_data(as_text=True))
    # A colleague moves the start date meanwhile, through the same two steps.
    later = _form(initiative, start_date=(utcnow() - timedelta(days=5)).date().isoformat())
    colleague = _seen(client.post(url, data=later).get_data(as_text=True))
    moved = client.post(
        f"{url}/confirm", data=later | {"seen": colleague, "confirm": "y", "reason": "Late"}
    )
    assert moved.status_code == 303
    stale = client.post(
        f"{url}/confirm", data=swap | {"seen": seen, "confirm": "y", "reason": "Wrong map"}
    )
    assert stale.status_code == 409
    assert "changed by someone else meanwhile" in stale.get_data(as_text=True)
    assert _groups(make, initiative.id) == {"N": "treated", "Z": "comparison"}
    assert len(_events(make, "initiative_design_changed")) == 1


def test_before_any_answer_the_edit_changes_the_design_and_audits_it(
    client: FlaskClient, make: Factory
) -> None:
    initiative = _design(make)
    _answers(make, make.wave(initiative), _area(initiative, "N").id, 3, status="draft")
    noord, zuid = _area(initiative, "N").id, _area(initiative, "Z").id
    sign_in(client, make.user(initiative.city))
    url = f"/staff/initiatives/{initiative.id}/edit"
    assert 'id="treated-' in client.get(url).get_data(as_text=True)  # not locked
    swap = _form(initiative, treated=[str(zuid)], comparison=[str(noord)], pyramid_level="3")
    assert client.post(url, data=swap).status_code == 303
    assert _groups(make, initiative.id) == {"Z": "treated", "N": "comparison"}
    (event,) = _events(make, "initiative_changed")
    assert event.details == {
        "old": {"pyramid_level": 1, "treated": ["N"], "comparison": ["Z"]},
        "new": {"pyramid_level": 3, "treated": ["Z"], "comparison": ["N"]},
    }


def test_answers_of_a_city_wide_round_in_the_design_areas_lock_it(make: Factory) -> None:
    initiative = _design(make)
    city_round = make.citywide_wave(initiative.city)
    _answers(make, city_round, _area(initiative, "O").id, 5)  # outside the design
    assert not initiatives.has_answers(make.session, initiative)
    _answers(make, city_round, _area(initiative, "Z").id, 1)
    assert initiatives.has_answers(make.session, initiative)
    values = {
        "name": "Street meals", "description": "", "pyramid_level": 2,
        "target_constructs": ["trust"], "treated": [_area(initiative, "N").id],
        "comparison": [_area(initiative, "Z").id], "start_date": None, "actor": "test",
    }  # fmt: skip
    with pytest.raises(ConsoleError, match="only through “Change the design”"):
        initiatives.save_initiative(make.session, initiative.city, initiative=initiative, **values)
    make.session.rollback()
    assert make.session.get(Initiative, initiative.id).pyramid_level == 1


def test_only_admins_and_coordinators_change_the_design(client: FlaskClient, make: Factory) -> None:
    initiative = _design(make)
    sign_in(client, make.user(initiative.city, role=Role.ANALYST))
    url = f"/staff/initiatives/{initiative.id}/design"
    assert client.get(url).status_code == 403
    data = _form(initiative, pyramid_level="4") | {"confirm": "y", "reason": "Because"}
    assert client.post(f"{url}/confirm", data=data).status_code == 403
    assert make.session.get(Initiative, initiative.id).pyramid_level == 1


def test_the_preview_names_a_round_that_starts_to_evaluate_and_stores_nothing(
    make: Factory,
) -> None:
    from surveyapp.console import design_changes

    initiative = _design(make)
    noord, oost = _area(initiative, "N"), _area(initiative, "O")
    city_round = make.citywide_wave(initiative.city, [noord, oost], name="City 2026")
    _answers(make, city_round, noord.id, 3)
    _answers(make, city_round, oost.id, 5)
    assert city_round not in designs.waves_for_initiative(make.session, initiative)

    change = design_changes.preview(
        make.session,
        initiative,
        treated=[noord.id],
        comparison=[oost.id],
        start_date=None,
        pyramid_level=1,
    )

    assert change.new == {"comparison": ["O"]} and change.old == {"comparison": ["Z"]}
    assert [(m.area.code, m.old, m.new, m.answers) for m in change.areas] == [
        ("O", None, "comparison", 5),
        ("Z", "comparison", None, 0),
    ]
    assert [(s.wave.name, s.old, s.new, s.answers) for s in change.waves] == [
        ("City 2026", None, designs.UNDATED, 8)
    ]
    # Nothing was stored: the design and the audit log are as before.
    assert _groups(make, initiative.id) == {"N": "treated", "Z": "comparison"}
    assert _events(make, "initiative_design_changed") == []
