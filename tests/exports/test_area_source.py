"""Every dataset format and the codebook say how each answer's area is known (issue 17)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pyarrow.parquet as pq
import pyreadstat
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.designs import area_groups, waves_for_initiative
from surveyapp.models import Initiative, Response, Role
from surveyapp.reports import build_initiative_report

from ..conftest import Factory, sign_in
from .conftest import design_rows


def _self_reported(db_session: Session, initiative: Initiative) -> tuple[int, int]:
    """Turn two demo answers self-reported: one in its area, one "don't know" (no area)."""
    first, second = db_session.scalars(select(Response).order_by(Response.id).limit(2))
    first.area_source = "self_reported"
    second.area_id, second.area_source, second.area_reply = None, "self_reported", "dont_know"
    db_session.commit()
    return first.id, second.id


def test_every_format_and_the_codebook_carry_area_source(
    frozen_demo: Initiative,
    db_session: Session,
    client: FlaskClient,
    make: Factory,
    tmp_path: Path,
) -> None:
    reported, _unknown = _self_reported(db_session, frozen_demo)
    sign_in(client, make.user(frozen_demo.city, role=Role.ANALYST))
    # The city's file: the "don't know" answer has no area, so no initiative's file holds it.
    base = f"/staff/cities/{frozen_demo.city_id}/dataset"
    rows = list(csv.DictReader(io.StringIO(client.get(base).get_data(as_text=True))))
    by_id = {int(row["response_id"]): row for row in rows}
    assert {row["area_source"] for row in rows} == {"letter", "area_link", "self_reported"}
    assert (by_id[reported]["area_source"], by_id[reported]["area_reply"]) == ("self_reported", "")
    parquet = pq.read_table(io.BytesIO(client.get(base + "?format=parquet").data)).to_pandas()
    assert parquet.set_index("response_id")["area_source"][reported] == "self_reported"
    for fmt, read in (("sav", pyreadstat.read_sav), ("dta", pyreadstat.read_dta)):
        path = tmp_path / f"data.{fmt}"
        path.write_bytes(client.get(f"{base}?format={fmt}").data)
        frame, meta = read(str(path))
        assert "area_source" in frame.columns and "area_reply" in frame.columns
        assert meta.column_names_to_labels["area_source"] == "How the area is known"
        assert set(frame["area_source"]) == {"letter", "area_link", "self_reported"}
    codebook = client.get(f"/staff/initiatives/{frozen_demo.id}/codebook").get_data(as_text=True)
    assert "area_source" in codebook and "self_reported = Self-reported by the resident" in codebook
    assert "dont_know = Don" in codebook


def test_report_counts_area_sources_per_wave(
    frozen_demo: Initiative, db_session: Session, make: Factory
) -> None:
    _self_reported(db_session, frozen_demo)
    actor = make.user(frozen_demo.city)
    notes = build_initiative_report(db_session, frozen_demo, actor=actor).content["notes"]
    per_wave = [note for note in notes if "answers by how their area is known" in note]
    rounds = waves_for_initiative(db_session, frozen_demo)
    assert len(per_wave) == len(rounds)
    # Every source is counted; the "don't know" answer has no area, so no design area holds
    # it. (The report's published sample holds back small cells, so the counts are the
    # report's own, a little below the design areas' totals.)
    parts = per_wave[0].split("known: ")[1].rstrip(".").split(", ")
    counts = {part.rsplit(" ", 1)[0]: int(part.rsplit(" ", 1)[1]) for part in parts}
    design = list(area_groups(db_session, frozen_demo))
    assert counts["letter"] > counts["self-reported"] > 0 and counts["not known"] == 0
    assert sum(counts.values()) <= db_session.scalar(
        select(func.count(Response.id)).where(
            Response.wave_id == rounds[0].id, Response.area_id.in_(design)
        )
    )
    (analysis,) = [note for note in notes if note.startswith("Treated-versus-comparison")]
    assert "answers entered through self-reported areas" in analysis
    reported, analysed = (int(n) for n in re.findall(r"(\d+) of (\d+)", analysis)[0])
    assert 0 < reported < analysed <= design_rows(db_session, frozen_demo)


def test_city_file_keeps_answers_without_area(
    frozen_demo: Initiative, db_session: Session, client: FlaskClient, make: Factory
) -> None:
    _reported, unknown = _self_reported(db_session, frozen_demo)
    sign_in(client, make.user(frozen_demo.city, role=Role.ANALYST))
    body = client.get(f"/staff/cities/{frozen_demo.city_id}/dataset").get_data(as_text=True)
    by_id = {int(row["response_id"]): row for row in csv.DictReader(io.StringIO(body))}
    assert by_id[unknown]["area_reply"] == "dont_know" and by_id[unknown]["group"] == ""
