"""Letters as background jobs: a batch is sent only once confirmed, can be cancelled (its
codes stop working), and a job runs once, says why it failed and can be started again."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from surveyapp import jobs
from surveyapp.cli import main
from surveyapp.console import monitoring
from surveyapp.db import utcnow
from surveyapp.jobs import letters as letters_job
from surveyapp.jobs.runner import run
from surveyapp.models import BatchStatus, Invitation, Job, JobStatus, LetterBatch, Wave
from tests.letters import download, start

from ..conftest import Factory, sign_in


def _open_wave(make: Factory, client: FlaskClient) -> tuple[Wave, dict[str, str]]:
    wave = make.wave(mode="invitation")
    treated = wave.initiative.areas_with_role("treated")[0]
    sign_in(client, make.user(wave.initiative.city))
    return wave, {f"area-{treated.id}": "4", "language": "en"}


def _codes(archive) -> list[str]:
    rows = csv.DictReader(io.StringIO(archive.read("codes.csv").decode("utf-8-sig")))
    return [row["code"] for row in rows]


def _letters_in_monitoring(app: Flask, make: Factory, wave_id: int) -> int | None:
    wave = make.session.get(Wave, wave_id)
    with app.test_request_context():
        data = monitoring.monitor(make.session, wave)
    return sum(row.invited or 0 for row in data.by_area) or None


def test_a_batch_counts_as_sent_only_once_confirmed_after_download(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    wave, form = _open_wave(make, client)
    job_url = start(client, f"/staff/waves/{wave.id}/invitations", form)
    page = client.get(job_url).get_data(as_text=True)
    assert "The letters are ready" in page and "not count in the response rate" in page
    # Made but never downloaded: not sent, and cannot be confirmed yet.
    assert _letters_in_monitoring(app, make, wave.id) is None
    refused = client.post(f"{job_url}/confirm")
    assert "Download the letters before confirming" in client.get(refused.location).get_data(
        as_text=True
    )
    archive = download(client, job_url)
    assert len(_codes(archive)) == 4 and archive.read("letters.pdf").startswith(b"%PDF")
    assert client.post(f"{job_url}/confirm").status_code == 303
    assert _letters_in_monitoring(app, make, wave.id) == 4
    # Confirmed: the platform no longer holds the codes in plain text.
    job = make.session.scalars(select(Job)).one()
    make.session.refresh(job)
    assert job.result is None
    gone = client.get(f"{job_url}/letters.zip")
    assert gone.status_code == 303
    assert "no longer kept" in client.get(gone.location).get_data(as_text=True)
    assert "Sent on" in client.get(job_url).get_data(as_text=True)


def test_cancelling_a_batch_makes_its_codes_stop_working(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    wave, form = _open_wave(make, client)
    job_url = start(client, f"/staff/waves/{wave.id}/invitations", form)
    codes = _codes(download(client, job_url))
    resident = app.test_client()
    assert resident.get(f"/i/{codes[0]}").status_code == 200
    assert client.post(f"{job_url}/cancel").status_code == 303
    assert "its codes no longer work" in client.get(job_url).get_data(as_text=True)
    for code in codes:
        assert resident.post("/code", data={"code": code}).status_code == 404
    make.session.expire_all()
    batch = make.session.scalars(select(LetterBatch)).one()
    assert batch.status == BatchStatus.CANCELLED
    assert make.session.scalar(select(func.count(Invitation.id))) == 0
    assert make.session.scalars(select(Job)).one().result is None
    assert _letters_in_monitoring(app, make, wave.id) is None


def test_a_job_the_queue_hands_out_twice_runs_once(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    wave, form = _open_wave(make, client)
    job_url = start(client, f"/staff/waves/{wave.id}/invitations", form)
    job_id = int(job_url.rsplit("/", 1)[1])
    with app.test_request_context():
        run(job_id)
    make.session.expire_all()
    assert make.session.scalar(select(func.count(Invitation.id))) == 4
    assert make.session.scalar(select(func.count(LetterBatch.id))) == 1


def test_a_job_cancelled_while_it_runs_keeps_no_codes(
    app: Flask, client: FlaskClient, make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    wave, form = _open_wave(make, client)
    monkeypatch.setattr(letters_job, "PART", 1)
    real_layout = letters_job.layout
    parts = []

    def layout_then_cancel(html: str):
        parts.append(html)
        if len(parts) == 2:  # staff press "Cancel" while the second letter is laid out
            make.session.execute(update(Job).values(status=JobStatus.CANCELLED))
            make.session.commit()
        return real_layout(html)

    monkeypatch.setattr(letters_job, "layout", layout_then_cancel)
    job_url = start(client, f"/staff/waves/{wave.id}/invitations", form)
    make.session.expire_all()
    job = make.session.scalars(select(Job)).one()
    assert job.status == JobStatus.CANCELLED and job.result is None and job.done == 1
    assert make.session.scalars(select(LetterBatch)).one().status == BatchStatus.CANCELLED
    assert make.session.scalar(select(func.count(Invitation.id))) == 0
    assert len(parts) == 2
    assert "Download the letters" not in client.get(job_url).get_data(as_text=True)


def test_a_failed_job_says_so_forgets_its_codes_and_can_start_again(
    app: Flask, client: FlaskClient, make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    wave, form = _open_wave(make, client)

    def broken(html: str):
        raise RuntimeError("the font cache is unreadable")

    monkeypatch.setattr(letters_job, "layout", broken)
    job_url = start(client, f"/staff/waves/{wave.id}/invitations", form)
    page = client.get(job_url).get_data(as_text=True)
    assert "could not be made" in page and "server&#39;s log says more" in page
    assert "font cache" not in page  # internals stay in the log
    assert make.session.scalar(select(func.count(Invitation.id))) == 0
    monkeypatch.undo()
    again = client.post(f"{job_url}/restart")
    assert again.status_code == 303 and again.location != job_url
    assert "The letters are ready" in client.get(again.location).get_data(as_text=True)
    make.session.expire_all()
    assert make.session.scalar(select(func.count(Invitation.id))) == 4


def test_a_job_whose_worker_died_is_shown_stalled_and_restarts_with_new_codes(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    wave, _form = _open_wave(make, client)
    # A worker made a batch's codes, then was killed while laying out the letters.
    lost = LetterBatch(wave_id=wave.id, status=BatchStatus.PREPARING, letters=1)
    make.session.add(lost)
    make.session.flush()
    area = wave.initiative.areas_with_role("treated")[0]
    make.session.add(
        Invitation(wave_id=wave.id, area_id=area.id, code_hash="f" * 64, batch_id=lost.id)
    )
    stalled = Job(
        city_id=wave.city_id,
        wave_id=wave.id,
        kind="letters",
        status=JobStatus.RUNNING,
        params={"language": "en", "counts": {str(area.id): 1}},
        total=1,
        batch_id=lost.id,
        heartbeat_at=utcnow() - timedelta(minutes=30),
    )
    make.session.add(stalled)
    make.session.commit()
    page = client.get(f"/staff/jobs/{stalled.id}").get_data(as_text=True)
    assert "stopped responding" in page and 'http-equiv="refresh"' not in page
    again = client.post(f"/staff/jobs/{stalled.id}/restart")
    assert "The letters are ready" in client.get(again.location).get_data(as_text=True)
    make.session.expire_all()
    assert make.session.get(LetterBatch, lost.id).status == BatchStatus.CANCELLED
    assert make.session.scalar(select(Invitation).where(Invitation.code_hash == "f" * 64)) is None


def test_a_running_job_page_reloads_itself_and_shows_progress(
    client: FlaskClient, make: Factory
) -> None:
    wave, _form = _open_wave(make, client)
    job = Job(
        city_id=wave.city_id,
        wave_id=wave.id,
        kind="letters",
        status=JobStatus.RUNNING,
        params={"language": "fr"},
        total=2000,
        done=750,
        heartbeat_at=utcnow(),
    )
    make.session.add(job)
    make.session.commit()
    page = client.get(f"/staff/jobs/{job.id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' in page
    assert '<progress max="2000" value="750">' in page and "750 of 2000 (38 %)" in page
    assert "in French" in page
    assert f"/staff/jobs/{job.id}" in client.get(f"/staff/waves/{wave.id}").get_data(as_text=True)


def test_the_worker_refuses_a_queue_only_a_request_can_run(app: Flask) -> None:
    result = app.test_cli_runner().invoke(main, ["jobs", "worker"])
    assert result.exit_code != 0 and "needs a shared queue" in result.output


def test_a_queue_that_does_not_answer_loses_no_job(
    app: Flask, client: FlaskClient, make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    wave, form = _open_wave(make, client)
    queue, task = app.extensions[jobs.EXTENSION]

    def redis_restarting(job_id: int) -> None:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setitem(app.extensions, jobs.EXTENSION, (queue, redis_restarting))
    job_url = start(client, f"/staff/waves/{wave.id}/invitations", form)
    assert "Waiting for a worker to start" in client.get(job_url).get_data(as_text=True)
    monkeypatch.setitem(app.extensions, jobs.EXTENSION, (queue, task))
    # The next worker to start queues it again; it runs once.
    with app.test_request_context():
        assert jobs.requeue(make.session, older_than=timedelta(0)) == 1
        assert jobs.requeue(make.session, older_than=timedelta(0)) == 0
    assert "The letters are ready" in client.get(job_url).get_data(as_text=True)
    make.session.expire_all()
    assert make.session.scalar(select(func.count(Invitation.id))) == 4
