"""The ``resultsdb`` command: a thin shell over the library's public functions.

Tables for people, ``--json`` for programs. Errors print as one line (a
traceback only with ``--debug``) and exit with a code per error class.
"""

from __future__ import annotations

import csv
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
    (errors.ArtifactError, 9),
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


_ARCHIVE_COLUMNS = ("name", "month", "rows", "data_file", "data_bytes", "checksum")


@app.command("archive")
def archive_cmd(
    before: Annotated[str, typer.Option(
        help="Archive partitions of runs created before this date (YYYY-MM-DD: midnight UTC) "
             "or timezone-aware time.")],
    to: Annotated[str | None, typer.Option(
        help="fsspec URL of the archive folder, local or s3:// (default: <data_dir>/archive).")] = None,
    dry_run: Annotated[bool, typer.Option(help="Only list the partitions it would archive.")] = False,
) -> None:
    """Write whole series partitions to Parquet, verify rows and checksum, then drop them.

    Example: resultsdb archive --before 2025-01-01 --to s3://results-archive/series
    """
    from resultsdb.series import partitions

    def go() -> None:
        moment = partitions.parse_before(before)
        with state.database() as db:
            if dry_run:
                emit(partitions.archivable(db, moment), title="would archive")
                return
            url = to or partitions.default_archive_url(state.settings())
            emit(partitions.archive(db, moment, url), title=f"archived to {url}",
                 columns=_ARCHIVE_COLUMNS)
    run(go)


@app.command("restore")
def restore_cmd(
    source: Annotated[str | None, typer.Option(
        "--from", help="fsspec URL of the archive folder (default: <data_dir>/archive).")] = None,
    partition: Annotated[list[str] | None, typer.Option(
        help="Restore only this partition (repeatable; default: every one archived there).")] = None,
    dry_run: Annotated[bool, typer.Option(help="Only list the archived partitions.")] = False,
) -> None:
    """Bring archived series partitions back, checking rows and checksum before commit.

    Example: resultsdb restore --from s3://results-archive/series --partition equity_curves_p202401
    """
    from resultsdb.series import partitions

    def go() -> None:
        url = source or partitions.default_archive_url(state.settings())
        if dry_run:
            emit(partitions.manifests(url), title=f"archived at {url}", columns=_ARCHIVE_COLUMNS)
            return
        with state.database() as db:
            emit(partitions.restore(db, url, names=partition), title=f"restored from {url}",
                 columns=_ARCHIVE_COLUMNS)
    run(go)


# -- statistics ----------------------------------------------------------------------


@app.command("stats-run")
def stats_run_cmd(
    run_id: Annotated[str, typer.Argument(metavar="RUN", help="Run id.")],
    model: Annotated[str | None, typer.Option(
        help="Model id of the series (default: the run's own, not tied to a model).")] = None,
    periods_per_year: Annotated[float, typer.Option(
        help="Return periods per year: 252 for trading days, 8760 for hours.")] = 252,
    risk_free: Annotated[float, typer.Option(help="Annual risk-free rate, e.g. 0.04.")] = 0.0,
    store: Annotated[bool, typer.Option(
        "--store", help="Also store them into the run's summary_metrics.")] = False,
) -> None:
    """Trading statistics of a run's equity curve and trade log (docs/statistics.md).

    Example: resultsdb stats-run 0190f3c2-7c1e-7000-8000-000000000001 --risk-free 0.04 --store
    """
    from resultsdb.stats import trading

    def go() -> None:
        with state.database() as db:
            compute = trading.compute_stats if store else trading.run_stats
            stats = compute(db, run_id, model, periods_per_year, risk_free)
            emit(stats, title=f"run {stats.run_id}{' (stored)' if store else ''}")
    run(go)


@app.command("overfitting")
def overfitting_cmd(
    search_run: Annotated[str, typer.Argument(metavar="SEARCH_RUN", help="Search run id.")],
    blocks: Annotated[int, typer.Option(help="CSCV blocks (even): C(blocks, blocks/2) splits.")
                      ] = 16,
    periods_per_year: Annotated[float, typer.Option(
        help="Return periods per year, to annualize and convert --risk-free.")] = 252,
    risk_free: Annotated[float, typer.Option(help="Annual risk-free rate, e.g. 0.04.")] = 0.0,
    trials: Annotated[int | None, typer.Option(
        min=1, help="Trials tried, when more than the child runs with curves.")] = None,
) -> None:
    """How much of a search's best Sharpe ratio is luck: Deflated Sharpe Ratio and PBO.

    Example: resultsdb overfitting 0190f3c2-7c1e-7000-8000-000000000001 --blocks 16
    """
    from resultsdb.stats import overfitting

    def go() -> None:
        with state.database() as db:
            dsr = overfitting.deflated_sharpe(db, search_run, periods_per_year=periods_per_year,
                                              risk_free=risk_free, n_trials=trials)
            cv = overfitting.pbo(db, search_run, n_blocks=blocks,
                                 periods_per_year=periods_per_year, risk_free=risk_free)
            scale = periods_per_year ** 0.5
            emit({"search_run_id": dsr.search_run_id, "trials": dsr.n_trials,
                  "periods": dsr.n_obs, "best_run_id": dsr.run_id, "best_model_id": dsr.model_id,
                  "best_sharpe_annualized": dsr.sharpe_annualized,
                  "expected_max_sharpe_annualized": dsr.expected_max_sharpe * scale,
                  "psr": dsr.psr, "dsr": dsr.dsr, "pbo": cv.pbo, "splits": cv.n_splits,
                  "blocks": cv.n_blocks, "prob_oos_loss": cv.prob_oos_loss,
                  "median_logit": cv.median_logit, "degradation_slope": cv.degradation_slope},
                 title="overfitting")
    run(go)


# -- artifacts -----------------------------------------------------------------------


@app.command("verify")
def verify_cmd(
    workers: Annotated[int, typer.Option(min=1, help="Blobs hashed at once.")] = 4,
) -> None:
    """Re-hash every referenced artifact; list missing and corrupt ones with their rows.

    Exits 2 when any blob is missing or corrupt.
    Example: resultsdb verify --json
    """
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    from resultsdb import artifacts

    def go() -> artifacts.VerifyReport:
        with state.database() as db:
            store = artifacts.ArtifactStore.from_settings(state.settings())
            total = artifacts.totals(db)
            # The bar goes to stderr: stdout stays clean for --json.
            with Progress(*Progress.get_default_columns()[:1], BarColumn(), DownloadColumn(),
                          TransferSpeedColumn(), console=err, disable=state.json) as bar:
                task = bar.add_task(f"verifying {total.blob_count} blobs", total=total.total_bytes)
                report = artifacts.verify(db, store, workers=workers,
                                          progress=lambda n: bar.advance(task, n))
        rows = [{"content_hash": p.content_hash, "problem": p.problem, "table": r.table_name,
                 "row_id": r.row_id, "owner_id": r.owner_id, "storage_path": r.storage_path}
                for p in report.problems for r in p.references]
        if state.json:
            emit({"checked": report.checked, "bytes_checked": report.bytes_checked,
                  "ok": report.ok, "problems": rows})
        else:
            emit(rows, title=f"{report.checked} blobs checked, {len(report.problems)} with problems")
        return report

    if not run(go).ok:
        raise typer.Exit(2)


@app.command("gc")
def gc_cmd(
    grace: Annotated[str, typer.Option(help="Keep blobs claimed within this long: 30m, 24h, 7d.")
                     ] = "24h",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would go; delete nothing.")
                       ] = False,
) -> None:
    """Delete stored blobs that no row references, older than the grace period.

    Example: resultsdb gc --grace 7d --dry-run
    """
    from resultsdb import artifacts

    def go() -> None:
        with state.database() as db:
            store = artifacts.ArtifactStore.from_settings(state.settings())
            report = artifacts.gc(db, store, grace=artifacts.parse_duration(grace), dry_run=dry_run)
            emit(asdict(report) if state.json else {
                "dry_run": report.dry_run, "blobs": len(report.deleted),
                "bytes": report.bytes_freed, "stale_uploads": len(report.stale_uploads),
                "failed": len(report.failed), "skipped": len(report.skipped)},
                 title="would delete" if dry_run else "deleted")
    run(go)


@app.command("cleanup-versions")
def cleanup_versions_cmd(
    model: Annotated[str, typer.Argument(help="Model name or id.")],
    keep: Annotated[int, typer.Option(min=0, help="How many of the newest versions to keep.")],
    delete: Annotated[bool, typer.Option("--delete", help="Delete instead of archiving.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List them; change nothing.")] = False,
) -> None:
    """Archive (or delete) all but the newest N versions of a model; production is never touched.

    Example: resultsdb cleanup-versions momentum-dqn --keep 3 --dry-run
    """
    from resultsdb import artifacts

    def go() -> None:
        with state.database() as db:
            report = artifacts.cleanup_versions(db, model, keep=keep, dry_run=dry_run,
                                                action="delete" if delete else "archive")
            emit(asdict(report), title=f"{report.action}{' (dry run)' if dry_run else 'd'}")
    run(go)


# -- operations: roles, health, stats ----------------------------------------------


@app.command("roles")
def roles_cmd(
    prefix: Annotated[str, typer.Option(help="Group roles are PREFIX_owner, _writer, _reader.")
                      ] = "resultsdb",
    login: Annotated[str | None, typer.Option(help="Also create this login role ...")] = None,
    group: Annotated[str, typer.Option(help="... in this group: owner, writer or reader.")
                     ] = "writer",
    password_env: Annotated[str | None, typer.Option(
        help="Name of the environment variable holding the login's password.")] = None,
) -> None:
    """Create owner/writer/reader group roles with least privilege (idempotent).

    Example: APP_PW=... resultsdb roles --login pipeline --group writer --password-env APP_PW
    """
    from resultsdb import roles

    def go() -> None:
        password = None
        if password_env is not None:
            if login is None:
                raise errors.InvalidInput("--password-env needs --login", field="password_env")
            password = os.environ.get(password_env)
            if not password:
                raise errors.InvalidInput(f"--password-env: ${password_env} is not set or empty",
                                          field="password_env")
        with state.database() as db:
            report = roles.ensure_roles(db, prefix=prefix, login=login, group=group,
                                        password=password)
        if state.json:
            emit(_plain(report))
        else:
            emit([{"role": r.name, "login": r.can_login, "member_of": ", ".join(r.member_of),
                   "created": r.name in report.created} for r in report.roles],
                 title=f"roles on {report.database} (schema {report.schema}); "
                 f"{len(report.reassigned)} objects given to the owner"
                 + ("; password set" if report.password_set else ""))
    run(go)


@app.command("health")
def health_cmd(
    months_ahead: Annotated[int, typer.Option(
        min=0, max=24, help="Series partitions needed: the current month and this many after.")] = 1,
) -> None:
    """Check connection, migrations, series partitions, pool and artifact store.

    Exits 2 when a check fails.
    Example: resultsdb health --months-ahead 2 --json
    """
    from resultsdb import ops

    def go() -> ops.HealthReport:
        db = Database(state.settings())  # not opened here: a server that is down is a result
        try:
            report = ops.health(db, months_ahead=months_ahead)
        finally:
            db.close()
        if state.json:
            emit({"healthy": report.healthy, "checks": report.checks})
        else:
            emit([{"check": c.name, "status": c.status, "detail": c.detail} for c in report.checks],
                 title="healthy" if report.healthy else "UNHEALTHY")
        return report

    if not run(go).healthy:
        raise typer.Exit(2)


@app.command("stats")
def stats_cmd() -> None:
    """Table sizes and row estimates (catalog, no scans), partitions, artifact bytes.

    Example: resultsdb stats --json
    """
    from resultsdb import ops

    def go() -> None:
        with state.database() as db:
            report = ops.stats(db)
        if state.json:
            emit(_plain(report))
            return
        size = ops.human_bytes
        emit([{"table": t.table_name, "rows (estimate)": t.row_estimate,
               "total": size(t.total_bytes), "heap": size(t.table_bytes),
               "indexes": size(t.index_bytes), "partitions": t.partitions or ""}
              for t in report.tables],
             title=f"tables: {size(report.database_bytes)} in the database, "
             f"{report.partitions} partitions")
        a = report.artifacts
        emit({"artifacts": a.artifact_count, "artifact_bytes": size(a.artifact_bytes),
              "distinct blobs": a.distinct_blobs, "distinct_bytes": size(a.distinct_bytes)},
             title="artifacts (model_artifacts)")
    run(go)


# -- browsing: ls, show, leaderboard, compare, lineage, export, report ---------------


ls_app = typer.Typer(help="List experiments, runs, models or trials.", no_args_is_help=True)
app.add_typer(ls_app, name="ls")

Limit = Annotated[int, typer.Option(min=1, max=10_000, help="Rows per page.")]
Cursor = Annotated[str | None, typer.Option(help="next_cursor of the previous page.")]
Tags = Annotated[list[str] | None, typer.Option(
    "--tag", help="KEY=VALUE the tags must contain (repeatable; values are strings).")]


@contextmanager
def _results() -> Iterator[Any]:
    from resultsdb.api import ResultsDB

    with ResultsDB(state.settings()) as rdb:
        yield rdb


def _machine() -> bool:
    return state.json or state.csv


def _emit_page(page: Any, people: Callable[[Any], dict[str, Any]], title: str) -> None:
    """A page of records: the records and next_cursor for programs, a table for people."""
    if state.json:
        emit({"items": _plain(page.items), "next_cursor": page.next_cursor})
        return
    emit(list(page.items) if state.csv else [people(r) for r in page.items], title=title)
    if page.next_cursor:
        err.print(f"more: --cursor {page.next_cursor}", highlight=False)


def _when(value: Any) -> str:
    return "" if value is None else f"{value:%Y-%m-%d %H:%M:%S}"


def _num(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value


def _run_row(r: Any) -> dict[str, Any]:
    m = r.summary_metrics
    return {"id": r.id, "name": r.name, "type": r.run_type, "status": r.status,
            "started": _when(r.start_time), "ended": _when(r.end_time),
            "sharpe": _num(m.get("sharpe")), "trials": r.trial_count or ""}


@ls_app.command("experiments")
def ls_experiments_cmd(
    status: Annotated[str | None, typer.Option(help="active, completed, failed or archived.")] = None,
    tag: Tags = None, limit: Limit = 50, cursor: Cursor = None,
) -> None:
    """Experiments, oldest first.

    Example: resultsdb ls experiments --status active --tag strategy=ma_crossover
    """
    from resultsdb import browse

    def go() -> None:
        with _results() as rdb:
            page = rdb.experiments(status=status, tags=browse.parse_tags(tag), limit=limit,
                                   cursor=cursor)
        _emit_page(page, lambda e: {"id": e.id, "name": e.name, "status": e.status,
                                    "tags": json.dumps(e.tags), "created": _when(e.created_at)},
                   "experiments")
    run(go)


@ls_app.command("runs")
def ls_runs_cmd(
    experiment: Annotated[str | None, typer.Option(help="Experiment name or id.")] = None,
    status: Annotated[str | None, typer.Option(
        help="scheduled, running, completed, failed or killed.")] = None,
    run_type: Annotated[str | None, typer.Option(help="training, backtest, ...")] = None,
    parent: Annotated[str | None, typer.Option(help="Only child runs of this run id.")] = None,
    tag: Tags = None, limit: Limit = 50, cursor: Cursor = None,
) -> None:
    """Runs, oldest first.

    Example: resultsdb ls runs --experiment "demo: ma-crossover" --run-type backtest --limit 20
    """
    from resultsdb import browse

    def go() -> None:
        with _results() as rdb:
            page = rdb.runs(experiment, status=status, run_type=run_type, parent=parent,
                            tags=browse.parse_tags(tag), limit=limit, cursor=cursor)
        _emit_page(page, _run_row, "runs")
    run(go)


@ls_app.command("models")
def ls_models_cmd(
    experiment: Annotated[str | None, typer.Option(
        help="Only models first produced in this experiment (name or id).")] = None,
    limit: Limit = 50, cursor: Cursor = None,
) -> None:
    """Models with their latest and production versions.

    Example: resultsdb ls models --json
    """
    from resultsdb import browse

    def go() -> None:
        with _results() as rdb:
            page = browse.models(rdb, experiment=experiment, limit=limit, cursor=cursor)
        _emit_page(page, lambda m: {"id": m.id, "name": m.name, "type": m.model_type,
                                    "versions": m.version_count, "latest": m.latest_version,
                                    "production": m.production_version,
                                    "created": _when(m.created_at)}, "models")
    run(go)


@ls_app.command("trials")
def ls_trials_cmd(
    run_id: Annotated[str | None, typer.Option("--run", help="The search run (required).")] = None,
    status: Annotated[str | None, typer.Option(
        help="running, completed, pruned or failed.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, max=10_000, help="At most this many.")] = None,
) -> None:
    """A search run's trials in number order.

    Example: resultsdb ls trials --run 0190f3c2-7c1e-7000-8000-000000000001 --status completed
    """
    from resultsdb import browse

    def go() -> None:
        if run_id is None:
            raise errors.InvalidInput("ls trials: --run is required", field="run")
        with _results() as rdb:
            rows = browse.trials(rdb, run_id, status=status, limit=limit)  # type: ignore[arg-type]
        emit(rows if _machine() else [
            {"number": t.trial_number, "status": t.status, "value": _num(t.objective_value),
             "parameters": json.dumps(t.parameters), "trial_run": t.trial_run_id or "",
             "finished": _when(t.finished_at)} for t in rows], title=f"trials of run {run_id}")
    run(go)


@app.command("show")
def show_cmd(
    ident: Annotated[str, typer.Argument(
        metavar="ID", help="Id of an experiment, run, model or model version; or a name.")],
) -> None:
    """Details of an experiment, run, model or model version, by id or name.

    Example: resultsdb show ma-crossover-synth
    """
    from resultsdb import browse

    def go() -> None:
        with _results() as rdb:
            found = browse.find(rdb, ident)
        if _machine():
            emit({"kind": found.kind, "record": found.record, **found.details})
            return
        emit(found.record.model_dump(), title=found.kind)
        for name, value in found.details.items():
            if isinstance(value, list):
                emit([v.model_dump() for v in value], title=name)
            elif hasattr(value, "model_dump"):
                emit(value.model_dump(), title=name)
            else:
                emit({name: value})
    run(go)


@app.command("leaderboard")
def leaderboard_cmd(
    experiment: Annotated[str, typer.Argument(help="Experiment name or id.")],
    metric: Annotated[str, typer.Option(help="summary_metrics key to rank by.")] = "sharpe",
    lowest: Annotated[bool, typer.Option("--min", help="Lowest first (e.g. max_drawdown).")] = False,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many runs.")] = 10,
) -> None:
    """An experiment's completed runs ranked by a summary metric.

    Example: resultsdb leaderboard "demo: ma-crossover" --metric sharpe --limit 5
    """
    def go() -> None:
        with _results() as rdb:
            rows = rdb.leaderboard(experiment, metric, "min" if lowest else "max", limit)
        emit(rows if _machine() else [
            {"rank": r.rank, "run_id": r.run_id, "name": r.name, metric: _num(r.value),
             **{k: _num(r.summary_metrics.get(k)) for k in ("cagr", "max_drawdown")
                if k != metric and k in r.summary_metrics}} for r in rows],
             title=f"leaderboard: {experiment} by {metric} ({'lowest' if lowest else 'highest'} first)")
    run(go)


@app.command("compare")
def compare_cmd(
    runs: Annotated[list[str], typer.Argument(metavar="RUN...", help="Run ids.")],
) -> None:
    """Runs side by side: summary metrics and configuration parameters.

    Example: resultsdb compare 0190f3c2-...-0001 0190f3c2-...-0002
    """
    def go() -> None:
        with _results() as rdb:
            if _machine():
                emit(rdb.compare_runs(runs))
                return
            frame = rdb.compare_frame(runs)
        labels = [str(n) if n else str(i) for i, n in zip(frame.index, frame["name"], strict=True)]
        if len(set(labels)) != len(labels):
            labels = [str(i) for i in frame.index]
        wide = frame.drop(columns=["name"]).T
        wide.columns = labels
        emit([{"field": f, **{c: _num(v) for c, v in row.items()}} for f, row in wide.iterrows()],
             title=f"{len(labels)} runs")
    run(go)


@app.command("lineage")
def lineage_cmd(
    version: Annotated[str, typer.Argument(metavar="VERSION_ID", help="Model version id.")],
) -> None:
    """Where a model version came from: experiment, run, configurations, data, commit, artifacts.

    Example: resultsdb lineage 0190f3c2-7c1e-7000-8000-000000000001
    """
    def go() -> None:
        with _results() as rdb:
            lin = rdb.lineage(version)
        if _machine():
            emit(lin)
            return
        emit({"model": f"{lin.model.name} ({lin.model.model_type})",
              "version": f"v{lin.version.version} {lin.version.status}",
              "commit": lin.version.commit_hash, "run": f"{lin.run.id} {lin.run.name or ''}",
              "experiment": f"{lin.experiment.name} ({lin.experiment.id})",
              "metrics": json.dumps(lin.version.metrics)}, title=f"lineage of {lin.version.id}")
        emit([{"id": c.id, "name": c.name, "version": c.version,
               "parameters": json.dumps(c.parameters)} for c in lin.configurations],
             title="configurations (root first)")
        emit([{"id": s.id, "source": s.data_source, "from": _when(s.start_date), "to": _when(s.end_date)}
              for s in lin.snapshots], title="data snapshots")
        emit([{"id": a.id, "type": a.artifact_type, "format": a.file_format, "bytes": a.size_bytes,
               "path": a.storage_path} for a in lin.artifacts], title="artifacts")
    run(go)


@app.command("export")
def export_cmd(
    what: Annotated[str, typer.Argument(metavar="{runs,trials,equity,trades}", help="What to export.")],
    out_path: Annotated[Path, typer.Option("--out", help="File to write.")],
    fmt: Annotated[str, typer.Option("--format", help="csv, json or parquet.")] = "csv",
    experiment: Annotated[str | None, typer.Option(help="runs: only this experiment's.")] = None,
    run_id: Annotated[str | None, typer.Option(
        "--run", help="trials, equity, trades: of this run (required for them).")] = None,
) -> None:
    """Write runs, a run's trials, equity curve or trades to CSV, JSON or Parquet.

    Example: resultsdb export trades --run 0190f3c2-7c1e-7000-8000-000000000001 --format json --out t.json
    """
    from resultsdb import export

    def go() -> None:
        with _results() as rdb:
            result = export.export(rdb, what, out_path, fmt, experiment=experiment, run=run_id)
        emit(asdict(result), title="exported")
    run(go)


@app.command("report")
def report_cmd(
    runs: Annotated[list[str], typer.Argument(metavar="RUN...", help="Run ids.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the pages and images.")
                       ] = Path("reports"),
    periods_per_year: Annotated[float, typer.Option(
        help="Return periods per year: 252 for trading days, 8760 for hours.")] = 252,
) -> None:
    """Equity, benchmark and drawdown PNG plus an HTML page per run; a comparison page for several.

    Example: resultsdb report RUN_A RUN_B --out reports/
    """
    from resultsdb import report

    def go() -> None:
        with _results() as rdb:
            result = report.write_reports(rdb, runs, out_dir, periods_per_year=periods_per_year)
        emit([{"page": p} for p in result.pages], title=f"report in {result.out_dir}")
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
