"""The CLI's shared parts: the typer app, global options, output (tables, JSON, CSV),
progress bars, confirmations and the one-line error handling every command goes through."""

from __future__ import annotations

import csv
import json
import logging
import math
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from resultsdb import errors

if TYPE_CHECKING:  # imported where used: --help needs neither psycopg nor pydantic
    from uuid import UUID

    from pydantic import BaseModel

    from resultsdb.config import Settings
    from resultsdb.db import Database
    from resultsdb.records import Progress, RefKind

GLOBAL_OPTIONS = ("url", "as_json", "as_csv", "debug")


class Group(TyperGroup):
    """A command group whose sub-commands also take the global options, so that
    ``resultsdb status --json`` works as ``resultsdb --json status`` does (as git's and
    sqlite-utils' options do): the root's option objects are added to each sub-command,
    and their callbacks set :data:`state` wherever they are given."""

    def make_context(self, info_name: str | None, args: list[str],
                     parent: Any = None, **extra: Any) -> Any:
        if parent is None:  # a new invocation: forget the options of the last one
            state.reset()
        return super().make_context(info_name, args, parent=parent, **extra)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            shared = [p for p in ctx.find_root().command.params if p.name in GLOBAL_OPTIONS]
            command.params.extend(p for p in shared if p not in command.params)
        return command


# Plain (click) help: typer's rich panels print "<bool>" beside every flag, which reads as
# if "--dry-run true" were wanted.
app = typer.Typer(
    name="resultsdb",
    cls=Group,
    help="Results database of the trading-model optimization pipeline.\n\n"
    "Global options (--json, --csv, --url, --debug) go before or after the command. "
    "Wherever an id is wanted, a unique id prefix (4+ hex digits) or a name will do: "
    "an experiment's name, a model's, experiment/run-name, model@production, model:3.\n\n"
    "\b\nExample:\n  resultsdb migrate && resultsdb seed && resultsdb status --json",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
migrations_app = typer.Typer(help="Write new migration steps.", no_args_is_help=True, cls=Group,
                             rich_markup_mode=None)
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
    """The global options of the command running now."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.url: str | None = None
        self.json = False
        self.csv = False
        self.debug = False

    def settings(self) -> Settings:
        from resultsdb.config import Settings

        return Settings(url=self.url) if self.url else Settings()

    def new_database(self) -> Database:
        """A Database of the command's settings, not yet opened."""
        from resultsdb.db import Database

        return Database(self.settings())

    @contextmanager
    def database(self) -> Iterator[Database]:
        with self.new_database() as db:
            yield db


state = State()


def _logging() -> None:
    logging.basicConfig(level=logging.DEBUG if state.debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", force=True)
    if not state.debug:
        # The pool logs each failed reconnect; the command reports the failure once.
        logging.getLogger("psycopg.pool").setLevel(logging.CRITICAL)


# Each global option is parsed by the root and again by the sub-command: a callback only
# ever turns an option on, so one given before the command is not undone after it.
def _url(ctx: typer.Context, param: Any, value: str | None) -> None:
    if value is not None:
        state.url = value


def _json(ctx: typer.Context, param: Any, value: bool) -> None:
    state.json = state.json or value


def _csv(ctx: typer.Context, param: Any, value: bool) -> None:
    state.csv = state.csv or value


def _debug(ctx: typer.Context, param: Any, value: bool) -> None:
    if value and not state.debug:
        state.debug = True
        _logging()


@app.callback()
def _main(
    url: Annotated[str | None, typer.Option(
        help="PostgreSQL URL (default: $RESULTSDB_URL, else the embedded server).",
        envvar="RESULTSDB_URL", show_envvar=False, callback=_url, expose_value=False)] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print JSON instead of tables.", callback=_json, expose_value=False)
    ] = False,
    as_csv: Annotated[bool, typer.Option(
        "--csv", help="Print CSV instead of tables.", callback=_csv, expose_value=False)
    ] = False,
    debug: Annotated[bool, typer.Option(
        "--debug", help="Also print the traceback of an error (the exit code stays the same).",
        callback=_debug, expose_value=False)] = False,
) -> None:
    _logging()


def _plain(value: Any) -> Any:
    from pydantic import BaseModel

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
    """Print records/dicts as a table, or as JSON with --json, CSV with --csv (values exact)."""
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
    _print_table(data, list(columns or data[0].keys()), title)


NARROWEST = 10  # characters a column that holds no id may wrap down to
_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _print_table(data: list[dict[str, Any]], cols: list[str], title: str | None) -> None:
    """A table whose ids are never cut. A column holding an id is at least that wide (and
    does not wrap when it holds only ids); others may wrap down to their header or
    :data:`NARROWEST`. When the terminal is narrower than that, the table is printed wider
    and the terminal wraps its lines, as with psql: nothing is elided or folded mid-id."""
    cells = [[cell(row.get(c)) for c in cols] for row in data]
    table = Table(title=title, show_lines=False)
    floors = []
    for i, c in enumerate(cols):
        values = [row[i] for row in cells]
        ids = [len(m) for v in values for m in _ID.findall(v)]
        longest = max(len(v) for v in values)
        floors.append(max(max(ids, default=0), len(c), min(longest, NARROWEST)))
        table.add_column(c, overflow="fold", min_width=floors[-1],
                         no_wrap=bool(ids) and all(_ID.fullmatch(v) or not v for v in values))
    for row in cells:
        table.add_row(*row)
    needed = sum(floors) + 3 * len(cols) + 1  # a space each side of a cell, and the rules
    if needed > out.width:
        table.width = needed
    out.print(table, crop=False)


def cell(value: Any) -> str:
    """A value as a table shows it: floats to 6 significant digits, also inside objects."""
    if value is None:
        return ""
    if isinstance(value, float):
        return _short(value)
    if isinstance(value, dict | list):
        return json.dumps(_rounded(value), default=str)
    return str(value)


def _short(x: float) -> str:
    """6 significant digits; whole numbers of up to 15 digits in full, not as 1.23457e+06."""
    if not math.isfinite(x) or x == 0:
        return str(x)
    digits = math.floor(math.log10(abs(x))) + 1
    if 1 <= digits <= 15:
        text = f"{x:.{max(0, 6 - digits)}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    return f"{x:.6g}"


def _rounded(value: Any) -> Any:
    if isinstance(value, float) and math.isfinite(value):
        short = float(_short(value))
        return int(short) if short.is_integer() and abs(short) < 1e15 else short
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def _write_csv(rows: list[Any], columns: Sequence[str] | None) -> None:
    """Rows as CSV on stdout; nested values as JSON text."""
    cols = list(columns or dict.fromkeys(k for row in rows for k in row))
    writer = csv.DictWriter(sys.stdout, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in row.items()})


def run(fn: Callable[[], Any]) -> Any:
    """Call fn, turning resultsdb errors into one line on stderr and an exit code. With
    --debug the traceback comes first; the exit code is the same."""
    try:
        return fn()
    except errors.ResultsDBError as exc:
        if state.debug:
            err.print_exception()
        code = next(c for cls, c in EXIT_CODES if isinstance(exc, cls))
        err.print(f"[red]error[/red] ({type(exc).__name__}): {escape(str(exc))}", markup=True,
                  highlight=False)
        raise typer.Exit(code) from None


def ref_id(db: Database, ref: str, kind: RefKind) -> UUID:
    """The id of the ``kind`` row ``ref`` names: an id, a unique id prefix or a name
    (every form :func:`resultsdb.browse.resolve` takes)."""
    from resultsdb import browse

    return browse.resolve(db, ref, kind).id


def optional_id(db: Database, ref: str | None, kind: RefKind) -> UUID | None:
    """:func:`ref_id` of an option that may be left out."""
    return None if ref is None else ref_id(db, ref, kind)


# -- progress and confirmations -------------------------------------------------------------

Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do it without asking.")]
EXIT_DECLINED = 1


def interactive() -> bool:
    """Whether a person can answer a question (stdin is a terminal)."""
    return sys.stdin.isatty()


def confirm(question: str, *, yes: bool) -> None:
    """Go on only if ``yes`` (--yes) or a person at the terminal says so; else exit 1,
    having changed nothing. Without a terminal to ask at, refuse rather than assume."""
    if yes:
        return
    if not interactive():
        err.print(f"[red]error[/red]: {escape(question)} Not confirmed: stdin is not a "
                  "terminal; pass --yes to go ahead.", markup=True, highlight=False)
        raise typer.Exit(EXIT_DECLINED)
    if not typer.confirm(f"{question} Go ahead?", default=False, err=True):
        err.print("nothing done", markup=False, highlight=False)
        raise typer.Exit(EXIT_DECLINED)


@contextmanager
def progress(description: str) -> Iterator[Progress]:
    """A progress bar on stderr, fed by the library's ``progress(done, total)`` callback;
    none with --json or --csv, or when stderr is not a terminal (logs stay clean)."""
    from rich import progress as rich

    shown = not (state.json or state.csv) and err.is_terminal
    with rich.Progress(*rich.Progress.get_default_columns()[:1], rich.BarColumn(),
                       rich.MofNCompleteColumn(), rich.TimeElapsedColumn(), console=err,
                       disable=not shown, transient=True) as bar:
        task = bar.add_task(escape(description), total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)
