"""Headers, CSRF on every state-changing route, escaped user text, no 500 under fuzzing."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp import create_app
from surveyapp.models import AuditEvent, Invitation, Job, Response, Role
from tests.letters import letters_zip

from .conftest import Factory, sign_in

PAYLOAD = "<script>alert('x')</script><img src=x onerror=alert(1)>"
FORMULA = '=HYPERLINK("http://evil.example","x")'


def test_security_headers_on_every_kind_of_page(client: FlaskClient, make: Factory) -> None:
    wave = make.wave()
    user = make.user(wave.initiative.city, role=Role.ADMIN)
    pages = [client.get("/"), client.get(f"/w/{wave.open_token}"), client.get("/nowhere")]
    sign_in(client, user)
    pages.append(client.get(f"/staff/waves/{wave.id}"))
    for page in pages:
        headers = page.headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        # Scripts only from the app's own files (the resident pages' small script).
        assert "script-src 'self';" in csp and "'unsafe-inline'" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["Cache-Control"] == "no-store"
        assert "Strict-Transport-Security" not in headers  # testing runs on plain HTTP
    css = client.get("/static/style.css")
    assert css.headers["X-Content-Type-Options"] == "nosniff"
    assert css.headers.get("Cache-Control") != "no-store"


def test_production_sends_hsts(database_url: str) -> None:
    app = create_app(
        {
            "ENV_NAME": "production",
            "SECRET_KEY": "s" * 48,
            "DATABASE_URL": database_url,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    page = app.test_client().get("/healthz")
    assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    # The limiter is shared: put the memory counters back for the other tests.
    create_app(
        {"ENV_NAME": "testing", "DATABASE_URL": database_url, "RATELIMIT_STORAGE_URI": "memory://"}
    )


def _path_values(make: Factory) -> dict[str, object]:
    wave = make.wave()
    code, _ = make.invitation(wave)
    area = wave.initiative.areas_with_role("treated")[0]
    job = Job(city_id=wave.city_id, wave_id=wave.id, kind="letters", params={"language": "en"})
    make.session.add(job)
    make.session.commit()
    return {
        "city_id": wave.initiative.city_id,
        "area_id": area.id,
        "initiative_id": wave.initiative_id,
        "wave_id": wave.id,
        "code": code,
        "key": code,
        "page": 1,
        "token": wave.open_token,
        "action": "close",
        "kind": "waves",
        "object_id": wave.id,
        "sheet": "1",
        "token_id": 1,
        "user_id": make.user(wave.initiative.city, role=Role.ANALYST).id,
        "job_id": job.id,
        "step": "cancel",
    }


def test_every_state_changing_route_needs_the_csrf_token(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    values = _path_values(make)
    admin = make.user(make.session.get(type(make.city()), values["city_id"]), role=Role.ADMIN)
    sign_in(client, admin)
    before = _state(make.session)
    app.config["WTF_CSRF_ENABLED"] = True
    checked = []
    try:
        for rule in app.url_map.iter_rules():
            if "POST" not in rule.methods:
                continue
            missing = set(rule.arguments) - set(values)
            assert not missing, f"add {missing} to _path_values for {rule.rule}"
            url = rule.build({k: values[k] for k in rule.arguments})[1]
            refused = client.post(  # a 308 to the rule's canonical URL keeps the POST
                url,
                data={"name": "x", "code": "ABCD", "idempotency_key": "k" * 32},
                follow_redirects=True,
            )
            assert refused.status_code == 400, (url, refused.status_code)
            checked.append(rule.rule)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert _state(make.session) == before
    assert "/staff/waves/<int:wave_id>/<any(open, close, archive, delete):action>" in checked
    assert "/r/<key>/<int:page>" in checked and "/staff/login" in checked


def _state(session: Session) -> tuple:
    session.expire_all()
    return (
        session.scalar(select(func.count(Response.id))),
        session.scalar(select(func.count(Invitation.id))),
        session.scalar(select(func.count(AuditEvent.id))),
    )


def test_user_text_is_escaped_everywhere_it_is_shown(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    city = make.city(name=PAYLOAD)
    area = make.area(city, name=PAYLOAD, code=FORMULA)
    initiative = make.initiative(
        city, name=PAYLOAD, description=PAYLOAD, treated=[area], target_constructs=["trust"]
    )
    wave = make.wave(initiative, name=PAYLOAD, mode="both")
    admin = make.user(city, role=Role.ADMIN)
    sign_in(client, admin)
    pages = [
        "/staff/",
        f"/staff/cities/{city.id}/areas",
        f"/staff/areas/{area.id}",
        f"/staff/initiatives/{initiative.id}",
        f"/staff/initiatives/{initiative.id}/edit",
        f"/staff/waves/{wave.id}",
        f"/staff/waves/{wave.id}/monitor",
        f"/staff/cities/{city.id}/audit",
        f"/staff/initiatives/{initiative.id}/dashboard",
        f"/staff/cities/{city.id}/dashboard",
        f"/staff/waves/{wave.id}/codebook",
        f"/staff/initiatives/{initiative.id}/codebook",
        f"/staff/cities/{city.id}/codebook",
        f"/w/{wave.open_token}",
    ]
    for url in pages:
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html, url
    assert "&lt;script&gt;alert" in client.get("/staff/").get_data(as_text=True)
    # The mail-merge CSV neutralises formulas in the area's code and name.
    archive = letters_zip(
        client, f"/staff/waves/{wave.id}/invitations", {f"area-{area.id}": "1", "language": "en"}
    )
    row = next(csv.DictReader(io.StringIO(archive.read("codes.csv").decode("utf-8-sig"))))
    assert row["area_code"] == "'" + FORMULA
    # The letters PDF was laid out without fetching the payload's image.
    assert archive.read("letters.pdf").startswith(b"%PDF")
    # The dataset bundle's codebook escapes names too.
    bundle = client.get(f"/staff/initiatives/{initiative.id}/dataset?format=zip")
    codebook = zipfile.ZipFile(io.BytesIO(bundle.data)).read("codebook.html").decode()
    assert "<script>alert" not in codebook and "&lt;script&gt;" in codebook


def test_user_text_is_escaped_in_the_validation_report(demo, db_session, client) -> None:
    from surveyapp.demo import DEMO_EMAIL, DEMO_PASSWORD

    initiative = demo
    initiative.name = PAYLOAD
    db_session.commit()
    sign_in(client, DEMO_EMAIL, DEMO_PASSWORD)
    page = client.get(f"/staff/initiatives/{initiative.id}/report")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<script>alert" not in html
    assert "&lt;script&gt;" in html
    assert "script-src" not in page.headers["Content-Security-Policy"]


ROUTE_PARTS = st.one_of(
    st.integers(min_value=-2, max_value=10**12).map(str),
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/?#%"),
        max_size=20,
    ),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    parts=st.lists(ROUTE_PARTS, min_size=3, max_size=3),
    body=st.dictionaries(st.text(max_size=10), st.text(max_size=30), max_size=5),
)
@pytest.mark.slow
def test_no_route_answers_500_to_fuzzed_input(
    app: Flask, client: FlaskClient, make: Factory, parts: list[str], body: dict[str, str]
) -> None:
    from surveyapp.extensions import limiter

    limiter.reset()
    if not hasattr(make, "fuzz_user"):
        make.fuzz_user = make.user(make.city(), role=Role.ADMIN)
        sign_in(client, make.fuzz_user)
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        values = {}
        for i, name in enumerate(sorted(rule.arguments)):
            raw = parts[i % len(parts)]
            values[name] = "open" if name == "action" else raw
        try:
            url = rule.build(values)[1]
        except Exception:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data=body)
            assert response.status_code < 500 or response.status_code == 503, (method, url)


def test_nul_characters_are_refused_before_any_query(client: FlaskClient, make: Factory) -> None:
    """PostgreSQL cannot store NUL in text: such requests get a 400, never a 500."""
    wave = make.wave(mode="both")
    for url in ("/w/%00", f"/w/{wave.open_token}?lang=%00", "/i/AB%00CD"):
        assert client.get(url).status_code == 400, url
    refused = client.post(f"/w/{wave.open_token}", data={"consent": "yes", "website": "\x00"})
    assert refused.status_code == 400
    assert client.get(f"/w/{wave.open_token}").status_code == 200


def test_a_save_that_lost_a_race_gets_a_page_not_a_500(
    database_url: str, db_session: Session, make: Factory
) -> None:
    """Two requests that both passed the checks (a double click): the second one's insert
    breaks a unique constraint; it gets the "send it again" page and changes nothing."""
    from surveyapp.extensions import db
    from surveyapp.models import Area

    city = make.city()
    make.area(city, code="north")
    db_session.commit()
    city_id = city.id
    app = create_app(
        {
            "ENV_NAME": "testing",
            "DATABASE_URL": database_url,
            "RATELIMIT_STORAGE_URI": "memory://",
            "WTF_CSRF_ENABLED": False,
        }
    )

    @app.post("/_second_of_a_double_click")
    def second_of_a_double_click():
        db.session.add(Area(city_id=city_id, code="north", name="North again"))
        db.session.commit()  # the checks before it passed; the constraint does not
        return "saved"

    page = app.test_client().post("/_second_of_a_double_click")
    assert page.status_code == 409
    assert "send it again" in page.get_data(as_text=True)
    names = db_session.scalars(select(Area.name).where(Area.city_id == city_id)).all()
    assert names == ["north"]  # the first save is kept, the second changed nothing


def test_development_server_logs_no_address_and_no_code(app: Flask, caplog) -> None:
    """`make run` serves with werkzeug, which logged each resident's address beside the
    invitation code or resume token in the path; now neither is in the log."""
    import contextlib
    import logging
    import threading
    import urllib.error
    import urllib.request

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            for path in ("/i/K7PM-Q2XA", "/r/Zq3resumeTokenOfSomeResident0/2", "/healthz"):
                # An unknown code or token gets its page (404); the log is the point here.
                with contextlib.suppress(urllib.error.HTTPError):
                    urllib.request.urlopen(base + path, timeout=5).read()
    finally:
        server.shutdown()
        thread.join(5)
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert len(lines) == 3, lines
    log = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(lines))  # without the terminal colours
    assert "127.0.0.1" not in log
    assert "K7PM-Q2XA" not in log and "Zq3resumeTokenOfSomeResident0" not in log
    assert '"GET /i/… HTTP/1.1" 404' in log and '"GET /r/…/2 HTTP/1.1"' in log
    assert '"GET /healthz HTTP/1.1" 200' in log


def test_database_errors_do_not_carry_residents_answers(app: Flask) -> None:
    """A failed statement's error (logged when it is a 500) names no parameter values."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from surveyapp.db import build_engine

    engine = build_engine(app.config["DATABASE_URL"])
    try:
        with pytest.raises(DBAPIError) as failed, engine.connect() as connection:
            connection.execute(
                text("INSERT INTO no_such_table (answer) VALUES (:answer)"),
                {"answer": "I do not feel safe at night"},
            )
    finally:
        engine.dispose()
    assert "no_such_table" in str(failed.value)
    assert "I do not feel safe" not in str(failed.value)
