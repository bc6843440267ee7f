"""The analysts' JSON API: tokens, city scope, masked counts, estimates, errors, token page."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.api.openapi import document as openapi_document
from surveyapp.api.tokens import create_token, revoke_token
from surveyapp.cli import main
from surveyapp.db import utcnow
from surveyapp.designs import response_scope, waves_for_initiative
from surveyapp.models import (
    ApiToken,
    AuditEvent,
    Channel,
    Initiative,
    Membership,
    Response,
    ResponseStatus,
    Role,
    User,
    Wave,
    WaveStatus,
)

from ..conftest import Factory, sign_in

TOKEN_PATTERN = re.compile(r"sa_[A-Za-z0-9_-]{43}")


def _token(session: Session, user: User, **fields) -> str:
    """A committed token of ``user``; ``fields`` are set on its row afterwards."""
    token, row = create_token(session, user, name=fields.pop("name", "tests"), days=365, actor=user)
    for name, value in fields.items():
        setattr(row, name, value)
    session.commit()
    return token


def _get(client: FlaskClient, url: str, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(url, headers=headers)


def _complete(session: Session, wave: Wave, number: int) -> None:
    area = wave.initiative.areas_with_role("treated")[0]
    now = utcnow()
    for index in range(number):
        session.add(
            Response(
                wave_id=wave.id,
                area_id=area.id,
                language="en",
                channel=Channel.INVITATION,
                status=ResponseStatus.COMPLETE,
                started_at=None,
                submitted_on=now.date(),
                duration_seconds=600,
                idempotency_key=f"test-{wave.id}-{index}",
            )
        )
    session.commit()


def _demo(make: Factory, per_area: int) -> tuple[User, Initiative]:
    """A demo city with about ``per_area`` answers per area and round (``demo`` fixture: 50);
    its coordinator and its "Neighbourhood hosts" initiative."""
    from surveyapp.demo import EFFECTIVE, build_demo

    info = build_demo(make.session, make.instrument_row(), make.core, per_area=per_area)
    make.session.commit()
    initiative = make.session.scalars(
        select(Initiative).where(Initiative.city_id == info.city.id, Initiative.name == EFFECTIVE)
    ).one()
    return _demo_coordinator(make.session), initiative


def _complete_in(session: Session, scope) -> int:
    """How many complete responses ``scope`` (a condition on Response joined to Wave) holds."""
    return session.scalar(
        select(func.count(Response.id))
        .join(Wave)
        .where(scope, Response.status == ResponseStatus.COMPLETE)
    )


def _demo_coordinator(session: Session) -> User:
    """The demo city's own coordinator (who `surveyapp demo` prints the password of)."""
    from surveyapp.demo import DEMO_EMAIL

    return session.scalars(select(User).where(User.email == DEMO_EMAIL)).one()


# --- Authentication -----------------------------------------------------------------------


@pytest.mark.parametrize("problem", ["none", "garbage", "basic", "revoked", "expired", "inactive"])
def test_requests_without_a_valid_token_are_refused(
    client: FlaskClient, make: Factory, problem: str
) -> None:
    user = make.user(make.city(name="Tokenville"), role=Role.ADMIN)
    token = _token(make.session, user)
    headers = {"Authorization": f"Bearer {token}"}
    if problem == "none":
        headers = {}
    elif problem == "garbage":
        headers = {"Authorization": "Bearer sa_" + "x" * 43}
    elif problem == "basic":
        headers = {"Authorization": f"Basic {token}"}
    elif problem == "revoked":
        revoke_token(make.session, make.session.scalar(select(ApiToken)), actor=user)
    elif problem == "expired":
        make.session.scalar(select(ApiToken)).expires_at = utcnow() - timedelta(seconds=1)
    elif problem == "inactive":
        user.is_active = False
    make.session.commit()

    response = client.get("/api/v1/cities", headers=headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.is_json and response.get_json()["error"]
    assert "Tokenville" not in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers


def test_a_valid_token_reads_without_cookies_or_caching(client: FlaskClient, make: Factory) -> None:
    user = make.user(make.city(name="Tokenville"), role=Role.ANALYST)
    response = _get(client, "/api/v1/me", _token(make.session, user))
    assert response.status_code == 200
    assert response.get_json()["email"] == user.email
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert response.headers["Content-Type"] == "application/json"


def test_last_use_is_recorded_at_most_once_a_minute(client: FlaskClient, make: Factory) -> None:
    user = make.user(make.city(), role=Role.ANALYST)
    token = _token(make.session, user)
    _get(client, "/api/v1/me", token)
    first = make.session.scalar(select(ApiToken.last_used_at))
    _get(client, "/api/v1/me", token)
    assert first is not None
    assert make.session.scalar(select(ApiToken.last_used_at)) == first

    row = make.session.scalar(select(ApiToken))
    row.last_used_at = first - timedelta(minutes=2)
    make.session.commit()
    _get(client, "/api/v1/me", token)
    assert make.session.scalar(select(ApiToken.last_used_at)) > first - timedelta(seconds=1)


# --- City scope ---------------------------------------------------------------------------


def _victim(make: Factory) -> dict[str, object]:
    victim = make.city(name="Victimville")
    initiative = make.initiative(victim, name="Secret initiative")
    wave = make.wave(initiative, name="Secret wave", status=WaveStatus.OPEN)
    area = initiative.areas_with_role("treated")[0]
    area.name, area.code = "Secret area", "secret-area"
    make.session.commit()
    return {"city_id": victim.id, "initiative_id": initiative.id, "wave_id": wave.id}


SECRETS = ("Victimville", "Secret initiative", "Secret wave", "Secret area", "secret-area")


@pytest.mark.parametrize("role", [Role.ADMIN, Role.ANALYST])
def test_a_token_never_reads_another_citys_objects(
    app: Flask, client: FlaskClient, make: Factory, role: Role
) -> None:
    ids = _victim(make)
    intruder = make.user(make.city(name="Elsewhere"), role=role)
    token = _token(make.session, intruder)
    before = make.session.scalar(select(func.count(AuditEvent.id)))
    checked = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        missing = set(rule.arguments) - set(ids)
        assert not missing, f"add {missing} to _victim for {rule.rule}"
        url = rule.build({name: ids[name] for name in rule.arguments})[1]
        response = _get(client, url, token)
        body = response.get_data(as_text=True)
        for secret in SECRETS:
            assert secret not in body, (url, secret)
        if rule.arguments:
            assert response.status_code == 404, (url, response.status_code)
            assert response.get_json() == {"error": "Not found."}
            checked.append(rule.endpoint)
    assert {"api.city", "api.initiative_indices", "api.wave_dataset"} <= set(checked)
    # Nothing was built or downloaded for the intruder.
    assert make.session.scalar(select(func.count(AuditEvent.id))) == before


def test_lists_show_only_the_token_users_cities(client: FlaskClient, make: Factory) -> None:
    mine, also_mine, other = (
        make.city(name="Alpha"),
        make.city(name="Beta"),
        make.city(name="Gamma"),
    )
    user = make.user(mine, role=Role.ANALYST)
    user.memberships.append(Membership(city=also_mine, role=Role.ADMIN))
    make.session.commit()
    make.initiative(mine, name="Ours")
    make.initiative(other, name="Theirs")
    token = _token(make.session, user)

    cities = _get(client, "/api/v1/cities", token).get_json()["cities"]
    assert [(c["name"], c["role"]) for c in cities] == [("Alpha", "analyst"), ("Beta", "admin")]
    me = _get(client, "/api/v1/me", token).get_json()
    assert [c["id"] for c in me["cities"]] == [mine.id, also_mine.id]
    assert me["token"]["prefix"].startswith("sa_") and "token_hash" not in me["token"]
    listed = _get(client, f"/api/v1/cities/{mine.id}/initiatives", token).get_json()
    assert [i["name"] for i in listed["initiatives"]] == ["Ours"]
    assert listed["truncated"] is False
    assert _get(client, f"/api/v1/cities/{other.id}/initiatives", token).status_code == 404


def test_an_initiative_shows_its_area_design_and_waves(client: FlaskClient, make: Factory) -> None:
    city = make.city()
    treated, comparison = make.area(city, code="T1"), make.area(city, code="C1")
    initiative = make.initiative(city, treated=[treated], comparison=[comparison])
    first = make.wave(initiative, name="Before", status=WaveStatus.CLOSED)
    second = make.wave(initiative, name="After", status=WaveStatus.OPEN)
    token = _token(make.session, make.user(city, role=Role.ANALYST))

    data = _get(client, f"/api/v1/initiatives/{initiative.id}", token).get_json()
    assert {(a["code"], a["role"]) for a in data["areas"]} == {
        ("T1", "treated"),
        ("C1", "comparison"),
    }
    assert [(w["id"], w["status"]) for w in data["waves"]] == [
        (first.id, "closed"),
        (second.id, "open"),
    ]
    waves = _get(client, f"/api/v1/initiatives/{initiative.id}/waves", token).get_json()
    assert [w["name"] for w in waves["waves"]] == ["Before", "After"]


@pytest.mark.parametrize(
    ("role", "complete", "shown"),
    [
        (Role.ANALYST, 3, "<10"),
        (Role.COORDINATOR, 3, "<10"),
        (Role.ADMIN, 3, 3),
        (Role.ANALYST, 0, 0),
        (Role.ANALYST, 12, 12),
    ],
)
def test_small_response_counts_are_masked_except_for_admins(
    client: FlaskClient, make: Factory, role: Role, complete: int, shown: int | str
) -> None:
    wave = make.wave(languages=["en", "fr"])
    _complete(make.session, wave, complete)
    token = _token(make.session, make.user(wave.initiative.city, role=role))
    data = _get(client, f"/api/v1/waves/{wave.id}", token).get_json()
    assert data["complete_responses"] == shown
    assert data["counts_exact"] is (role == Role.ADMIN)
    assert data["languages"] == ["en", "fr"] and data["status"] == "open"


# --- Indices and change -------------------------------------------------------------------


def test_indices_and_changes_carry_confidence_intervals(
    demo: Initiative, client: FlaskClient, make: Factory
) -> None:
    user, initiative = _demo_coordinator(make.session), demo
    token = _token(make.session, user)
    # The demo's rounds are the city's: they evaluate the initiative in its design areas.
    wave_ids = [w.id for w in waves_for_initiative(make.session, initiative)]
    assert len(wave_ids) == 2

    data = _get(client, f"/api/v1/initiatives/{initiative.id}/indices", token).get_json()
    assert data["withheld"] is None and data["ci_level"] == 0.95
    # The demo's baseline has closed: the model is frozen, as the datasets say.
    model = data["scoring_model"]
    assert model["status"] == "frozen" and model["note"] is None
    # Fitted on the baseline's published sample (whole tens per area of 50 answers).
    assert len(model["hash"]) == 64 and model["reference_n"] >= 160
    assert [w["wave_id"] for w in data["waves"]] == wave_ids
    trust = [m for m in data["indices"] if m["construct"] == "trust"]
    assert {(m["arm"], m["wave_id"]) for m in trust} == {
        (arm, wave_id) for arm in ("treated", "comparison", "all") for wave_id in wave_ids
    }
    for mean in trust:
        assert mean["withheld"] is None
        assert mean["ci_lower"] < mean["mean"] < mean["ci_upper"]
        assert mean["n"] >= 30
    validation = data["validation"]
    reliability = {r["construct"]: r for r in validation["reliability"]}
    assert reliability["trust"]["alpha_ci"][0] < reliability["trust"]["alpha"]
    assert {v["metric"] for v in reliability["trust"]["verdicts"]} == {
        "alpha",
        "omega",
        "omega_ordinal",
    }
    assert 0 < reliability["trust"]["omega_ordinal"] < 1
    assert validation["fit"]["cfi"] is not None
    assert {v["metric"] for v in validation["fit"]["verdicts"]} == {"cfi", "tli", "rmsea", "srmr"}
    assert {i["across"] for i in validation["invariance"]} == {"wave", "language"}

    changes = _get(client, f"/api/v1/initiatives/{initiative.id}/changes", token).get_json()
    treated = next(
        c for c in changes["changes"] if c["construct"] == "trust" and c["arm"] == "treated"
    )
    assert (treated["before_wave_id"], treated["after_wave_id"]) == tuple(wave_ids)
    assert treated["ci_lower"] < treated["change"] < treated["ci_upper"]
    did = next(d for d in changes["did"] if d["construct"] == "trust")
    assert did["ci_lower"] < did["did"] < did["ci_upper"]
    assert did["method"].startswith("Area-level") and did["n_areas_treated"] == len(
        initiative.areas_with_role("treated")
    )
    # Reading the estimates is audited like the console's report.
    actions = set(
        make.session.scalars(select(AuditEvent.action).where(AuditEvent.user_id == user.id))
    )
    assert {"report_built", "report_viewed"} <= actions


def test_estimates_of_small_groups_are_withheld_with_the_reason(
    client: FlaskClient, make: Factory
) -> None:
    user, initiative = _demo(make, per_area=8)
    token = _token(make.session, user)
    data = _get(client, f"/api/v1/initiatives/{initiative.id}/indices", token).get_json()
    arms = [m for m in data["indices"] if m["arm"] == "treated"]
    assert arms
    for mean in arms:
        assert mean["mean"] is None and mean["ci_lower"] is None
        assert "withheld" in mean["withheld"] and "< 30" in mean["withheld"]
    changes = _get(client, f"/api/v1/initiatives/{initiative.id}/changes", token).get_json()
    treated = [c for c in changes["changes"] if c["arm"] == "treated"]
    assert treated and all(c["withheld"] and c["change"] is None for c in treated)


def test_an_initiative_without_responses_says_why_there_are_no_indices(
    client: FlaskClient, make: Factory
) -> None:
    wave = make.wave()
    token = _token(make.session, make.user(wave.initiative.city, role=Role.ANALYST))
    url = f"/api/v1/initiatives/{wave.initiative_id}"
    indices = _get(client, url + "/indices", token).get_json()
    assert indices["indices"] == [] and indices["withheld"] == "No complete responses yet."
    assert indices["validation"]["fit"]["withheld"] == "No complete responses yet."
    changes = _get(client, url + "/changes", token).get_json()
    assert changes["changes"] == [] and changes["withheld"] == "No complete responses yet."


# --- Datasets (delegated to surveyapp.exports.web) ----------------------------------------


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("format=xlsx", "format"),
        ("shape=tall", "shape"),
        ("free_text=maybe", "free_text"),
        ("bundle=perhaps", "bundle"),
    ],
)
def test_dataset_options_are_checked_before_anything_is_exported(
    client: FlaskClient, make: Factory, query: str, parameter: str
) -> None:
    wave = make.wave()
    token = _token(make.session, make.user(wave.initiative.city, role=Role.ADMIN))
    response = _get(client, f"/api/v1/waves/{wave.id}/dataset?{query}", token)
    assert response.status_code == 400
    assert f"'{parameter}'" in response.get_json()["error"]


def test_dataset_downloads_are_delegated_with_the_token_users_role(
    client: FlaskClient, make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flask import Response as FlaskResponse

    calls = []

    def fake(scope, obj, **options):
        calls.append((scope, obj.id, options))
        return FlaskResponse("a,b\n", mimetype="text/csv")

    monkeypatch.setattr("surveyapp.exports.web.dataset_response", fake)
    wave = make.wave()
    city = wave.initiative.city
    user = make.user(city, role=Role.ANALYST)
    token = _token(make.session, user)
    urls = [
        f"/api/v1/waves/{wave.id}/dataset",
        f"/api/v1/initiatives/{wave.initiative_id}/dataset?format=dta&shape=long",
        f"/api/v1/cities/{city.id}/dataset?free_text=true&format=zip",
        f"/api/v1/waves/{wave.id}/dataset?format=sav&bundle=true",
    ]
    for url in urls:
        response = _get(client, url, token)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    common = {"role": "analyst", "via": "api"}
    assert [
        (scope, obj_id, {k: o[k] for k in ("fmt", "shape", "free_text", "bundle")})
        for scope, obj_id, o in calls
    ] == [
        ("wave", wave.id, {"fmt": "csv", "shape": "wide", "free_text": False, "bundle": False}),
        (
            "initiative",
            wave.initiative_id,
            {"fmt": "dta", "shape": "long", "free_text": False, "bundle": False},
        ),
        ("city", city.id, {"fmt": "zip", "shape": "wide", "free_text": True, "bundle": False}),
        ("wave", wave.id, {"fmt": "sav", "shape": "wide", "free_text": False, "bundle": True}),
    ]
    assert all({k: o[k] for k in common} == common and o["user"].id == user.id for *_, o in calls)


def test_the_demo_initiative_downloads_as_csv_for_analysts_only(
    demo: Initiative, client: FlaskClient, make: Factory
) -> None:
    user, initiative = _demo_coordinator(make.session), demo
    token = _token(make.session, user)
    url = f"/api/v1/initiatives/{initiative.id}/dataset"
    refused = _get(client, url, token)  # the demo user is a coordinator
    assert refused.status_code == 403 and "coordinators" in refused.get_json()["error"]

    membership = make.session.scalar(select(Membership).where(Membership.user_id == user.id))
    membership.role = Role.ANALYST
    make.session.commit()
    response = _get(client, url, token)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Cache-Control"] == "no-store"
    lines = response.get_data(as_text=True).splitlines()
    # One row per complete response of its design areas in the two city-wide rounds.
    expected = _complete_in(make.session, response_scope(make.session, initiative))
    assert "ppltrst" in lines[0] and len(lines) == 1 + expected
    # The Stata file with its codebook, through the same token.
    bundle = _get(client, f"{url}?format=dta&bundle=true", token)
    with zipfile.ZipFile(io.BytesIO(bundle.get_data())) as archive:
        assert {"data-wide.dta", "codebook.html", "datapackage.json"} <= set(archive.namelist())
    # The long shape in SPSS, as the schema allows it.
    long = _get(client, f"{url}?format=sav&shape=long", token)
    assert long.status_code == 200 and long.mimetype == "application/x-spss-sav"
    event = make.session.scalar(select(AuditEvent).where(AuditEvent.action == "dataset_downloaded"))
    assert event.user_id == user.id and event.details["via"] == "api"


def test_the_demo_city_downloads_as_csv(
    demo: Initiative, client: FlaskClient, make: Factory
) -> None:
    user, initiative = _demo_coordinator(make.session), demo
    membership = make.session.scalar(select(Membership).where(Membership.user_id == user.id))
    membership.role = Role.ADMIN
    make.session.commit()
    token = _token(make.session, user)
    url = f"/api/v1/cities/{initiative.city_id}/dataset"
    # Every complete answer of the city's waves once, those outside every design included.
    expected = _complete_in(make.session, Wave.city_id == initiative.city_id)
    # A real request starts with an empty session; the objects this test made would
    # answer lazy loads that a streamed download makes after the request's session is gone.
    make.session.expunge_all()
    response = _get(client, url, token)
    assert response.status_code == 200
    lines = response.get_data(as_text=True).splitlines()
    assert "ppltrst" in lines[0] and len(lines) == 1 + expected


# --- Errors -------------------------------------------------------------------------------


def test_every_api_error_is_json(app: Flask, client: FlaskClient, make: Factory) -> None:
    user = make.user(make.city(), role=Role.ANALYST)
    token = _token(make.session, user)
    headers = {"Authorization": f"Bearer {token}"}
    unknown = client.get("/api/v1/nothing-here", headers=headers)
    assert unknown.status_code == 404 and unknown.get_json() == {"error": "Not found."}
    posted = client.post("/api/v1/me", headers=headers)
    assert posted.status_code == 405 and "GET" in posted.get_json()["error"]
    assert "GET" in posted.headers["Allow"]
    deleted = client.delete(f"/api/v1/cities/{user.memberships[0].city_id}/dataset")
    assert deleted.status_code == 405 and "GET" in deleted.headers["Allow"]
    not_an_id = client.get("/api/v1/cities/abc", headers=headers)
    assert not_an_id.status_code == 404 and not_an_id.is_json
    too_large = client.get(f"/api/v1/waves/{2**40}", headers=headers)
    assert too_large.status_code == 404 and too_large.is_json

    app.config["API_RATE_LIMIT"] = "2 per minute"
    try:
        statuses = [client.get("/api/v1/me", headers=headers).status_code for _ in range(3)]
        limited = client.get("/api/v1/me", headers=headers)
    finally:
        del app.config["API_RATE_LIMIT"]
    assert statuses == [200, 200, 429]
    assert limited.status_code == 429 and "Too many requests" in limited.get_json()["error"]


def test_the_openapi_document_names_exactly_the_api_routes(app: Flask, client: FlaskClient) -> None:
    document = client.get("/api/openapi.json")
    assert document.status_code == 200
    spec = document.get_json()
    assert spec == json.loads(json.dumps(openapi_document()))  # what schemathesis tests
    assert spec["openapi"].startswith("3.")
    routes = {
        re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
    }
    assert routes == set(spec["paths"])
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path, item in spec["paths"].items():
        operation = item["get"]
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                assert f"{{{parameter['name']}}}" in path
                assert parameter["schema"]["minimum"] == 1
        if path != "/api/openapi.json":
            assert {"200", "401", "404"} <= set(operation["responses"]), path


# --- Token page and CLI -------------------------------------------------------------------


def test_a_new_token_is_shown_once_and_only_its_hash_is_stored(
    client: FlaskClient, make: Factory
) -> None:
    city = make.city(name="Tokenville")
    user = make.user(city, role=Role.ANALYST)
    sign_in(client, user)

    made = client.post("/staff/tokens", data={"name": "R on my laptop", "days": "30"})
    assert made.status_code == 200
    html = made.get_data(as_text=True)
    tokens = TOKEN_PATTERN.findall(html)
    assert len(set(tokens)) == 1
    token = tokens[0]

    row = make.session.scalar(select(ApiToken))
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (row.name, row.prefix) and token.startswith(row.prefix)
    assert timedelta(days=29) < row.expires_at - row.created_at <= timedelta(days=30)
    again = client.get("/staff/tokens").get_data(as_text=True)
    assert token not in again and row.prefix in again and "R on my laptop" in again
    assert _get(client, "/api/v1/me", token).get_json()["email"] == user.email
    event = make.session.scalar(select(AuditEvent).where(AuditEvent.action == "api_token_created"))
    assert (event.user_id, event.city_id, event.details["prefix"]) == (user.id, city.id, row.prefix)


def test_a_token_needs_a_name(client: FlaskClient, make: Factory) -> None:
    sign_in(client, make.user(make.city(), role=Role.ANALYST))
    page = client.post("/staff/tokens", data={"name": "  ", "days": "90"})
    assert page.status_code == 400
    assert not TOKEN_PATTERN.search(page.get_data(as_text=True))
    assert make.session.scalar(select(func.count(ApiToken.id))) == 0


def test_revoking_a_token_stops_it_at_once(client: FlaskClient, make: Factory) -> None:
    user = make.user(make.city(), role=Role.ANALYST)
    token = _token(make.session, user, name="old laptop")
    row = make.session.scalar(select(ApiToken))
    sign_in(client, user)
    assert _get(client, "/api/v1/me", token).status_code == 200

    revoked = client.post(f"/staff/tokens/{row.id}/revoke")
    assert revoked.status_code == 303
    assert _get(client, "/api/v1/me", token).status_code == 401
    page = client.get("/staff/tokens").get_data(as_text=True)
    assert "revoked" in page and f"/staff/tokens/{row.id}/revoke" not in page
    assert make.session.scalar(select(AuditEvent).where(AuditEvent.action == "api_token_revoked"))


def test_nobody_revokes_another_users_token(client: FlaskClient, make: Factory) -> None:
    city = make.city()
    owner, other = make.user(city, role=Role.ANALYST), make.user(city, role=Role.ADMIN)
    token = _token(make.session, owner)
    row = make.session.scalar(select(ApiToken))
    sign_in(client, other)
    assert client.post(f"/staff/tokens/{row.id}/revoke").status_code == 404
    assert row.prefix not in client.get("/staff/tokens").get_data(as_text=True)
    assert _get(client, "/api/v1/me", token).status_code == 200


def test_the_token_page_needs_a_signed_in_user(client: FlaskClient, make: Factory) -> None:
    user = make.user(make.city(), role=Role.ANALYST)
    _token(make.session, user)
    row = make.session.scalar(select(ApiToken))
    assert client.get("/staff/tokens").status_code == 302
    assert client.post(f"/staff/tokens/{row.id}/revoke").status_code == 302
    assert make.session.get(ApiToken, row.id).revoked_at is None


def test_tokens_from_the_command_line(
    runner: FlaskCliRunner, client: FlaskClient, make: Factory
) -> None:
    city = make.city()
    user = make.user(city, role=Role.ANALYST, email="analyst@city.example")
    made = runner.invoke(
        main,
        ["tokens", "create", "--email", "Analyst@City.example", "--name", "cron", "--days", "7"],
    )
    assert made.exit_code == 0, made.output
    token = TOKEN_PATTERN.search(made.output).group(0)
    assert _get(client, "/api/v1/me", token).get_json()["email"] == user.email

    row = make.session.scalar(select(ApiToken))
    listed = runner.invoke(main, ["tokens", "list", "--email", user.email])
    assert row.prefix in listed.output and "active" in listed.output and token not in listed.output

    revoked = runner.invoke(main, ["tokens", "revoke", str(row.id)])
    assert revoked.exit_code == 0, revoked.output
    assert _get(client, "/api/v1/me", token).status_code == 401
    assert "revoked" in runner.invoke(main, ["tokens", "list", "--email", user.email]).output
    actions = make.session.scalars(
        select(AuditEvent.action).where(AuditEvent.actor == "surveyapp cli").order_by(AuditEvent.id)
    ).all()
    assert actions == ["api_token_created", "api_token_revoked"]

    unknown = runner.invoke(main, ["tokens", "create", "--email", "no@one.example", "--name", "x"])
    assert unknown.exit_code != 0 and "no account" in unknown.output
    for days in ("0", "366"):
        refused = runner.invoke(
            main, ["tokens", "create", "--email", user.email, "--name", "x", "--days", days]
        )
        assert refused.exit_code != 0 and "1<=x<=365" in refused.output
