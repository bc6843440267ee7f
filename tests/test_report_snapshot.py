"""The demo initiative's validation report, compared with a stored snapshot of its JSON.

The demo data are seeded (:func:`surveyapp.demo.build_demo`) and so is the report's
bootstrap: the report is the same on every run and on both databases. A change to the
numbers or the layout of the report shows here first; when it is intended, write the
snapshot again (``SURVEYAPP_WRITE_SNAPSHOT=1``, see ``tests/snapshot.py``) and review it.
"""

from __future__ import annotations

from pathlib import Path

from surveyapp.models import Initiative, Role
from surveyapp.reports import build_initiative_report

from .conftest import Factory
from .snapshot import assert_matches_snapshot

SNAPSHOT = Path(__file__).parent / "data" / "demo_report_snapshot.json"


def test_demo_report_matches_the_stored_snapshot(demo: Initiative, make: Factory) -> None:
    """Same data, same report: every figure, verdict and withheld reason as stored."""
    initiative = demo
    actor = make.user(initiative.city, role=Role.ANALYST)
    report = build_initiative_report(make.session, initiative, actor=actor)
    assert_matches_snapshot(report.to_json(), SNAPSHOT)
