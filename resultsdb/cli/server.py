"""The embedded server: db-start, db-stop, psql."""

from __future__ import annotations

import os
import shutil
import sys
from typing import Annotated

import typer

from resultsdb import embedded
from resultsdb.cli._app import app, emit, out, run, state
from resultsdb.db import Database

# -- the embedded server ------------------------------------------------------------


@app.command("db-start")
def db_start_cmd() -> None:
    """Start the embedded PostgreSQL (a no-op with RESULTSDB_URL).

    Example: resultsdb db-start
    """
    settings = state.settings()
    if settings.url is not None:
        out.print(f"using {settings.masked_url}; no embedded server to start")
        return
    info = embedded.start(settings.data_dir)
    emit({"pgdata": str(info.pgdata), "socket_dir": info.socket_dir, "pid": info.pid})


@app.command("db-stop")
def db_stop_cmd() -> None:
    """Stop the embedded PostgreSQL.

    Example: resultsdb db-stop
    """
    settings = state.settings()
    stopped = embedded.stop(settings.data_dir)
    out.print("stopped" if stopped else "not running")


@app.command("psql")
def psql_cmd(
    args: Annotated[list[str] | None, typer.Argument(help="Extra psql arguments, after --.")] = None,
) -> None:
    """Open psql on the configured database.

    Example: resultsdb psql -- -c '\\d+ equity_curves'
    """
    def go() -> None:
        db = Database(state.settings())
        conninfo = db.conninfo
        # The system psql has readline; the bundled one (built without it) is the fallback.
        psql = shutil.which("psql") or str(embedded.bin_dir() / "psql")
        sys.stdout.flush()
        os.execv(psql, [psql, conninfo, *(args or [])])  # noqa: S606 - replace this process with psql
    run(go)
