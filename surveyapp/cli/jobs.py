"""``surveyapp jobs``: run a background worker, list a city's recent jobs."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.engine import make_url
from threadpoolctl import threadpool_limits

from surveyapp.cli.guards import needs_database
from surveyapp.extensions import db


@click.group("jobs", cls=AppGroup)
def jobs_group() -> None:
    """Background jobs (letters): run a worker beside the app, see what ran."""


def shown_url(url: str) -> str:
    """The queue's URL without a password."""
    if url.startswith(("redis://", "rediss://")):
        return (
            make_url(url.replace("redis", "redis+x", 1))
            .render_as_string(hide_password=True)
            .replace("redis+x", "redis", 1)
        )
    return url


@jobs_group.command("worker")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 32),
    help="Jobs run at once (threads). One per core left free by the app is plenty.",
)
@needs_database
def jobs_worker(workers: int) -> None:
    """Run a background worker on the queue of SURVEYAPP_JOBS_URL until stopped (Ctrl+C).

    Start one or more beside the app (systemd, see docs/operations.md); they share the
    queue. A job is claimed once: two workers never run the same job.
    """
    from surveyapp.jobs import queue_of, requeue

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    url = app.config["JOBS_URL"]
    if url == "memory://":
        raise click.ClickException(
            "SURVEYAPP_JOBS_URL=memory:// runs each job inside the request that asks for it; "
            "a worker needs a shared queue: sqlite:///PATH or redis://HOST:PORT/DB."
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    # One BLAS thread per job thread: the machine's cores are shared with the app.
    threadpool_limits(1)
    click.echo(f"Job worker on {shown_url(url)} with {workers} thread(s); Ctrl+C stops it.")
    waiting = requeue(db.session)
    db.session.remove()
    if waiting:
        click.echo(f"Queued again {waiting} job(s) waiting in the database.")
    consumer = queue_of(app).create_consumer(workers=workers, worker_type="thread", periodic=False)
    consumer.run()


@jobs_group.command("list")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@needs_database
def jobs_list(limit: int) -> None:
    """The most recent jobs: id, city, wave, what, status and progress."""
    from surveyapp.models import Job

    jobs = db.session.scalars(select(Job).order_by(Job.id.desc()).limit(limit)).all()
    if not jobs:
        click.echo("No jobs yet.")
    for job in jobs:
        click.echo(
            f"{job.id}\tcity {job.city_id}\twave {job.wave_id}\t{job.kind}\t{job.status}\t"
            f"{job.done}/{job.total}\t{job.created_at:%Y-%m-%d %H:%M}"
            + (f"\t{job.message}" if job.message else "")
        )
