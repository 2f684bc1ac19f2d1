"""The embedded server: db-start, db-stop, psql, clean."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer

from resultsdb import errors, extras
from resultsdb.cli._app import Yes, app, confirm, emit, out, run, state

# -- the embedded server ------------------------------------------------------------


@app.command("db-start")
def db_start_cmd() -> None:
    """Start the embedded PostgreSQL (a no-op with RESULTSDB_URL).

    \b
    Example:
      resultsdb db-start
    """
    def go() -> None:
        settings = state.settings()
        if settings.url is not None:
            out.print(f"using {settings.masked_url}; no embedded server to start")
            return
        from resultsdb import embedded

        info = embedded.start(settings.data_dir)
        emit({"pgdata": str(info.pgdata), "socket_dir": info.socket_dir, "pid": info.pid})
    run(go)


@app.command("db-stop")
def db_stop_cmd() -> None:
    """Stop the embedded PostgreSQL.

    \b
    Example:
      resultsdb db-stop
    """
    def go() -> None:
        from resultsdb import embedded

        stopped = embedded.stop(state.settings().data_dir)
        out.print("stopped" if stopped else "not running")
    run(go)


@app.command("psql")
def psql_cmd(
    args: Annotated[list[str] | None, typer.Argument(help="Extra psql arguments, after --.")] = None,
) -> None:
    """Open psql on the configured database.

    \b
    Example:
      resultsdb psql -- -c '\\d+ equity_curves'
    """
    def go() -> None:
        db = state.new_database()
        conninfo = db.conninfo
        # The system psql has readline; the bundled one (built without it) is the fallback.
        psql = shutil.which("psql")
        if psql is None:
            from resultsdb import embedded

            psql = str(embedded.bin_dir() / "psql")
        sys.stdout.flush()
        os.execv(psql, [psql, conninfo, *(args or [])])  # noqa: S606 - replace this process with psql
    run(go)


# What resultsdb keeps in its data folder; a folder holding none of them is not one.
DATA_ENTRIES = ("pgdata", "artifacts", "archive", "reports", "test")


@app.command("clean")
def clean_cmd(yes: Yes = False) -> None:
    """Stop the embedded servers of the data folder ($RESULTSDB_DATA_DIR, default .resultsdb)
    and remove it, with the embedded database, local artifacts, archives and reports.

    Asks first, unless --yes; without a terminal to ask at, it refuses. A server at --url
    or $RESULTSDB_URL is not touched. `make clean` runs it (`make clean YES=1`: with --yes),
    then removes .venv and the caches.

    \b
    Example:
      resultsdb clean --yes
    """
    def go() -> None:
        data_dir = state.settings().data_dir.resolve()
        if not data_dir.is_dir():
            emit({"data_dir": str(data_dir), "removed": False, "servers_stopped": []})
            return
        _check_removable(data_dir)
        entries = sorted(p.name for p in data_dir.iterdir())
        confirm(f"clean would stop the embedded servers of {data_dir} and remove it "
                f"({', '.join(entries) or 'empty'}): the embedded database and all its data.",
                yes=yes)
        servers = [data_dir, *sorted(p for p in data_dir.iterdir() if p.is_dir())]
        stopped = [str(d) for d in servers if _stop_embedded(d)]
        shutil.rmtree(data_dir)
        emit({"data_dir": str(data_dir), "removed": True, "servers_stopped": stopped})
    run(go)


def _stop_embedded(data_dir: Path) -> bool:
    """Stop an embedded server of ``data_dir``; without the embedded extra none can run."""
    if extras.missing("embedded"):
        return False
    from resultsdb import embedded

    return embedded.stop(data_dir)


def _check_removable(data_dir: Path) -> None:
    """Refuse a data folder that is the working folder, holds it, is the home folder, or
    holds nothing resultsdb writes: a mistyped RESULTSDB_DATA_DIR must not cost a disk."""
    held = {p.name for p in data_dir.iterdir()}
    if any(place.resolve().is_relative_to(data_dir) for place in (Path.cwd(), Path.home())) or (
            held and not held & set(DATA_ENTRIES)):
        raise errors.InvalidInput(
            f"data_dir: {data_dir} does not look like a resultsdb data folder (it holds "
            f"none of {', '.join(DATA_ENTRIES)}, or is the home or working folder or holds "
            "it); remove it by hand if you mean to", field="data_dir")
