"""Shared fixtures: app, database isolated per test, client, CLI runner, factories.

The suite runs on SQLite by default. ``SURVEYAPP_TEST_DATABASE=postgresql`` runs it on a
throw-away PostgreSQL database (created per run, dropped afterwards) on the server named
by ``SURVEYAPP_TEST_PG_ADMIN_URL`` (default: local trust-auth superuser ``postgres``).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, selectinload
from werkzeug.test import TestResponse

from surveyapp import create_app, migrate
from surveyapp.config import DEVELOPMENT_SECRET, derived_code_key
from surveyapp.db import build_engine, utcnow
from surveyapp.extensions import db
from surveyapp.instruments import Instrument, load_instrument
from surveyapp.instruments.registry import publish
from surveyapp.models import (
    Area,
    AreaRole,
    City,
    Initiative,
    InitiativeArea,
    Invitation,
    Membership,
    Role,
    User,
    Wave,
    WaveArea,
    WaveMode,
    WaveStatus,
)
from surveyapp.respond.codes import generate_code, hash_code
from surveyapp.respond.used_codes import mark_used

#: The password of every staff account made by ``make.user`` (unless given).
STAFF_PASSWORD = "correct horse battery"
#: The key the test app hashes invitation codes with (its secret key is the development one).
TEST_CODE_KEY = derived_code_key(DEVELOPMENT_SECRET).encode()

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CORE_INSTRUMENT = PROJECT_ROOT / "instruments" / "social-cohesion-safety" / "1.0.0.yaml"
TRANSLATIONS = PROJECT_ROOT / "translations"
#: The open form of a wave with every draft translation acknowledged (issue 26): tests that
#: are not about the acknowledgement open waves in French, a draft, with it.
ACKNOWLEDGE_DRAFTS = {
    "acknowledge": "y",
    "draft_languages": [path.name for path in TRANSLATIONS.iterdir() if path.is_dir()],
}
BACKEND = os.environ.get("SURVEYAPP_TEST_DATABASE", "sqlite")
PG_ADMIN_URL = os.environ.get(
    "SURVEYAPP_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
if BACKEND not in ("sqlite", "postgresql"):
    raise pytest.UsageError(f"SURVEYAPP_TEST_DATABASE must be sqlite or postgresql, not {BACKEND}")


@contextlib.contextmanager
def throwaway_database(directory: Path) -> Iterator[str]:
    """Yield the URL of a new, empty database of the backend under test; drop it after."""
    if BACKEND == "sqlite":
        yield f"sqlite:///{directory / f'test_{secrets.token_hex(4)}.sqlite'}"
        return
    name = f"surveyapp_test_{secrets.token_hex(6)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def pytest_configure(config: pytest.Config) -> None:
    """Compile the translation catalogs, as `make test` does, for direct pytest runs.

    Once, before any test: under pytest-xdist (`make test-fast`) in the controlling
    process only, so that no worker reads a catalog while another one rewrites it.
    """
    if hasattr(config, "workerinput"):
        return
    from surveyapp.i18n.catalogs import compile_catalogs
    from surveyapp.i18n.instrument import clear_cache

    compile_catalogs(TRANSLATIONS)
    clear_cache()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated to head, shared by the whole run."""
    with throwaway_database(tmp_path_factory.mktemp("db")) as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    """The app in testing mode on the test database.

    CSRF is off (tests that need it say so). Rate limits are on, in memory, with counters
    reset before every test (``fresh_rate_limits``). Admins need no second factor here, so
    that ``sign_in`` signs them in with their password; staff who set one up still need it,
    and the second-factor tests switch the rule on (``admin_second_factor``).
    """
    application = create_app(
        {
            "ENV_NAME": "testing",
            "DATABASE_URL": database_url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            "ADMIN_SECOND_FACTOR": False,
        }
    )
    yield application
    db.session.remove()
    db.engine_for(application).dispose()


@pytest.fixture
def admin_second_factor(app: Flask) -> Iterator[None]:
    """City admins must set up and pass a second factor, as in production."""
    app.config["ADMIN_SECOND_FACTOR"] = True
    try:
        yield
    finally:
        app.config["ADMIN_SECOND_FACTOR"] = False


@pytest.fixture(autouse=True)
def fresh_rate_limits() -> None:
    """Every test starts with empty rate-limit counters."""
    from surveyapp.extensions import limiter

    if limiter.enabled and getattr(limiter, "_storage", None) is not None:
        limiter.reset()


@pytest.fixture(scope="session")
def demo_engine(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A second database holding what `surveyapp instruments load` and `surveyapp demo` make.

    Built once per run for the tests that request ``demo``: the demo's 1,200 synthetic
    responses cost seconds to build, which dashboards, exports, reports and API tests
    used to spend each.
    """
    from surveyapp.cli import main

    with throwaway_database(tmp_path_factory.mktemp("demo")) as url:
        migrate.upgrade(url)
        engine = build_engine(url)
        db.session.remove()
        db.session.configure(bind=engine)
        try:
            runner = app.test_cli_runner()
            for command in (["instruments", "load"], ["demo"]):
                result = runner.invoke(main, command)
                assert result.exit_code == 0, result.output
        finally:
            db.session.remove()
            db.session.configure(bind=None)
        yield engine
        engine.dispose()


@pytest.fixture
def db_session(app: Flask, request: pytest.FixtureRequest) -> Iterator[Session]:
    """The app's session inside a transaction that is rolled back after the test.

    Commits in the code under test become savepoints, so every test starts from the same
    empty (migrated) database, or, for a test that requests ``demo``, from the same demo
    database. ``client``, ``runner`` and ``make`` work on whichever of the two it is.
    """
    if "demo" in request.fixturenames:
        engine = request.getfixturevalue("demo_engine")
    else:
        engine = db.engine_for(app)
    connection = engine.connect()
    transaction = connection.begin()
    db.session.remove()
    db.session.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield db.session
    finally:
        db.session.remove()
        db.session.configure(bind=None, join_transaction_mode="conditional_savepoint")
        if transaction.is_active:
            transaction.rollback()
        connection.close()


@pytest.fixture
def demo(db_session: Session) -> Initiative:
    """The demo's effective initiative, "Neighbourhood hosts" (`surveyapp demo`: a city of
    12 areas, two city-wide rounds of about 600 answers, two initiatives).

    Requesting it runs the test on the demo database (see ``demo_engine``), rolled back
    after the test like the empty one, so the test may change the demo. Its city, waves
    and areas are loaded, as if just built: they stay readable after a request.
    """
    from surveyapp.demo import DEMO_CITY_SLUG, EFFECTIVE

    return db_session.scalars(
        select(Initiative)
        .join(City)
        .where(City.slug == DEMO_CITY_SLUG, Initiative.name == EFFECTIVE)
        .options(
            selectinload(Initiative.city),
            selectinload(Initiative.waves),
            selectinload(Initiative.area_links).selectinload(InitiativeArea.area),
        )
    ).one()


@pytest.fixture
def client(app: Flask, db_session: Session) -> FlaskClient:
    """A browser-like client on the isolated database."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask, db_session: Session) -> FlaskCliRunner:
    """Invokes ``surveyapp`` commands against the test app: ``runner.invoke(main, [...])``."""
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def core_instrument() -> Instrument:
    """The shipped standard questionnaire, validated once per run."""
    return load_instrument(CORE_INSTRUMENT)


class Factory:
    """Builds valid objects with sensible defaults and commits them.

    Inside the ``db_session`` fixture a commit only releases a savepoint, so the objects
    are visible to requests made by ``client`` and still vanish after the test. Requests
    end by closing the session: read objects again (``session.get``) after a request.
    """

    def __init__(self, session: Session, instrument: Instrument) -> None:
        self.session = session
        self.core = instrument

    def _add(self, obj: Any) -> Any:
        self.session.add(obj)
        self.session.commit()
        return obj

    def city(self, **fields: Any) -> City:
        slug = fields.pop("slug", f"city-{secrets.token_hex(3)}")
        defaults = {"name": slug.title(), "languages": ["en", "fr"], "default_language": "en"}
        return self._add(City(slug=slug, **(defaults | fields)))

    def area(self, city: City | None = None, **fields: Any) -> Area:
        code = fields.pop("code", f"area-{secrets.token_hex(3)}")
        return self._add(Area(city=city or self.city(), code=code, name=fields.pop("name", code)))

    def user(self, city: City | None = None, role: Role = Role.COORDINATOR, **fields: Any) -> User:
        from surveyapp.auth.services import create_user

        user = create_user(
            self.session,
            email=fields.pop("email", f"staff-{secrets.token_hex(3)}@city.example"),
            password=fields.pop("password", STAFF_PASSWORD),
            **fields,
        )
        if city is not None:
            user.memberships.append(Membership(city=city, role=role))
        return self._add(user)

    def instrument_row(self) -> Any:
        row, _created = publish(self.session, self.core)
        self.session.commit()
        return row

    def initiative(self, city: City | None = None, **fields: Any) -> Initiative:
        city = city or self.city()
        treated = fields.pop("treated", None) or [self.area(city)]
        comparison = fields.pop("comparison", None) or [self.area(city)]
        initiative = Initiative(
            city=city,
            name=fields.pop("name", "Street meals"),
            pyramid_level=fields.pop("pyramid_level", 1),
            target_constructs=fields.pop("target_constructs", ["trust"]),
            **fields,
        )
        initiative.area_links = [
            InitiativeArea(area=a, city_id=city.id, role=AreaRole.TREATED) for a in treated
        ] + [InitiativeArea(area=a, city_id=city.id, role=AreaRole.COMPARISON) for a in comparison]
        return self._add(initiative)

    def wave(self, initiative: Initiative | None = None, **fields: Any) -> Wave:
        row = self.instrument_row()
        status = fields.pop("status", WaveStatus.OPEN)
        now = utcnow()
        wave = Wave(
            initiative=initiative or self.initiative(),
            instrument_id=row.id,
            name=fields.pop("name", "Baseline"),
            languages=fields.pop("languages", ["en", "fr"]),
            modules=fields.pop("modules", []),
            mode=fields.pop("mode", WaveMode.BOTH),
            status=status,
            opens_at=fields.pop("opens_at", now - timedelta(days=1)),
            closes_at=fields.pop("closes_at", now + timedelta(days=30)),
            open_token=fields.pop("open_token", secrets.token_urlsafe(12)),
            frozen_instrument_hash=None if status == WaveStatus.DRAFT else row.content_hash,
            **fields,
        )
        return self._add(wave)

    def citywide_wave(self, city: City, areas: list[Area] | None = None, **fields: Any) -> Wave:
        """A city-wide round of ``city`` over ``areas`` (every area of the city if None)."""
        row = self.instrument_row()
        status = fields.pop("status", WaveStatus.OPEN)
        now = utcnow()
        wave = Wave(
            city=city,
            instrument_id=row.id,
            name=fields.pop("name", "City round"),
            languages=fields.pop("languages", ["en", "fr"]),
            modules=fields.pop("modules", []),
            mode=fields.pop("mode", WaveMode.BOTH),
            status=status,
            opens_at=fields.pop("opens_at", now - timedelta(days=1)),
            closes_at=fields.pop("closes_at", now + timedelta(days=30)),
            open_token=fields.pop("open_token", secrets.token_urlsafe(12)),
            frozen_instrument_hash=None if status == WaveStatus.DRAFT else row.content_hash,
            **fields,
        )
        wave.area_links = [WaveArea(area=area, city_id=city.id) for area in areas or []]
        return self._add(wave)

    def invitation(
        self, wave: Wave | None = None, area: Area | None = None
    ) -> tuple[str, Invitation]:
        """A new invitation and its plain code (which the database never sees)."""
        wave = wave or self.wave()
        area = area or (
            wave.initiative.areas_with_role(AreaRole.TREATED)[0]
            if wave.initiative is not None
            else wave.city.areas[0]
        )
        code = generate_code()
        stored = hash_code(code, key=TEST_CODE_KEY)
        return code, self._add(Invitation(wave=wave, area=area, code_hash=stored))

    def use(self, invitation: Invitation) -> None:
        """Mark the invitation's code used, as sending its questionnaire does."""
        assert mark_used(self.session, invitation)
        self.session.commit()


@pytest.fixture
def make(db_session: Session, core_instrument: Instrument) -> Factory:
    """Factories for cities, areas, users, initiatives, waves and invitations."""
    return Factory(db_session, core_instrument)


def sign_in(
    client: FlaskClient,
    who: User | str,
    password: str = STAFF_PASSWORD,
    *,
    next_url: str | None = None,
    address: str | None = None,
    expect: int | None = 303,
) -> TestResponse:
    """Sign a staff member in through the sign-in form, as a person does; return the answer.

    ``who`` is an account or an e-mail address; ``address`` the client's IP address (the
    sign-in throttles count per client). Signing in replaces whoever was signed in on
    ``client``. The answer must have the status ``expect`` (unless None): by default the
    redirect into the console, which only a correct e-mail address and password get.
    """
    email = who if isinstance(who, str) else who.email
    url = "/staff/login" + (f"?next={next_url}" if next_url is not None else "")
    environ = {"REMOTE_ADDR": address} if address is not None else {}
    response = client.post(url, data={"email": email, "password": password}, environ_base=environ)
    if expect is not None:
        assert response.status_code == expect, (email, response.status_code)
    return response


def complete_answers(sections: Any) -> dict[str, Any]:
    """Form data that answers every shown item of the given sections with a valid value."""
    data: dict[str, Any] = {}
    for section in sections:
        for item in section.items:
            if item.show_if is not None:
                continue
            if item.type == "number":
                data[f"q-{item.id}"] = str(item.min if item.min is not None else 1)
            elif item.type == "short_text":
                data[f"q-{item.id}"] = "Dutch"
            else:
                data[f"q-{item.id}"] = str(item.options[0].code)
    return data
