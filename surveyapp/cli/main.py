"""The ``surveyapp`` command: every group, Flask's ``run``/``shell``/``routes`` and plugins.

Listing or finding a command never creates the app: the app registers no commands of its
own, and creating it refuses production settings without a secret, which would turn
``surveyapp --help`` into a traceback on a machine not yet configured. A command that
needs the app creates it when it runs; a configuration error then ends it with one line.
"""

from __future__ import annotations

from importlib import metadata

import click
from flask import Flask
from flask.cli import FlaskGroup
from sqlalchemy.exc import ArgumentError

from surveyapp import create_app
from surveyapp.cli import (
    areas,
    audit,
    cities,
    data,
    database,
    demo,
    i18n,
    initiatives,
    instruments,
    invitations,
    jobs,
    plan,
    responses,
    retention,
    serve,
    team,
    tokens,
    users,
    waves,
)
from surveyapp.cli.settings import SettingsError
from surveyapp.config import ConfigurationError


def create_cli_app() -> Flask:
    """The app from ``SURVEYAPP_*`` settings; a configuration error is the command's error."""
    try:
        return create_app()
    except ConfigurationError as error:
        raise SettingsError(str(error)) from None
    except ArgumentError as error:
        # The only engine the app builds while starting is the one for DATABASE_URL.
        raise SettingsError(f"SURVEYAPP_DATABASE_URL is not usable: {error}") from None


class SurveyappGroup(FlaskGroup):
    """Flask's command group with a fixed list of commands, known without the app."""

    plugins_added = False

    def add_plugin_commands(self) -> None:
        """Add commands that installed packages offer Flask (flask-limiter's ``limiter``)."""
        if self.plugins_added:
            return
        for entry in metadata.entry_points(group="flask.commands"):
            self.commands.setdefault(entry.name, entry.load())
        self.plugins_added = True

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, sorted, without creating the app."""
        self.add_plugin_commands()
        return sorted(self.commands)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command named ``cmd_name``, without creating the app."""
        self.add_plugin_commands()
        return self.commands.get(cmd_name)


@click.group(cls=SurveyappGroup, create_app=create_cli_app, load_dotenv=False, set_debug_flag=False)
def main() -> None:
    """Social cohesion and safety surveys for cities."""


#: Every command group and command of our own (tests check that none is left out).
COMMANDS: tuple[click.Command, ...] = (
    database.db_group,
    users.users_group,
    instruments.instruments_group,
    cities.cities_group,
    areas.areas_group,
    initiatives.initiatives_group,
    waves.waves_group,
    invitations.invitations_group,
    jobs.jobs_group,
    responses.responses_group,
    audit.audit_log,
    i18n.i18n_group,
    data.data_group,
    tokens.tokens_group,
    retention.retention_group,
    demo.demo,
    plan.plan,
)
#: Modules that add commands to a group of another module (``users invite`` and the like).
GROUP_EXTENSIONS = (team,)
for command in COMMANDS:
    main.add_command(command)
# Flask's ``run``, refused on a non-loopback address with the published development secret.
main.add_command(serve.run_guarded)
