"""``surveyapp retention``: delete what waves keep only for a while (daily, from cron)."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from surveyapp.cli.guards import needs_database
from surveyapp.cli.settings import ACTOR
from surveyapp.db import writing
from surveyapp.extensions import db


@click.group("retention", cls=AppGroup)
def retention_group() -> None:
    """Delete what waves keep only for a while (run daily from cron)."""


@retention_group.command("purge")
@click.option("--dry-run", is_flag=True, help="Only say what would be deleted.")
@needs_database
def retention_purge(dry_run: bool) -> None:
    """Delete unfinished questionnaires and unused codes of waves past their retention."""
    from surveyapp.retention import purge

    if dry_run:
        done = purge(db.session, datetime.now(UTC), dry_run=True, actor=ACTOR)
        db.session.rollback()
    else:
        with writing():
            done = purge(db.session, datetime.now(UTC), actor=ACTOR)
            db.session.commit()
    verb = "Would delete" if dry_run else "Deleted"
    for item in done:
        click.echo(
            f"{verb} {item.drafts} unfinished questionnaire(s) and {item.codes} unused "
            f"code(s) of wave {item.wave.id} ({item.wave.name})."
        )
    if not done:
        click.echo("Nothing is past its retention period.")
