"""The ``surveyapp`` command: database, accounts, instruments, cities, waves, letters, data.

One module per command group; :mod:`surveyapp.cli.main` wires them into one command.
Commands parse their arguments, call one service of a feature package, print the outcome
and commit; the service checks and changes state. Commands that only read files (checking
and exporting instruments, translation catalogs) need no secret; the others create the
app, so they read the same ``SURVEYAPP_*`` settings as the web server, and a
configuration error ends them with one line.
"""

from surveyapp.cli.main import main

__all__ = ["main"]
