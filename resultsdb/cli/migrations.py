"""Commands that drive migrations: migrate, rollback, status, history, init ..."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from resultsdb.cli._app import Yes, app, confirm, emit, migrations_app, out, run, state

# -- migrations --------------------------------------------------------------------


@app.command("migrate")
def migrate_cmd() -> None:
    """Apply pending migrations and create series partitions ahead.

    \b
    Example:
      resultsdb migrate
    """
    from resultsdb import migrate

    def go() -> None:
        with state.database() as db:
            applied = migrate.migrate(db)
            emit([{"applied": m} for m in applied], title=f"migrated {db.masked_url}")
    run(go)


@app.command("rollback")
def rollback_cmd(
    steps: Annotated[int, typer.Option(min=1, help="How many applied steps to undo.")] = 1,
    yes: Yes = False,
) -> None:
    """Roll back the most recent migration steps.

    Rolling back the initial migration drops every table and all the data in them: that
    asks first, unless --yes.

    \b
    Example:
      resultsdb rollback --steps 1
    """
    from resultsdb import migrate

    def go() -> None:
        with state.database() as db:
            first = migrate.status(db)[0].id
            if first in migrate.rollback_targets(db, steps=steps):
                confirm(f"rollback would undo {first}: every table of {db.masked_url} is "
                        "dropped, with all its data.", yes=yes)
            emit([{"rolled_back": m} for m in migrate.rollback(db, steps=steps)])
    run(go)


@app.command("status")
def status_cmd() -> None:
    """Show every migration and whether it is applied.

    \b
    Example:
      resultsdb status --json
    """
    from resultsdb import migrate

    def go() -> None:
        with state.database() as db:
            emit(migrate.status(db), title=f"migrations on {db.masked_url}")
    run(go)


@app.command("history")
def history_cmd() -> None:
    """Show yoyo's log of applies and rollbacks.

    \b
    Example:
      resultsdb history
    """
    from resultsdb import migrate

    def go() -> None:
        with state.database() as db:
            emit(migrate.history(db), title="migration history")
    run(go)


@app.command("break-lock")
def break_lock_cmd() -> None:
    """Remove the migration lock a crashed migrate left behind.

    \b
    Example:
      resultsdb break-lock
    """
    from resultsdb import migrate

    def go() -> None:
        with state.database() as db:
            migrate.break_lock(db)
            out.print("migration lock removed")
    run(go)


@app.command("init")
def init_cmd() -> None:
    """Create the configured database if it does not exist, then migrate it.

    \b
    Example:
      RESULTSDB_URL=postgresql://me@db.example/results resultsdb init
    """
    from resultsdb import migrate

    def go() -> None:
        settings = state.settings()
        created = migrate.create_database(settings)
        from resultsdb.db import Database

        with Database(settings) as db:
            applied = migrate.migrate(db)
            emit({"database": db.masked_url, "created": created, "applied": applied})
    run(go)


@migrations_app.command("new")
def migrations_new_cmd(
    name: Annotated[str, typer.Argument(help="lower_snake_case description, e.g. add_run_notes")],
    directory: Annotated[
        Path | None, typer.Option(help="Migrations folder (default: the package's).")
    ] = None,
) -> None:
    """Write the next numbered migration and its rollback file.

    \b
    Example:
      resultsdb migrations new add_run_notes
    """
    from resultsdb import migrate

    def go() -> None:
        forward, backward = migrate.new_migration(name, directory=directory)
        emit({"migration": str(forward), "rollback": str(backward)})
    run(go)
