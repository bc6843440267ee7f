"""The reminders job: lay out reminder letters for the unused codes found in an upload.

The request (:mod:`surveyapp.console.reminder_jobs`) read the file, matched its codes and
left in the job's parameters the codes to remind with their areas, nothing else of the
file. The job lays the letters out, keeps the PDFs and the counts, and drops the codes
from its parameters: from then on they exist only in the PDFs, until staff delete them.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy.orm import Session

from surveyapp.console import invitations
from surveyapp.jobs.letters import complete, write_parts
from surveyapp.jobs.progress import JobFailed
from surveyapp.models import Area, Job, Wave


def without_codes(params: dict) -> dict:
    """The job's parameters without the codes to remind."""
    return {key: value for key, value in params.items() if key != "letters"}


def run_reminders(session: Session, job: Job) -> None:
    """Lay out the reminder letters (PDFs of 250) and keep them with the counts."""
    wave = session.get(Wave, job.wave_id) if job.wave_id else None
    if wave is None:
        raise JobFailed("The wave was deleted before its reminder letters were made.")
    base_url = current_app.config["BASE_URL"]
    areas: dict[int, Area] = {}
    made = []
    for area_id, code in job.params.get("letters", []):
        area = areas.get(area_id) or session.get(Area, area_id)
        if area is None:
            raise JobFailed("An area of these codes was deleted.")
        areas[area_id] = area
        made.append(
            invitations.NewInvitation(area, code, invitations.invitation_url(base_url, code))
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        write_parts(session, job, wave, made, archive, name="reminders", reminder=True)
        archive.writestr("summary.txt", "\n".join(job.params.get("summary", [])) + "\n")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    name = f"wave-{wave.id}-reminders-{stamp}.zip"
    complete(session, job, buffer.getvalue(), name, params=without_codes(job.params))
    session.commit()
