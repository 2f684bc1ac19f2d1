"""The ``resultsdb`` command: a thin shell over the library's public functions.

Tables for people, ``--json`` for programs. Errors print as one line (a
traceback only with ``--debug``) and exit with a code per error class.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from resultsdb import embedded, errors, migrate
from resultsdb.config import Settings
from resultsdb.db import Database

app = typer.Typer(
    name="resultsdb",
    help="Results database of the trading-model optimization pipeline.\n\n"
    "Example: resultsdb migrate && resultsdb seed && resultsdb status",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
migrations_app = typer.Typer(help="Write new migration steps.", no_args_is_help=True)
app.add_typer(migrations_app, name="migrations")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

# Exit codes, one per error family, so scripts can branch on them.
EXIT_CODES: list[tuple[type[BaseException], int]] = [
    (errors.NotFound, 3),
    (errors.InvalidTransition, 5),
    (errors.InvalidInput, 4),
    (errors.DatabaseUnavailable, 6),
    (errors.Timeout, 7),
    (errors.MigrationError, 8),
    (errors.ResultsDBError, 1),
]


class State:
    def __init__(self) -> None:
        self.url: str | None = None
        self.json = False
        self.debug = False

    def settings(self) -> Settings:
        return Settings(url=self.url) if self.url else Settings()

    @contextmanager
    def database(self) -> Iterator[Database]:
        with Database(self.settings()) as db:
            yield db


state = State()


@app.callback()
def _main(
    url: Annotated[str | None, typer.Option(
        help="PostgreSQL URL (default: $RESULTSDB_URL, else the embedded server).",
        envvar="RESULTSDB_URL", show_envvar=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    state.url = url
    state.json = as_json
    state.debug = debug
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", force=True)
    if not debug:
        # The pool logs each failed reconnect; the command reports the failure once.
        logging.getLogger("psycopg.pool").setLevel(logging.CRITICAL)


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in asdict(value).items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def emit(rows: Sequence[Any] | dict[str, Any], *, title: str | None = None,
         columns: Sequence[str] | None = None) -> None:
    """Print records/dicts as a table, or as JSON with --json."""
    data = _plain(rows)
    if state.json:
        out.print_json(json.dumps(data, default=str))
        return
    if isinstance(data, dict):
        data = [{"key": k, "value": v} for k, v in data.items()]
    if not data:
        out.print(f"{title + ': ' if title else ''}(none)")
        return
    cols = list(columns or data[0].keys())
    table = Table(title=title, show_lines=False)
    for c in cols:
        table.add_column(c)
    for row in data:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in cols))
    out.print(table)


def run(fn: Callable[[], Any]) -> Any:
    """Call fn, turning resultsdb errors into one line on stderr and an exit code."""
    try:
        return fn()
    except errors.ResultsDBError as exc:
        if state.debug:
            raise
        code = next(c for cls, c in EXIT_CODES if isinstance(exc, cls))
        err.print(f"[red]error[/red] ({type(exc).__name__}): {exc}", markup=True, highlight=False)
        raise typer.Exit(code) from None


# -- migrations --------------------------------------------------------------------


@app.command("migrate")
def migrate_cmd() -> None:
    """Apply pending migrations and create series partitions ahead.

    Example: resultsdb migrate
    """
    def go() -> None:
        with state.database() as db:
            applied = migrate.migrate(db)
            emit([{"applied": m} for m in applied], title=f"migrated {db.masked_url}")
    run(go)


@app.command("rollback")
def rollback_cmd(
    steps: Annotated[int, typer.Option(min=1, help="How many applied steps to undo.")] = 1,
) -> None:
    """Roll back the most recent migration steps.

    Example: resultsdb rollback --steps 1
    """
    def go() -> None:
        with state.database() as db:
            emit([{"rolled_back": m} for m in migrate.rollback(db, steps=steps)])
    run(go)


@app.command("status")
def status_cmd() -> None:
    """Show every migration and whether it is applied.

    Example: resultsdb status --json
    """
    def go() -> None:
        with state.database() as db:
            emit(migrate.status(db), title=f"migrations on {db.masked_url}")
    run(go)


@app.command("history")
def history_cmd() -> None:
    """Show yoyo's log of applies and rollbacks.

    Example: resultsdb history
    """
    def go() -> None:
        with state.database() as db:
            emit(migrate.history(db), title="migration history")
    run(go)


@app.command("break-lock")
def break_lock_cmd() -> None:
    """Remove the migration lock a crashed migrate left behind.

    Example: resultsdb break-lock
    """
    def go() -> None:
        with state.database() as db:
            migrate.break_lock(db)
            out.print("migration lock removed")
    run(go)


@app.command("init")
def init_cmd() -> None:
    """Create the configured database if it does not exist, then migrate it.

    Example: RESULTSDB_URL=postgresql://me@db.example/results resultsdb init
    """
    def go() -> None:
        settings = state.settings()
        created = migrate.create_database(settings)
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

    Example: resultsdb migrations new add_run_notes
    """
    def go() -> None:
        forward, backward = migrate.new_migration(name, directory=directory)
        emit({"migration": str(forward), "rollback": str(backward)})
    run(go)


# -- data ----------------------------------------------------------------------------


@app.command("seed")
def seed_cmd() -> None:
    """Insert a small realistic dataset (running it twice inserts nothing more).

    Example: resultsdb seed
    """
    from resultsdb import seed

    def go() -> None:
        with state.database() as db:
            migrate.migrate(db)
            summary = seed.seed(db)
            emit(summary.as_dict(), title="seed")
    run(go)


@app.command("demo")
def demo_cmd() -> None:
    """Start the database, migrate, seed, and show what is stored.

    Example: resultsdb demo
    """
    from resultsdb import demo

    run(lambda: demo.main(state.settings(), emit=emit))


@app.command("partitions")
def partitions_cmd() -> None:
    """List the series partitions with run-id bounds, row estimates and sizes.

    Example: resultsdb partitions --json
    """
    def go() -> None:
        with state.database() as db:
            emit(db.read(lambda c: db.registry.many(c, "series_partitions")), title="partitions")
    run(go)


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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
