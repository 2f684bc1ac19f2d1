"""The CLI's shared parts: the typer app, global options, output (tables, JSON, CSV)
and the one-line error handling every command goes through."""

from __future__ import annotations

import csv
import json
import logging
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

from resultsdb import errors
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
    (errors.ArtifactError, 9),
    (errors.AuthenticationFailed, 10),
    (errors.DatabaseNotFound, 11),
    (errors.SchemaNotMigrated, 12),
    (errors.ResourceExhausted, 13),
    (errors.ResultsDBError, 1),
]


class State:
    def __init__(self) -> None:
        self.url: str | None = None
        self.json = False
        self.csv = False
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
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of tables.")] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    state.url = url
    state.json = as_json
    state.csv = as_csv and not as_json
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


def emit(rows: Sequence[Any] | dict[str, Any] | BaseModel, *, title: str | None = None,
         columns: Sequence[str] | None = None) -> None:
    """Print records/dicts as a table, or as JSON with --json."""
    data = _plain(rows)
    if state.json:
        out.print_json(json.dumps(data, default=str))
        return
    if state.csv:
        _write_csv(data if isinstance(data, list) else [data], columns)
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


def _write_csv(rows: list[Any], columns: Sequence[str] | None) -> None:
    """Rows as CSV on stdout; nested values as JSON text."""
    cols = list(columns or dict.fromkeys(k for row in rows for k in row))
    writer = csv.DictWriter(sys.stdout, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in row.items()})


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
