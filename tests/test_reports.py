"""Responses as an analysis-ready table, and the validation report in the console."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.cli import main
from surveyapp.models import Initiative
from surveyapp.reports import initiative_frame

from .conftest import sign_in


def test_initiative_frame_has_one_row_per_complete_response(
    demo: Initiative, db_session: Session
) -> None:
    from sqlalchemy import func

    from surveyapp.designs import area_groups, response_scope
    from surveyapp.models import Area, Response, ResponseStatus, Wave

    initiative = demo
    frame = initiative_frame(db_session, initiative)
    # The city-wide rounds' complete responses in the design's areas (treated and the
    # default comparison: the areas no initiative treats), none from elsewhere.
    expected = db_session.scalar(
        select(func.count(Response.id))
        .join(Wave, Response.wave_id == Wave.id)
        .where(response_scope(db_session, initiative), Response.status == ResponseStatus.COMPLETE)
    )
    assert len(frame) == expected > 800
    assert list(frame["wave"].unique()) == ["1. Baseline round", "2. Follow-up round"]
    assert set(frame["group"]) == {"treated", "comparison"}
    design = db_session.scalars(
        select(Area.code).where(Area.id.in_(area_groups(db_session, initiative)))
    )
    assert set(frame["area"]) == set(design)
    assert len(set(frame["area"])) == 9
    assert not {"station-quarter", "northgate", "market-square"} & set(frame["area"])
    assert frame["ppltrst"].between(-2, 10).all()
    assert (frame["duration_seconds"] > 0).all()
    assert "home_language" not in frame.columns  # free text stays out


def test_console_report_for_the_demo(demo: Initiative, db_session: Session, client) -> None:
    """A coordinator opens the demo initiative's validation report; it is stored and audited."""
    from surveyapp.demo import DEMO_EMAIL, DEMO_PASSWORD
    from surveyapp.models import AuditEvent, ScoringModel

    initiative = demo
    sign_in(client, DEMO_EMAIL, DEMO_PASSWORD)
    home = client.get("/staff/").get_data(as_text=True)
    assert f"/staff/initiatives/{initiative.id}/report" in home
    page = client.get(f"/staff/initiatives/{initiative.id}/report")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<svg" in html and "<script" not in html
    data = client.get(f"/staff/initiatives/{initiative.id}/report.json").get_json()
    assert data["scoring_model"]["hash"]
    stored = db_session.scalars(select(ScoringModel)).all()
    assert [(m.initiative_id, m.version) for m in stored] == [(initiative.id, 1)]
    assert stored[0].content_hash == data["scoring_model"]["hash"]
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "report_built"))


def test_report_page_in_french_and_arabic(demo: Initiative, client) -> None:
    """Staff read the report in their language, right to left in Arabic, with a way back."""
    from surveyapp.demo import DEMO_EMAIL, DEMO_PASSWORD

    initiative = demo
    sign_in(client, DEMO_EMAIL, DEMO_PASSWORD)
    url = f"/staff/initiatives/{initiative.id}/report"
    back = f'href="/staff/initiatives/{initiative.id}"'
    french = client.get(url, headers={"Accept-Language": "fr-BE,fr;q=0.9"})
    assert french.status_code == 200
    page = french.get_data(as_text=True)
    assert '<html lang="fr" dir="ltr">' in page
    assert "<h2>1. Données et nettoyage</h2>" in page and "Data and cleaning" not in page
    assert f"{back}>Retour à l’initiative</a>" in page
    assert "<svg" in page and "<script" not in page
    arabic = client.get(url + "?lang=ar").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in arabic
    assert "<h2>1. البيانات والتنظيف</h2>" in arabic and "Data and cleaning" not in arabic
    assert f"{back}>العودة إلى المبادرة</a>" in arabic


def test_report_of_another_city_is_not_found(client, make) -> None:
    """Tenant isolation: a member of one city gets 404 for another city's initiative."""
    mine, theirs = make.city(), make.city()
    other = make.initiative(theirs)
    sign_in(client, make.user(mine))
    assert client.get(f"/staff/initiatives/{other.id}/report").status_code == 404
    assert client.get(f"/staff/initiatives/{other.id}/report.json").status_code == 404
    client.post("/staff/logout")
    assert client.get(f"/staff/initiatives/{other.id}/report").status_code == 302


@pytest.mark.slow
def test_cli_report_from_exported_demo_data(
    demo: Initiative, runner: FlaskCliRunner, tmp_path
) -> None:
    """`surveyapp data export` then `python -m analysis report` on the demo initiative."""
    import json
    import subprocess
    import sys

    initiative = demo
    csv = tmp_path / "demo.csv"
    result = runner.invoke(main, ["data", "export", str(initiative.id), str(csv)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "report"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "analysis",
            "report",
            str(csv),
            "--instrument",
            "social-cohesion-safety@1.0.0",
            "--out",
            str(out),
            "--invariance",
            "none",
        ],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[1],
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["scoring_model"]["hash"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<svg" in html and '<html lang="en" dir="ltr">' in html
    assert "<h2>1. Data and cleaning</h2>" in html
    assert "/staff/" not in html  # no link back to a console outside the app


def test_spreadsheet_formulas_are_neutralised() -> None:
    import pandas as pd

    from surveyapp.reports import spreadsheet_safe

    frame = pd.DataFrame({"area": ['=HYPERLINK("x")', "north", "@SUM(1)"], "v": [-1, 2, 3]})
    safe = spreadsheet_safe(frame)
    assert list(safe["area"]) == ['\'=HYPERLINK("x")', "north", "'@SUM(1)"]
    assert list(safe["v"]) == [-1, 2, 3]


def test_demo_responses_are_raked_to_area_margins(demo: Initiative, db_session: Session) -> None:
    """In every area and round, the weights add up to the area's population and the
    weighted share of older residents moves towards the population's (thin cells merged,
    so the check is on bands 5-7 together, which every merge keeps apart from 1-4)."""
    from surveyapp.models import Area, AreaMargin
    from surveyapp.reports import add_area_weights

    initiative = demo
    frame, notes = add_area_weights(
        db_session, initiative_frame(db_session, initiative), city_id=initiative.city_id
    )
    assert frame["weight"].notna().all() and (frame["weight"] > 0).all()
    assert frame["weight"].std() > 0.05
    assert all(isinstance(note, str) for note in notes)
    cells = 0
    for code, rows in frame.groupby("area"):
        area = db_session.scalar(select(Area).where(Area.code == code))
        margins = db_session.scalars(select(AreaMargin).where(AreaMargin.area_id == area.id))
        table = {(int(m.age_band), int(m.gender)): m.population for m in margins}
        total = sum(table.values())
        target = sum(n for (band, _g), n in table.items() if band >= 5) / total
        for _wave, cell in rows.groupby("wave"):
            inside = [
                (b, g) in table for b, g in zip(cell["age_band"], cell["gender"], strict=True)
            ]
            cell = cell[inside]  # answered age band and gender (the others: mean weight)
            assert cell["weight"].sum() == pytest.approx(total)
            old = cell["age_band"] >= 5
            raw = old.mean()
            weighted = cell.loc[old, "weight"].sum() / cell["weight"].sum()
            assert abs(weighted - target) < abs(raw - target) or abs(weighted - target) < 0.02
            cells += 1
    assert cells == 2 * frame["area"].nunique() >= 12


def test_cached_report_is_reused_until_the_data_changes(
    demo: Initiative, db_session: Session
) -> None:
    from surveyapp.models import AuditEvent, Response, User
    from surveyapp.reports import cached_initiative_report

    initiative = demo
    actor = db_session.scalar(select(User))
    first = cached_initiative_report(db_session, initiative, actor=actor)
    assert cached_initiative_report(db_session, initiative, actor=actor) is first
    actions = db_session.scalars(select(AuditEvent.action)).all()
    assert actions.count("report_built") == 1 and actions.count("report_viewed") == 1
    initiative.name = "Renamed hosts"
    renamed = cached_initiative_report(db_session, initiative, actor=actor)
    assert renamed is not first and renamed.content["title"].startswith("Renamed hosts")
    # Twenty earliest answers of one of its areas in the baseline round go.
    from surveyapp.designs import treated_areas, waves_for_initiative

    baseline = waves_for_initiative(db_session, initiative)[0]
    area = treated_areas(initiative)[0]
    gone = db_session.scalars(
        select(Response)
        .where(Response.wave_id == baseline.id, Response.area_id == area.id)
        .order_by(Response.id)
    ).all()[:20]
    assert len(gone) == 20
    for response in gone:
        db_session.delete(response)
    db_session.flush()
    fewer = cached_initiative_report(db_session, initiative, actor=actor)
    assert fewer is not renamed
    # Published figures move in steps of 10 responses per wave and area (disclosure
    # control): the area that lost 20 answers publishes at least 10 fewer.
    before = renamed.content["cleaning"]["n_responses"]
    assert isinstance(before, int) and before - fewer.content["cleaning"]["n_responses"] >= 10


def test_two_first_reports_at_once_store_one_model(make) -> None:
    """Two requests that both found no scoring model: the second store is no error."""
    from surveyapp.models import ScoringModel
    from surveyapp.scoring import store_scoring_model

    wave = make.wave()
    first = {"hash": "a" * 64, "format": "test"}
    second = {"hash": "b" * 64, "format": "test"}
    stored = store_scoring_model(make.session, wave.initiative, wave, first)
    again = store_scoring_model(make.session, wave.initiative, wave, second)
    assert again.id == stored.id and again.content_hash == "a" * 64
    rows = make.session.scalars(select(ScoringModel)).all()
    assert [(r.initiative_id, r.version, r.content_hash) for r in rows] == [
        (wave.initiative.id, 1, "a" * 64)
    ]
    make.session.commit()  # the session is still usable: nothing was left half-done
