"""``surveyapp audit``: a city's audit log."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from surveyapp.cli import lookups
from surveyapp.cli.guards import needs_database
from surveyapp.extensions import db


@click.command("audit")
@click.argument("city_slug")
@click.option("--limit", type=int, default=50, show_default=True)
@with_appcontext
@needs_database
def audit_log(city_slug: str, limit: int) -> None:
    """Print the city's audit log, newest first."""
    from surveyapp.console.queries import audit_events

    for event in audit_events(db.session, lookups.city(city_slug).id, limit):
        click.echo(
            f"{event.occurred_at:%Y-%m-%d %H:%M}\t{event.actor}\t{event.action}\t"
            f"{event.object_type or ''} {event.object_id or ''}\t{json.dumps(event.details)}"
        )
