"""Fixtures shared by the dataset and download tests."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.models import Initiative, ScoringModel, User
from surveyapp.reports import build_initiative_report


@pytest.fixture
def frozen_demo(demo: Initiative, db_session: Session) -> Initiative:
    """The demo initiative after its first validation report, which froze its scoring model."""
    build_initiative_report(db_session, demo, actor=db_session.scalar(select(User)))
    db_session.flush()
    assert db_session.scalar(select(ScoringModel)) is not None
    return demo


def design_rows(session: Session, initiative: Initiative, wave=None) -> int:
    """Responses an initiative's download holds: its rounds' answers in its design areas."""
    from sqlalchemy import func

    from surveyapp.designs import area_groups, waves_for_initiative
    from surveyapp.models import Response

    waves = [wave] if wave is not None else waves_for_initiative(session, initiative)
    return session.scalar(
        select(func.count(Response.id)).where(
            Response.wave_id.in_([w.id for w in waves]),
            Response.area_id.in_(list(area_groups(session, initiative))),
        )
    )
