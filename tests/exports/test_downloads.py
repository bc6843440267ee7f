"""Dataset downloads open in their own readers with labels intact, for the right people only."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pyreadstat
import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.designs import waves_for_initiative
from surveyapp.extensions import db
from surveyapp.models import Answer, AuditEvent, Initiative, Response, Role, ScoringModel, Wave

from ..conftest import Factory, sign_in
from .conftest import design_rows


def expected_rows(initiative: Initiative) -> int:
    """The responses of an initiative's download (its rounds, its design areas)."""
    return design_rows(db.session, db.session.get(Initiative, initiative.id))


def rounds(initiative: Initiative) -> list:
    """The initiative's waves, city-wide rounds included, oldest first (read again: a
    request closed the session the fixture loaded them in)."""
    return waves_for_initiative(db.session, db.session.get(Initiative, initiative.id))


@pytest.fixture
def analyst(
    frozen_demo: Initiative, db_session: Session, client: FlaskClient, make: Factory
) -> Initiative:
    initiative = frozen_demo
    initiative.name = '=HYPERLINK("http://evil.example","Neighbourhood hosts")'
    response = db_session.scalars(select(Response).order_by(Response.id)).first()
    db_session.add(Answer(response_id=response.id, item_id="home_language", value_text="+Tigrinya"))
    sign_in(client, make.user(initiative.city, role=Role.ANALYST))
    return initiative


def _get(client: FlaskClient, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data()


def test_csv_opens_with_the_csv_module_and_neutralises_formulas(
    client: FlaskClient, analyst: Initiative
) -> None:
    response = client.get(f"/staff/initiatives/{analyst.id}/dataset?format=csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "codebook" in response.headers["Link"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == expected_rows(analyst)
    assert rows[0]["initiative"].startswith("'=HYPERLINK")
    assert {row["group"] for row in rows} == {"treated", "comparison"}
    assert all(row["ppltrst"] in {str(v) for v in range(-2, 11)} for row in rows)
    assert all(float(row["idx_trust"]) >= 0 for row in rows if row["idx_trust"])
    assert "home_language" not in rows[0]


def test_free_text_only_when_asked(client: FlaskClient, analyst: Initiative) -> None:
    body = _get(client, f"/staff/initiatives/{analyst.id}/dataset?free_text=true").decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [row["home_language"] for row in rows if row["home_language"]] == ["'+Tigrinya"]


def test_parquet_opens_with_pyarrow_with_labels(client: FlaskClient, analyst: Initiative) -> None:
    body = _get(client, f"/staff/initiatives/{analyst.id}/dataset?format=parquet")
    table = pq.read_table(io.BytesIO(body))
    assert table.num_rows == expected_rows(analyst)
    field = table.schema.field("ppltrst")
    assert field.metadata[b"label"].decode().startswith("Generally speaking")
    assert json.loads(field.metadata[b"value_labels"])["-1"] == "Don't know"
    frame = table.to_pandas()
    assert str(frame["ppltrst"].dtype) == "int64" or frame["ppltrst"].dropna().mod(1).eq(0).all()
    csv_rows = list(
        csv.DictReader(
            io.StringIO(_get(client, f"/staff/initiatives/{analyst.id}/dataset").decode())
        )
    )
    assert [int(r["response_id"]) for r in csv_rows] == frame["response_id"].tolist()


def test_long_shape_has_one_row_per_value(
    client: FlaskClient, analyst: Initiative, db_session: Session, tmp_path: Path
) -> None:
    from surveyapp.exports.dataset import build_plan

    base = f"/staff/initiatives/{analyst.id}/dataset?format=parquet"
    wide = pq.read_table(io.BytesIO(_get(client, base))).to_pandas()
    long = pq.read_table(io.BytesIO(_get(client, base + "&shape=long"))).to_pandas()
    plan = build_plan(db_session, "initiative", analyst)
    values = [v.name for v in plan.variables if v.kind in ("item", "index")]
    assert len(long) == int(wide[values].notna().sum().sum())
    first = wide["response_id"][0]
    one = long[(long["response_id"] == first) & (long["variable"] == "idx_trust")]
    assert one["value"].iloc[0] == pytest.approx(wide["idx_trust"][0])
    # Every long row carries the response's weight, flags and scoring-model hash.
    merged = long.merge(wide, on="response_id", suffixes=("", "_wide"))
    for column in ("weight", "flag_exclude", "flag_speeder", "scoring_model"):
        assert (merged[column] == merged[f"{column}_wide"]).all(), column
    assert set(long["scoring_model"]) == {wide["scoring_model"][0]} != {""}
    # The long shape in SPSS and Stata, read back with their own readers.
    for fmt, read in (("sav", pyreadstat.read_sav), ("dta", pyreadstat.read_dta)):
        path = tmp_path / f"long.{fmt}"
        path.write_bytes(
            _get(client, f"/staff/initiatives/{analyst.id}/dataset?format={fmt}&shape=long")
        )
        frame, meta = read(str(path))
        assert len(frame) == len(long)
        assert meta.column_names_to_labels["weight"] == "Raking weight"
        assert frame["weight"].to_numpy() == pytest.approx(long["weight"].to_numpy())


def test_spss_file_has_variable_and_value_labels_and_user_missing(
    client: FlaskClient, analyst: Initiative, tmp_path: Path
) -> None:
    path = tmp_path / "data.sav"
    path.write_bytes(_get(client, f"/staff/initiatives/{analyst.id}/dataset?format=sav"))
    frame, meta = pyreadstat.read_sav(str(path), user_missing=True)
    assert len(frame) == expected_rows(analyst)
    labels = meta.column_names_to_labels
    assert labels["ppltrst"].startswith("Generally speaking")
    assert labels["flag_speeder"] == "Quality flag: speeder"
    assert meta.variable_value_labels["ppltrst"][-1.0] == "Don't know"
    assert meta.variable_value_labels["pyramid_level"][1.0] == "Quality of life"
    assert {r["lo"] for r in meta.missing_ranges["ppltrst"]} == {-1.0, -2.0}
    # Without user_missing, SPSS's missing codes read as missing values.
    plain, _meta = pyreadstat.read_sav(str(path))
    assert plain["ppltrst"].min() >= 0
    # Measurement levels: scales ordinal, categories nominal, scores scale.
    measure = meta.variable_measure
    assert measure["ppltrst"] == "ordinal" and measure["age_band"] == "ordinal"
    assert measure["gender"] == "nominal" and measure["flag_exclude"] == "nominal"
    assert measure["idx_trust"] == "scale" and measure["weight"] == "scale"


def test_stata_file_has_labels(client: FlaskClient, analyst: Initiative, tmp_path: Path) -> None:
    path = tmp_path / "data.dta"
    path.write_bytes(_get(client, f"/staff/initiatives/{analyst.id}/dataset?format=dta"))
    frame, meta = pyreadstat.read_dta(str(path))
    assert len(frame) == expected_rows(analyst)
    assert all(len(label) <= 80 for label in meta.column_labels if label)
    assert meta.column_names_to_labels["idx_trust"] == "Trust index (0-100)"
    # "Don't know" and "prefer not to say" are Stata's .a and .b, labelled: a naive mean
    # leaves them out (the 5.225 with -1 and -2 counted as numbers).
    assert meta.variable_value_labels["nbh_help"]["b"] == "Prefer not to say"
    assert meta.variable_value_labels["ppltrst"]["a"] == "Don't know"
    assert frame["ppltrst"].min() >= 0
    coded, coded_meta = pyreadstat.read_dta(str(path), user_missing=True)
    assert {"a", "b"} <= set(coded["ppltrst"].dropna().map(str))
    assert coded_meta.missing_user_values["ppltrst"] == ["a", "b"]
    assert set(frame["group"]) == {"treated", "comparison"}
    # pandas reads the same file, the extended missing values as missing.
    pandas_frame = pd.read_stata(io.BytesIO(path.read_bytes()), convert_categoricals=False)
    assert pandas_frame["ppltrst"].mean() == pytest.approx(frame["ppltrst"].mean())
    sav = tmp_path / "data.sav"
    sav.write_bytes(_get(client, f"/staff/initiatives/{analyst.id}/dataset?format=sav"))
    spss, _meta = pyreadstat.read_sav(str(sav))
    assert frame["ppltrst"].mean() == pytest.approx(spss["ppltrst"].mean())


@pytest.mark.parametrize(
    ("fmt", "shape"),
    [("csv", "wide"), ("csv", "long"), ("parquet", "wide"), ("sav", "wide"), ("dta", "long")],
)
def test_bundle_is_a_valid_frictionless_data_package(
    client: FlaskClient, analyst: Initiative, tmp_path: Path, fmt: str, shape: str
) -> None:
    from frictionless import Package

    url = f"/staff/initiatives/{analyst.id}/dataset?format={fmt}&shape={shape}&bundle=true"
    with zipfile.ZipFile(io.BytesIO(_get(client, url))) as archive:
        binary = [f"data-{shape}.{fmt}"] if fmt != "csv" else []
        assert sorted(archive.namelist()) == sorted(
            [
                "aggregates.csv",
                "codebook.html",
                f"data-{shape}.csv",
                "datapackage.json",
                "import.R",
                "import.do",
                "import.sps",
                *binary,
            ]
        )
        archive.extractall(tmp_path)
    package = json.loads((tmp_path / "datapackage.json").read_text())
    fields = {f["name"]: f for f in package["resources"][0]["schema"]["fields"]}
    if shape == "wide":
        assert fields["ppltrst"]["categories"][0] == {"value": -2, "label": "Prefer not to say"}
        assert fields["nbh_not_get_along"]["surveyapp:reverse"] is True
    else:
        assert list(fields)[:6] == ["response_id", "wave_id", "wave", "area", "group", "weight"]
        assert list(fields)[-3:] == ["scoring_model", "variable", "value"]
        assert "flag_exclude" in fields
    report = Package(str(tmp_path / "datapackage.json")).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]
    # Rows were read: every response (wide) or every value (long), and the aggregates.
    rows = {task.name: task.stats["rows"] for task in report.tasks}
    responses = expected_rows(analyst)
    assert rows["responses"] == responses if shape == "wide" else rows["responses"] > responses
    assert rows["aggregates"] > 0
    html = (tmp_path / "codebook.html").read_text()
    assert "Pensez-vous" in html or 'lang="fr"' in html
    assert analyst.name not in html or "&#34;" in html or "&quot;" in html


def test_codebook_page_describes_indices_and_versions(
    client: FlaskClient, analyst: Initiative, db_session: Session
) -> None:
    response = client.get(f"/staff/initiatives/{analyst.id}/codebook")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    model = db_session.scalar(select(ScoringModel))
    assert model.content_hash in html
    assert "idx_trust" in html and "social-cohesion-safety" in html
    assert 'dir="rtl"' in html  # the Arabic wording
    assert "<script" not in html


def test_roles_and_audit(
    client: FlaskClient, frozen_demo: Initiative, db_session: Session, make: Factory
) -> None:
    initiative = frozen_demo
    sign_in(client, make.user(initiative.city, role=Role.COORDINATOR))
    url = f"/staff/initiatives/{initiative.id}/dataset"
    refused = client.get(url)
    assert refused.status_code == 403
    assert "aggregate" in refused.get_data(as_text=True)
    assert client.get(f"/staff/initiatives/{initiative.id}/aggregates.csv").status_code == 200
    assert client.get(f"/staff/cities/{initiative.city_id}/codebook").status_code == 200
    assert client.get(f"{url}?format=xls").status_code in (400, 403)
    actions = db_session.scalars(select(AuditEvent.action)).all()
    assert "aggregates_downloaded" in actions and "codebook_viewed" in actions
    assert "dataset_downloaded" not in actions


def test_download_is_audited_with_its_options(
    client: FlaskClient, analyst: Initiative, db_session: Session
) -> None:
    assert (
        client.get(
            f"/staff/waves/{rounds(analyst)[0].id}/dataset?format=parquet&shape=long"
        ).status_code
        == 200
    )
    event = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "dataset_downloaded")
    ).one()
    assert event.object_type == "wave" and event.object_id == str(rounds(analyst)[0].id)
    assert event.details == {
        "format": "parquet",
        "shape": "long",
        "free_text": False,
        "bundle": False,
        "via": "console",
        "disclosure_control": True,
        "k": 5,
        "below_k": 0,
    }
    assert (
        client.get(f"/staff/waves/{rounds(analyst)[0].id}/dataset?format=nope").status_code == 400
    )
    assert (
        client.get(f"/staff/waves/{rounds(analyst)[0].id}/dataset?free_text=maybe").status_code
        == 400
    )


def test_pages_offer_the_downloads_each_role_may_use(
    client: FlaskClient, frozen_demo: Initiative, make: Factory
) -> None:
    initiative = frozen_demo
    sign_in(client, make.user(initiative.city, role=Role.COORDINATOR))
    page = client.get(f"/staff/initiatives/{initiative.id}").get_data(as_text=True)
    assert f"/staff/initiatives/{initiative.id}/aggregates.csv" in page
    assert f"/staff/initiatives/{initiative.id}/codebook" in page
    assert "/dataset?" not in page and "for admins and analysts" in page
    sign_in(client, make.user(initiative.city, role=Role.ANALYST))
    page = client.get(f"/staff/initiatives/{initiative.id}").get_data(as_text=True)
    for fmt in ("csv", "parquet", "sav", "dta"):
        assert f"/staff/initiatives/{initiative.id}/dataset?format={fmt}&amp;bundle=true" in page
    home = client.get("/staff/").get_data(as_text=True)
    assert f"/staff/cities/{initiative.city_id}/dataset?format=sav&amp;bundle=true" in home
    wave = client.get(f"/staff/waves/{rounds(initiative)[0].id}").get_data(as_text=True)
    assert f"/staff/waves/{rounds(initiative)[0].id}/dataset?format=dta&amp;bundle=true" in wave


def test_bundle_of_an_spss_file_describes_it(
    client: FlaskClient, analyst: Initiative, tmp_path: Path
) -> None:
    body = _get(client, f"/staff/cities/{analyst.city_id}/dataset?format=sav&bundle=true")
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = archive.namelist()
        package = json.loads(archive.read("datapackage.json"))
        archive.extract("data-wide.sav", tmp_path)
    assert "data-wide.sav" in names and "codebook.html" in names
    assert package["resources"][0]["path"] == "data-wide.csv"
    assert package["surveyapp:files"][0]["path"] == "data-wide.sav"
    assert package["surveyapp:files"][0]["mediatype"] == "application/x-spss-sav"
    frame, meta = pyreadstat.read_sav(str(tmp_path / "data-wide.sav"))
    city_rows = db.session.scalar(
        select(func.count(Response.id)).join(Wave).where(Wave.city_id == analyst.city_id)
    )
    assert len(frame) == city_rows and meta.column_names_to_labels["weight"] == "Raking weight"


def test_a_download_before_any_report_freezes_the_scoring_model(
    demo: Initiative, db_session: Session, client: FlaskClient, make: Factory
) -> None:
    """Nobody opened a dashboard yet: the first download still has its index scores."""
    initiative = demo
    assert db_session.scalar(select(ScoringModel)) is None
    sign_in(client, make.user(initiative.city, role=Role.ANALYST))

    body = _get(client, f"/staff/initiatives/{initiative.id}/dataset?format=csv")
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    frozen = db_session.scalar(select(ScoringModel))
    assert frozen is not None and frozen.initiative_id == initiative.id
    assert {row["scoring_model"] for row in rows} == {frozen.content_hash[:12]}
    assert sum(1 for row in rows if row["idx_trust"]) > 390

    # Later downloads and the report use the same frozen model; it is stored once.
    again = list(
        csv.DictReader(
            io.StringIO(
                _get(client, f"/staff/initiatives/{initiative.id}/dataset?format=csv").decode()
            )
        )
    )
    assert [row["idx_trust"] for row in again] == [row["idx_trust"] for row in rows]
    assert len(db_session.scalars(select(ScoringModel)).all()) == 1
    # The download fitted the model alone: no validation report was built for it, and the
    # report built now scores with the very same model.
    actions = set(db_session.scalars(select(AuditEvent.action)))
    assert "scoring_model_fitted" in actions and "report_built" not in actions
    report = client.get(f"/staff/initiatives/{initiative.id}/report.json").get_json()
    assert report["scoring_model"]["hash"] == frozen.content_hash
    assert report["scoring_model_status"] == "frozen"
