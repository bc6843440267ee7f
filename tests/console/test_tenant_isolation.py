"""Staff of one city can never see or change another city's objects, route by route."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from surveyapp.models import (
    Area,
    AuditEvent,
    BatchStatus,
    Initiative,
    Invitation,
    Job,
    JobStatus,
    LetterBatch,
    Role,
    User,
    Wave,
    WaveStatus,
)

from ..conftest import Factory, sign_in

# Every console route, with the object of the *other* city it is tried on.
ROUTES = [
    ("GET", "console.areas", "/staff/cities/{city}/areas"),
    ("POST", "console.areas", "/staff/cities/{city}/areas"),
    ("GET", "console.area", "/staff/areas/{area}"),
    ("POST", "console.area", "/staff/areas/{area}"),
    ("POST", "console.area_margins", "/staff/areas/{area}/margins"),
    ("GET", "console.initiative_new", "/staff/cities/{city}/initiatives/new"),
    ("POST", "console.initiative_new", "/staff/cities/{city}/initiatives/new"),
    ("GET", "console.initiative", "/staff/initiatives/{initiative}"),
    ("GET", "console.initiative_edit", "/staff/initiatives/{initiative}/edit"),
    ("POST", "console.initiative_edit", "/staff/initiatives/{initiative}/edit"),
    ("GET", "console.initiative_design", "/staff/initiatives/{initiative}/design"),
    ("POST", "console.initiative_design", "/staff/initiatives/{initiative}/design"),
    ("POST", "console.initiative_design_confirm", "/staff/initiatives/{initiative}/design/confirm"),
    ("GET", "console.initiative_report", "/staff/initiatives/{initiative}/report"),
    ("GET", "console.initiative_report_json", "/staff/initiatives/{initiative}/report.json"),
    ("GET", "console.wave_new", "/staff/initiatives/{initiative}/waves/new"),
    ("POST", "console.wave_new", "/staff/initiatives/{initiative}/waves/new"),
    ("GET", "console.wave", "/staff/waves/{wave}"),
    ("POST", "console.wave_action", "/staff/waves/{wave}/open"),
    ("POST", "console.wave_action", "/staff/waves/{wave}/close"),
    ("POST", "console.wave_action", "/staff/waves/{wave}/archive"),
    ("POST", "console.wave_action", "/staff/waves/{wave}/delete"),
    ("POST", "console.wave_invitations", "/staff/waves/{wave}/invitations"),
    ("GET", "console.wave_poster", "/staff/waves/{wave}/poster.pdf"),
    ("GET", "console.wave_monitor", "/staff/waves/{wave}/monitor"),
    ("GET", "console.wave_preview", "/staff/waves/{wave}/preview"),
    ("GET", "console.wave_preview", "/staff/waves/{wave}/preview/1?language=fr"),
    ("GET", "console.wave_pretest", "/staff/waves/{wave}/pretest"),
    ("POST", "console.wave_pretest", "/staff/waves/{wave}/pretest/2?language=fr"),
    ("GET", "console.wave_pretest_comments", "/staff/waves/{wave}/pretest-comments"),
    ("GET", "console.wave_pretest_comments_csv", "/staff/waves/{wave}/pretest-comments.csv"),
    ("GET", "console.wave_copy", "/staff/waves/{wave}/copy"),
    ("POST", "console.wave_copy", "/staff/waves/{wave}/copy"),
    ("GET", "console.wave_paper", "/staff/waves/{wave}/paper"),
    ("POST", "console.wave_paper", "/staff/waves/{wave}/paper"),
    ("GET", "console.wave_paper_sheet", "/staff/waves/{wave}/paper/sheets/1"),
    ("POST", "console.wave_paper_sheet", "/staff/waves/{wave}/paper/sheets/1"),
    ("POST", "console.wave_offline_import", "/staff/waves/{wave}/offline-import"),
    ("GET", "console.audit_log", "/staff/cities/{city}/audit"),
    ("POST", "console.end_member_sessions", "/staff/cities/{city}/members/{member}/end-sessions"),
    ("POST", "console.revoke_member_tokens", "/staff/cities/{city}/members/{member}/revoke-tokens"),
    ("GET", "console.team_page", "/staff/cities/{city}/team"),
    ("POST", "console.team_invite", "/staff/cities/{city}/team/invite"),
    ("POST", "console.team_add", "/staff/cities/{city}/team/add"),
    ("POST", "console.member_role", "/staff/cities/{city}/members/{member}/role"),
    ("POST", "console.member_deactivate", "/staff/cities/{city}/members/{member}/deactivate"),
    ("POST", "console.member_reactivate", "/staff/cities/{city}/members/{member}/reactivate"),
    ("POST", "console.member_reset_link", "/staff/cities/{city}/members/{member}/reset-link"),
    ("GET", "console.dataset", "/staff/waves/{wave}/dataset"),
    ("GET", "console.dataset", "/staff/initiatives/{initiative}/dataset?format=sav"),
    ("GET", "console.dataset", "/staff/cities/{city}/dataset?format=zip"),
    ("GET", "console.codebook", "/staff/waves/{wave}/codebook"),
    ("GET", "console.codebook", "/staff/initiatives/{initiative}/codebook"),
    ("GET", "console.codebook", "/staff/cities/{city}/codebook"),
    ("GET", "console.aggregates", "/staff/waves/{wave}/aggregates.csv"),
    ("GET", "console.aggregates", "/staff/initiatives/{initiative}/aggregates.csv"),
    ("GET", "console.aggregates", "/staff/cities/{city}/aggregates.csv"),
    ("GET", "console.wave_area_poster", "/staff/waves/{wave}/areas/{area}/poster.pdf"),
    ("POST", "console.wave_follow_up_letters", "/staff/waves/{wave}/follow-up-letters"),
    ("GET", "console.letters_job", "/staff/jobs/{job}"),
    ("GET", "console.letters_job_download", "/staff/jobs/{job}/letters.zip"),
    ("POST", "console.letters_job_action", "/staff/jobs/{job}/confirm"),
    ("POST", "console.letters_job_action", "/staff/jobs/{job}/cancel"),
    ("POST", "console.letters_job_action", "/staff/jobs/{job}/restart"),
    ("POST", "console.wave_reminders", "/staff/waves/{wave}/reminders"),
    ("POST", "console.microdata_k", "/staff/cities/{city}/microdata-k"),
    ("GET", "console.disclosure", "/staff/cities/{city}/disclosure"),
    ("POST", "console.dataset_unprotected", "/staff/cities/{city}/dataset/unprotected"),
    ("GET", "console.initiative_dashboard", "/staff/initiatives/{initiative}/dashboard"),
    ("GET", "console.city_dashboard", "/staff/cities/{city}/dashboard"),
    ("GET", "console.city_rounds", "/staff/cities/{city}/rounds"),
    ("GET", "console.city_round_new", "/staff/cities/{city}/rounds/new"),
    ("POST", "console.city_round_new", "/staff/cities/{city}/rounds/new"),
    ("GET", "console.letter_template", "/staff/cities/{city}/letter-template"),
    ("POST", "console.letter_template", "/staff/cities/{city}/letter-template"),
]
# Open to every signed-in staff member by design (no object of a city, only aggregates
# across cities): tested in test_dashboards.py instead. The own account page and the pages
# of one-time links (opened with a token, not a city): tested in tests/auth/test_account.py.
NOT_PER_CITY = {
    "console.home",
    "console.shared_dashboard",
    "console.account",
    "console.join",
    "console.reset",
}


def test_every_console_route_is_in_the_table(app: Flask) -> None:
    covered = {(method, endpoint) for method, endpoint, _url in ROUTES}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("console.") and rule.endpoint not in NOT_PER_CITY:
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert (method, rule.endpoint) in covered, (method, rule.rule)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.COORDINATOR, Role.ANALYST])
def test_staff_of_another_city_get_nothing(client: FlaskClient, make: Factory, role: Role) -> None:
    victim = make.city(name="Victimville")
    initiative = make.initiative(victim, name="Secret initiative")
    wave = make.wave(initiative, name="Secret wave", status=WaveStatus.OPEN)
    area = initiative.areas_with_role("treated")[0]
    area.name = "Secret area"
    make.session.commit()
    member = make.user(victim, role=Role.ADMIN)
    intruder = make.user(make.city(name="Elsewhere"), role=role)
    sign_in(client, intruder)
    ids = {"city": victim.id, "area": area.id, "initiative": initiative.id, "wave": wave.id}
    ids["member"] = member.id
    ids["job"] = _letters_job(make, wave)
    before = _state(make)
    for method, _endpoint, template in ROUTES:
        url = template.format(**ids)
        data = {
            "name": "Hijacked",
            "code": "HX",
            f"area-{area.id}": "5",
            "language": "en",
            "pyramid_level": "1",
            "treated": str(area.id),
            "email": "intruder@elsewhere.example",
            "role": "admin",
        }
        response = client.open(url, method=method, data=data)
        assert response.status_code == 404, (method, url, response.status_code)
        body = response.get_data(as_text=True)
        for secret in ("Victimville", "Secret initiative", "Secret wave", "Secret area"):
            assert secret not in body, (method, url, secret)
    assert _state(make) == before


def _letters_job(make: Factory, wave: Wave) -> int:
    """A finished letters job of ``wave`` whose ZIP waits for download."""
    batch = LetterBatch(wave_id=wave.id, status=BatchStatus.READY, letters=1)
    make.session.add(batch)
    make.session.flush()
    job = Job(
        city_id=wave.city_id,
        wave_id=wave.id,
        kind="letters",
        status=JobStatus.DONE,
        params={"language": "en"},
        batch_id=batch.id,
        result=b"Secret wave's codes",
        result_name="letters.zip",
    )
    make.session.add(job)
    make.session.commit()
    return job.id


def _state(make: Factory) -> tuple:
    make.session.expire_all()
    session = make.session
    return (
        session.scalar(select(func.count(Invitation.id))),
        session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.city_id.is_not(None))),
        tuple(session.scalars(select(Area.name).order_by(Area.id))),
        tuple(session.scalars(select(Initiative.name).order_by(Initiative.id))),
        tuple(session.scalars(select(Wave.status).order_by(Wave.id))),
        tuple(session.scalars(select(User.session_version).order_by(User.id))),
    )
