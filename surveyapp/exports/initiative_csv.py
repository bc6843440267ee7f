"""An initiative's complete responses as one CSV file (``surveyapp data export``).

One row per response, one column per item, free text left out: the file that
``python -m analysis report`` reads.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from surveyapp import audit
from surveyapp.models import Initiative
from surveyapp.reports import initiative_frame, spreadsheet_safe


def write_initiative_csv(session: Session, initiative: Initiative, out: Path, *, actor: str) -> int:
    """Write the CSV to ``out``, audit the export (not committed); return the number of rows."""
    frame = initiative_frame(session, initiative)
    spreadsheet_safe(frame).to_csv(out, index=False, encoding="utf-8")
    audit.record(
        session,
        actor,
        initiative.city_id,
        "data_exported",
        "initiative",
        initiative.id,
        rows=len(frame),
    )
    return len(frame)
