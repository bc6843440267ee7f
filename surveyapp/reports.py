"""Response data as analysis-ready tables (one row per response, one column per item)."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.models import (
    Answer,
    Area,
    Initiative,
    InitiativeArea,
    Response,
    ResponseStatus,
    Wave,
)


def initiative_frame(session: Session, initiative: Initiative) -> pd.DataFrame:
    """Complete responses of every wave of an initiative, wide, in wave order.

    Columns: ``response_id``, ``wave`` (wave name), ``wave_id``, ``area`` (area code),
    ``group`` (``treated``/``comparison``, empty for areas outside the design),
    ``language``, ``duration_seconds`` and one column per item with its code (negative
    codes are missing-value answers such as "don't know"; numbers as given). Free-text
    answers are left out: they can hold personal details.
    """
    roles = {
        link.area_id: link.role
        for link in session.scalars(
            select(InitiativeArea).where(InitiativeArea.initiative_id == initiative.id)
        )
    }
    rows = session.execute(
        select(
            Response.id,
            Wave.name,
            Wave.id,
            Area.code,
            Response.area_id,
            Response.language,
            Response.started_at,
            Response.submitted_at,
        )
        .join(Wave, Response.wave_id == Wave.id)
        .outerjoin(Area, Response.area_id == Area.id)
        .where(Wave.initiative_id == initiative.id, Response.status == ResponseStatus.COMPLETE)
        .order_by(Wave.id, Response.id)
    ).all()
    base = pd.DataFrame(
        [
            {
                "response_id": r[0],
                "wave": r[1],
                "wave_id": r[2],
                "area": r[3],
                "group": roles.get(r[4], ""),
                "language": r[5],
                "duration_seconds": (r[7] - r[6]).total_seconds() if r[7] and r[6] else None,
            }
            for r in rows
        ],
        columns=[
            "response_id",
            "wave",
            "wave_id",
            "area",
            "group",
            "language",
            "duration_seconds",
        ],
    )
    if base.empty:
        return base
    answers = session.execute(
        select(Answer.response_id, Answer.item_id, Answer.value_code, Answer.value_number)
        .join(Response, Answer.response_id == Response.id)
        .join(Wave, Response.wave_id == Wave.id)
        .where(Wave.initiative_id == initiative.id, Response.status == ResponseStatus.COMPLETE)
    ).all()
    long = pd.DataFrame(answers, columns=["response_id", "item_id", "code", "number"])
    long["value"] = long["code"].astype("float64").fillna(long["number"].astype("float64"))
    wide = long.pivot(index="response_id", columns="item_id", values="value")
    return base.merge(wide, left_on="response_id", right_index=True, how="left")
