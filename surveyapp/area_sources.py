"""How the answers in a report know their area: counts per wave for the report's notes.

An answer's area comes from its letter, from an area's own open link or poster, or from
the resident (the wave-wide open link asks). Self-reported areas enter the treated-versus-
comparison analysis like the others; "outside the city" and "don't know" have no area and
stay out of it. The report says how many answers each source gave, per wave, and how many
of the analysed ones rest on what residents said.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.models import AreaSource, Response

#: How each source is named in the report, in the order it lists them.
SOURCE_NAMES = {
    AreaSource.LETTER.value: "letter",
    AreaSource.AREA_LINK.value: "area link or poster",
    AreaSource.SELF_REPORTED.value: "self-reported",
    "": "not known",
}


def area_source_notes(session: Session, frame: pd.DataFrame) -> list[str]:
    """Notes for the report made from ``frame`` (columns ``response_id``, ``wave``, ``group``).

    One note per wave with the number of answers by area source, and one on the answers in
    a treated or comparison area whose area the resident reported.
    """
    if frame.empty:
        return []
    ids = [int(x) for x in frame["response_id"]]
    sources: dict[int, tuple[str, str]] = {}
    for start in range(0, len(ids), 5000):
        rows = session.execute(
            select(Response.id, Response.area_source, Response.area_reply).where(
                Response.id.in_(ids[start : start + 5000])
            )
        )
        sources.update({row.id: (row.area_source or "", row.area_reply or "") for row in rows})
    source = frame["response_id"].map(lambda x: sources.get(int(x), ("", ""))[0])
    reply = frame["response_id"].map(lambda x: sources.get(int(x), ("", ""))[1])
    notes = []
    for wave, rows in frame.groupby("wave", sort=True).groups.items():
        counts = source.loc[rows].value_counts()
        parts = [f"{name} {int(counts.get(key, 0))}" for key, name in SOURCE_NAMES.items()]
        no_area = int((reply.loc[rows] != "").sum())
        extra = f" ({no_area} self-reported outside the city or don't know)" if no_area else ""
        notes.append(f"{wave}: answers by how their area is known: {', '.join(parts)}{extra}.")
    analysed = frame["group"].isin(["treated", "comparison"])
    reported = analysed & (source == AreaSource.SELF_REPORTED.value)
    by_group = frame.loc[reported, "group"].value_counts()
    notes.append(
        f"Treated-versus-comparison analysis: {int(reported.sum())} of {int(analysed.sum())}"
        f" answers entered through self-reported areas (treated {int(by_group.get('treated', 0))},"
        f" comparison {int(by_group.get('comparison', 0))}); self-reported 'outside the city'"
        " and 'don't know' answers are kept in the data but have no area and are not compared."
    )
    return notes
