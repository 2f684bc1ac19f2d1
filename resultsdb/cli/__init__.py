"""The ``resultsdb`` command: a thin shell over the library's public functions.

Tables for people, ``--json``/``--csv`` for programs. Errors print as one line (a
traceback only with ``--debug``) and exit with a code per error class. Each module
of this package registers the commands of one subject on the shared typer app.
"""

from resultsdb.extras import require

require("cli", "the resultsdb command")

from resultsdb.cli import browse, data, migrations, ops, server  # noqa: F401 - register commands
from resultsdb.cli._app import EXIT_CODES, app, emit, run, state

__all__ = ["EXIT_CODES", "app", "emit", "main", "run", "state"]


def main() -> None:
    app()
