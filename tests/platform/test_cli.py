"""The `surveyapp` command: database, accounts, instruments and demo data."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.auth.passwords import verify_password
from surveyapp.cli import main
from surveyapp.models import AuditEvent, Instrument, Response, User, Wave

from ..conftest import CORE_INSTRUMENT, Factory

FIXTURES = Path(__file__).parents[1] / "instruments" / "fixtures"


def test_db_check_reports_no_drift(runner: FlaskCliRunner) -> None:
    result = runner.invoke(main, ["db", "check"])
    assert result.exit_code == 0, result.output
    assert "agree" in result.output


def test_users_create_with_city_role(runner: FlaskCliRunner, make: Factory) -> None:
    city = make.city(slug="ghent")
    result = runner.invoke(
        main,
        ["users", "create", "--email", "An@Ghent.example", "--city", "ghent", "--role", "analyst"],
        input="a long enough password\na long enough password\n",
    )
    assert result.exit_code == 0, result.output
    user = make.session.scalar(select(User).where(User.email == "an@ghent.example"))
    assert user is not None
    assert [(m.city_id, m.role) for m in user.memberships] == [(city.id, "analyst")]
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, "a long enough password")
    assert make.session.scalar(select(AuditEvent).where(AuditEvent.action == "user_created"))


def test_users_create_explains_mistakes(runner: FlaskCliRunner, make: Factory) -> None:
    make.user(email="taken@city.example")
    cases = [
        (["--email", "taken@city.example"], "already an account"),
        (["--email", "new@city.example", "--city", "atlantis", "--role", "admin"], "atlantis"),
        (["--email", "not-an-address"], "not an e-mail address"),
    ]
    for args, message in cases:
        result = runner.invoke(
            main, ["users", "create", *args, "--password", "a long enough password"]
        )
        assert result.exit_code != 0
        assert message in result.output
    result = runner.invoke(
        main, ["users", "create", "--email", "x@y.example", "--password", "short"]
    )
    assert result.exit_code != 0 and "at least 12" in result.output


def test_instruments_validate(runner: FlaskCliRunner) -> None:
    ok = runner.invoke(main, ["instruments", "validate", str(CORE_INSTRUMENT)])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(
        main, ["instruments", "validate", str(FIXTURES / "bad_duplicate_item_id.yaml")]
    )
    assert bad.exit_code != 0
    assert "bad_duplicate_item_id.yaml" in bad.output


def test_instruments_load_is_idempotent_and_refuses_changes(
    runner: FlaskCliRunner, db_session: Session, tmp_path: Path
) -> None:
    first = runner.invoke(main, ["instruments", "load"])
    assert first.exit_code == 0, first.output
    assert "published" in first.output
    again = runner.invoke(main, ["instruments", "load"])
    assert again.exit_code == 0 and "unchanged" in again.output
    assert db_session.scalar(select(func.count(Instrument.id))) == 1

    changed = tmp_path / "social-cohesion-safety" / "1.0.0.yaml"
    changed.parent.mkdir()
    changed.write_text(
        CORE_INSTRUMENT.read_text(encoding="utf-8").replace(
            "most people can be trusted", "most people can usually be trusted"
        ),
        encoding="utf-8",
    )
    refused = runner.invoke(main, ["instruments", "load", str(changed)])
    assert refused.exit_code != 0
    assert "new version number" in refused.output
    stored = db_session.scalar(select(Instrument))
    assert "usually" not in str(stored.definition)


def test_demo_is_idempotent(runner: FlaskCliRunner, db_session: Session) -> None:
    assert runner.invoke(main, ["instruments", "load"]).exit_code == 0
    first = runner.invoke(main, ["demo"])
    assert first.exit_code == 0, first.output
    assert "/w/" in first.output and "sign in as" in first.output
    responses = db_session.scalar(select(func.count(Response.id)))
    waves = db_session.scalar(select(func.count(Wave.id)))
    assert responses >= 300 and waves == 2

    second = runner.invoke(main, ["demo"])
    assert second.exit_code == 0, second.output
    assert db_session.scalar(select(func.count(Response.id))) == responses
    assert db_session.scalar(select(func.count(Wave.id))) == waves
    link = next(line for line in first.output.splitlines() if "/w/" in line)
    assert link in second.output


def test_demo_needs_the_instrument(runner: FlaskCliRunner) -> None:
    result = runner.invoke(main, ["demo"])
    assert result.exit_code != 0
    assert "instruments load" in result.output


def test_demo_refused_in_production(runner: FlaskCliRunner, monkeypatch) -> None:
    monkeypatch.setitem(runner.app.config, "ENV_NAME", "production")
    result = runner.invoke(main, ["demo"])
    assert result.exit_code != 0
    assert "refused in production" in result.output


def test_demo_generator_builds_in_the_initiative_effect(core_instrument) -> None:
    """Synthetic residents answer higher when their latent levels shift up, as designed.

    Checked on 2,000 simulated residents per condition so that sampling noise (which the
    demo's 200 per wave do show) cannot decide the outcome.
    """
    import numpy as np

    from surveyapp.demo import FOLLOW_UP_SHIFT, _answers
    from surveyapp.models import AreaRole

    items = [i for s in core_instrument.sections_for(["demographics"]) for i in s.items]
    rng = np.random.default_rng(7)

    def means(shift: float) -> dict[str, float]:
        values: dict[str, list[int]] = {"nbh_help": [], "nbh_not_get_along": []}
        for _ in range(2000):
            for answer in _answers(items, rng, shift):
                if answer.item_id in values and (answer.value_code or 0) > 0:
                    values[answer.item_id].append(answer.value_code)
        return {item_id: float(np.mean(v)) for item_id, v in values.items()}

    gain = FOLLOW_UP_SHIFT[AreaRole.TREATED] - FOLLOW_UP_SHIFT[AreaRole.COMPARISON]
    assert gain > 0
    before, after = means(0.0), means(gain)
    # A positively worded trust item rises, a reverse-worded one falls.
    assert after["nbh_help"] - before["nbh_help"] > 0.2
    assert after["nbh_not_get_along"] - before["nbh_not_get_along"] < -0.2


def test_export_xlsform_command(runner: FlaskCliRunner, tmp_path: Path) -> None:
    out = tmp_path / "form.xlsx"
    args = ["instruments", "export-xlsform", "social-cohesion-safety", "1.0.0", str(out)]
    result = runner.invoke(main, [*args, "--languages", "en,fr"])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 5000
    unknown = runner.invoke(main, [*args, "--languages", "en,zz"])
    assert unknown.exit_code != 0 and "Unknown language(s): zz" in unknown.output
    missing = runner.invoke(main, ["instruments", "export-xlsform", "nope", "1.0.0", str(out)])
    assert missing.exit_code != 0 and "no instrument nope 1.0.0" in missing.output


def test_commands_on_an_empty_database_say_what_to_do(tmp_path: Path) -> None:
    """No traceback when someone forgets `surveyapp db upgrade`."""
    from surveyapp import create_app

    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": f"sqlite:///{tmp_path / 'e.db'}"})
    result = app.test_cli_runner().invoke(main, ["instruments", "load"])
    assert result.exit_code != 0
    assert "Run `surveyapp db upgrade` first" in result.output
    from surveyapp.extensions import db

    db.engine_for(app).dispose()


def test_export_pdf_command(runner: FlaskCliRunner, tmp_path: Path) -> None:
    out = tmp_path / "paper-ar.pdf"
    args = ["instruments", "export-pdf", "social-cohesion-safety", "1.0.0"]
    result = runner.invoke(main, [*args, "ar", str(out), "--modules", "demographics"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-")
    wrong = runner.invoke(main, [*args, "xx", str(out)])
    assert wrong.exit_code != 0 and "Unknown language 'xx'" in wrong.output
