"""Staff sign in with e-mail and password and see only their own cities."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select

from surveyapp import designs
from surveyapp.models import AuditEvent, Response, ResponseStatus, User, Wave

from ..conftest import STAFF_PASSWORD, Factory, sign_in


def test_console_requires_sign_in(client: FlaskClient, make: Factory) -> None:
    page = client.get("/staff/")
    assert page.status_code == 302 and "/staff/login" in page.location


def test_sign_in_shows_only_own_cities(client: FlaskClient, make: Factory) -> None:
    ghent, lyon = make.city(name="Ghent"), make.city(name="Lyon")
    make.initiative(ghent, name="Street meals in Ghent")
    make.initiative(lyon, name="Youth club in Lyon")
    user = make.user(ghent, email="coordinator@ghent.example")
    signed_in = sign_in(client, "Coordinator@Ghent.example")
    assert signed_in.location.endswith("/staff/")
    html = client.get("/staff/").get_data(as_text=True)
    assert "Street meals in Ghent" in html
    assert "Lyon" not in html
    make.session.expire_all()
    assert make.session.get(User, user.id).last_login_at is not None
    assert make.session.scalar(select(AuditEvent).where(AuditEvent.action == "signed_in"))


def test_wrong_password_or_unknown_user(client: FlaskClient, make: Factory) -> None:
    make.user(email="an@city.example")
    for email, password in (
        ("an@city.example", "wrong password!"),
        ("nobody@x.example", STAFF_PASSWORD),
    ):
        page = sign_in(client, email, password, expect=401)
        assert "not correct" in page.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302


def test_inactive_user_cannot_sign_in(client: FlaskClient, make: Factory) -> None:
    user = make.user(email="left@city.example")
    user.is_active = False
    make.session.commit()
    sign_in(client, "left@city.example", expect=401)


def test_sign_out(client: FlaskClient, make: Factory) -> None:
    make.user(make.city(), email="out@city.example")
    sign_in(client, "out@city.example")
    assert client.get("/staff/").status_code == 200
    assert client.post("/staff/logout").status_code == 303
    assert client.get("/staff/").status_code == 302


def test_next_parameter_cannot_leave_the_site(client: FlaskClient, make: Factory) -> None:
    make.user(email="next@city.example")
    page = sign_in(client, "next@city.example", next_url="//evil.example/phish")
    assert page.location.endswith("/staff/")
    client.post("/staff/logout")
    page = sign_in(client, "next@city.example", next_url="/staff/?tab=waves")
    assert page.location.endswith("/staff/?tab=waves")


def test_demo_data_appears_in_the_console(demo, client: FlaskClient, db_session) -> None:
    """After `surveyapp demo` the printed login works and shows both waves with counts."""
    from surveyapp.demo import DEMO_EMAIL, DEMO_PASSWORD

    sign_in(client, DEMO_EMAIL, DEMO_PASSWORD)
    html = client.get("/staff/").get_data(as_text=True)
    assert "Demo City" in html and "Baseline" in html and "Follow-up" in html
    # The initiative lists the city-wide rounds that evaluate it, counted in its areas.
    baseline = db_session.scalars(select(Wave).where(Wave.name == "Baseline round")).one()
    completed = db_session.scalar(
        select(func.count(Response.id)).where(
            Response.wave_id == baseline.id,
            Response.status == ResponseStatus.COMPLETE,
            Response.area_id.in_(list(designs.area_groups(db_session, demo))),
        )
    )
    assert completed > 0 and f"<td>{completed}</td>" in html
