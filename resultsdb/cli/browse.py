"""Browsing commands: ls, show, leaderboard, compare, lineage, export, report."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from resultsdb import errors
from resultsdb.cli._app import Group, _plain, app, emit, err, optional_id, progress, ref_id, run, state

# -- browsing: ls, show, leaderboard, compare, lineage, export, report ---------------


ls_app = typer.Typer(help="List experiments, runs, models or trials.", no_args_is_help=True,
                     cls=Group, rich_markup_mode=None)
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


def _run_row(r: Any, metrics: list[str] | tuple[str, ...] = ("sharpe",)) -> dict[str, Any]:
    m = r.summary_metrics
    return {"id": r.id, "name": r.name, "type": r.run_type, "status": r.status,
            "started": _when(r.start_time), "ended": _when(r.end_time),
            **{k: m.get(k) for k in metrics}, "trials": r.trial_count or ""}


@ls_app.command("experiments")
def ls_experiments_cmd(
    status: Annotated[str | None, typer.Option(help="active, completed, failed or archived.")] = None,
    tag: Tags = None, limit: Limit = 50, cursor: Cursor = None,
) -> None:
    """Experiments, oldest first.

    \b
    Example:
      resultsdb ls experiments --status active --tag strategy=ma_crossover --json
    """
    from resultsdb import browse

    def go() -> None:
        with _results() as rdb:
            page = rdb.experiments(status=status, tags=browse.parse_tags(tag), limit=limit,
                                   cursor=cursor)
        _emit_page(page, lambda e: {"id": e.id, "name": e.name, "status": e.status,
                                    "tags": e.tags, "created": _when(e.created_at)},
                   "experiments")
    run(go)


@ls_app.command("runs")
def ls_runs_cmd(
    experiment: Annotated[list[str] | None, typer.Option(
        help="Experiment: name, id or unique id prefix (repeatable with --where).")] = None,
    where: Annotated[str | None, typer.Option(
        help="A filter over every experiment: metrics.NAME, params.PATH, tags.NAME and "
             "attributes, e.g. \"metrics.sharpe > 1.5 and params.fast = 10\".")] = None,
    order_by: Annotated[list[str] | None, typer.Option(
        "--order-by", help="KEY [asc|desc], repeatable (with --where or alone): "
                           "metrics.NAME or an attribute.")] = None,
    status: Annotated[str | None, typer.Option(
        help="scheduled, running, completed, failed or killed.")] = None,
    run_type: Annotated[str | None, typer.Option(help="training, backtest, ...")] = None,
    parent: Annotated[str | None, typer.Option(
        help="Only child runs of this run: id, unique id prefix or experiment/run-name.")] = None,
    tag: Tags = None, limit: Limit = 50, cursor: Cursor = None,
) -> None:
    """Runs, oldest first; with --where or --order-by, a search across experiments.

    \b
    Example:
      resultsdb ls runs --experiment seed-momentum --run-type backtest --limit 20
      resultsdb ls runs --where "metrics.sharpe > 1" --order-by "metrics.sharpe desc"
    """
    from resultsdb import browse

    def go() -> None:
        searching = where is not None or bool(order_by)
        with _results() as rdb:
            if searching:
                mixed = [name for name, value in (("--status", status), ("--run-type", run_type),
                                                  ("--parent", parent), ("--tag", tag)) if value]
                if mixed:
                    raise errors.InvalidInput(
                        f"ls runs: {', '.join(mixed)} cannot be combined with --where or "
                        "--order-by; say it in the filter (status = 'completed', run_type = "
                        "'backtest', parent = '<id>', tags.asset = 'btc')", field="where")
                scope = ([optional_id(rdb.db, e, "experiment") for e in experiment]
                         if experiment else None)
                page = rdb.search_runs(where, experiments=scope, order_by=order_by or None,
                                       limit=limit, cursor=cursor)
            else:
                if experiment and len(experiment) > 1:
                    raise errors.InvalidInput("ls runs: give --experiment once, or use --where",
                                              field="experiment")
                page = rdb.runs(optional_id(rdb.db, experiment[0] if experiment else None,
                                            "experiment"),
                                status=status, run_type=run_type,
                                parent=optional_id(rdb.db, parent, "run"),
                                tags=browse.parse_tags(tag), limit=limit, cursor=cursor)
        metrics = _metric_columns(where, order_by) if searching else ["sharpe"]
        _emit_page(page, lambda r: _run_row(r, metrics), "runs")
    run(go)


def _metric_columns(where: str | None, order_by: list[str] | None) -> list[str]:
    """The metrics a search names (its order first), for the table's columns: up to 5."""
    from resultsdb.search.filter import keys, parse, parse_order

    named = [parse_order(o).key for o in order_by or ()] + keys(parse(where or ""))
    out: list[str] = []
    for key in named:
        if key.kind == "metric" and key.name not in out:
            out.append(key.name)
    return out[:5] or ["sharpe"]


@ls_app.command("models")
def ls_models_cmd(
    experiment: Annotated[str | None, typer.Option(
        help="Only models first produced in this experiment (name, id or id prefix).")] = None,
    limit: Limit = 50, cursor: Cursor = None,
) -> None:
    """Models with their latest and production versions.

    \b
    Example:
      resultsdb ls models --json
    """
    from resultsdb import browse

    def go() -> None:
        with _results() as rdb:
            page = browse.models(rdb, experiment=optional_id(rdb.db, experiment, "experiment"),
                                 limit=limit, cursor=cursor)
        _emit_page(page, lambda m: {"id": m.id, "name": m.name, "type": m.model_type,
                                    "versions": m.version_count, "latest": m.latest_version,
                                    "production": m.production_version,
                                    "created": _when(m.created_at)}, "models")
    run(go)


@ls_app.command("trials")
def ls_trials_cmd(
    run_ref: Annotated[str | None, typer.Option(
        "--run", help="The search run (required): id, id prefix or experiment/run-name.")] = None,
    status: Annotated[str | None, typer.Option(
        help="running, completed, pruned or failed.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, max=10_000, help="At most this many.")] = None,
) -> None:
    """A search run's trials in number order.

    \b
    Example:
      resultsdb ls trials --run "seed-momentum/search lr/gamma" --status completed
    """
    from resultsdb import browse

    def go() -> None:
        if run_ref is None:
            raise errors.InvalidInput("ls trials: --run is required", field="run")
        with _results() as rdb:
            run_id = ref_id(rdb.db, run_ref, "run")
            rows = browse.trials(rdb, run_id, status=status, limit=limit)  # type: ignore[arg-type]
        emit(rows if _machine() else [
            {"number": t.trial_number, "status": t.status, "value": t.objective_value,
             "parameters": t.parameters, "trial_run": t.trial_run_id or "",
             "finished": _when(t.finished_at)} for t in rows], title=f"trials of run {run_id}")
    run(go)


@app.command("show")
def show_cmd(
    ident: Annotated[str, typer.Argument(
        metavar="REF", help="An id, a unique id prefix, or a name: experiment, model, "
        "experiment/run-name, model@production, model:3.")],
) -> None:
    """Details of an experiment, run, model or model version, by id or name.

    \b
    Example:
      resultsdb show seed-momentum-dqn@production
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
    experiment: Annotated[str, typer.Argument(help="Experiment: name, id or unique id prefix.")],
    metric: Annotated[str, typer.Option(help="summary_metrics key to rank by.")] = "sharpe",
    lowest: Annotated[bool, typer.Option("--min", help="Lowest first (e.g. max_drawdown).")] = False,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many runs.")] = 10,
) -> None:
    """An experiment's completed runs ranked by a summary metric.

    \b
    Example:
      resultsdb leaderboard "demo: ma-crossover" --metric sharpe --limit 5
    """
    from resultsdb import browse

    def go() -> None:
        with _results() as rdb:
            rows = browse.leaderboard(rdb, ref_id(rdb.db, experiment, "experiment"), metric,
                                      "min" if lowest else "max", limit)
        emit(rows if _machine() else [
            {"rank": r.rank, "run_id": r.run_id, "name": r.name, metric: r.value,
             **{k: r.summary_metrics.get(k) for k in ("cagr", "max_drawdown")
                if k != metric and k in r.summary_metrics}} for r in rows],
             title=f"leaderboard: {experiment} by {metric} ({'lowest' if lowest else 'highest'} first)")
    run(go)


@app.command("compare")
def compare_cmd(
    runs: Annotated[list[str], typer.Argument(
        metavar="RUN", help="Runs: ids, unique id prefixes or experiment/run-name.")],
) -> None:
    """Runs side by side: summary metrics and configuration parameters.

    \b
    Example:
      resultsdb compare "seed-momentum/train dqn v3" "seed-momentum/backtest 2024-01"
    """
    def go() -> None:
        with _results() as rdb:
            ids = [ref_id(rdb.db, r, "run") for r in runs]
            if _machine():
                emit(rdb.compare_runs(ids))
                return
            frame = rdb.compare_frame(ids)
        labels = [str(n) if n else str(i) for i, n in zip(frame.index, frame["name"], strict=True)]
        if len(set(labels)) != len(labels):
            labels = [str(i) for i in frame.index]
        wide = frame.drop(columns=["name"]).T
        wide.columns = labels
        emit([{"field": f, **dict(row.items())} for f, row in wide.iterrows()],
             title=f"{len(labels)} runs")
    run(go)


@app.command("lineage")
def lineage_cmd(
    version: Annotated[str, typer.Argument(
        metavar="VERSION", help="Model version: id, id prefix, model@production, model:3, or a "
        "model (its production version, else its latest).")],
) -> None:
    """Where a model version came from: experiment, run, configurations, data, commit, artifacts.

    \b
    Example:
      resultsdb lineage seed-momentum-dqn
    """
    def go() -> None:
        with _results() as rdb:
            lin = rdb.lineage(ref_id(rdb.db, version, "version"))
        if _machine():
            emit(lin)
            return
        emit({"model": f"{lin.model.name} ({lin.model.model_type})",
              "version": f"v{lin.version.version} {lin.version.status}",
              "commit": lin.version.commit_hash, "run": f"{lin.run.id} {lin.run.name or ''}",
              "experiment": f"{lin.experiment.name} ({lin.experiment.id})",
              "metrics": lin.version.metrics}, title=f"lineage of {lin.version.id}")
        emit([{"id": c.id, "name": c.name, "version": c.version,
               "parameters": c.parameters} for c in lin.configurations],
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
    experiment: Annotated[str | None, typer.Option(
        help="runs: only this experiment's (name, id or id prefix).")] = None,
    run_ref: Annotated[str | None, typer.Option(
        "--run", help="trials, equity, trades: of this run (required for them): id, id prefix "
        "or experiment/run-name.")] = None,
) -> None:
    """Write runs, a run's trials, equity curve or trades to CSV, JSON or Parquet.

    \b
    Example:
      resultsdb export equity --run "seed-momentum/backtest 2024-01" --format json --out e.json
    """
    from resultsdb import export

    def go() -> None:
        with _results() as rdb, progress(f"exporting {what}") as bar:
            result = export.export(
                rdb, what, out_path, fmt,
                experiment=optional_id(rdb.db, experiment, "experiment"),
                run=optional_id(rdb.db, run_ref, "run"), progress=bar)
        emit(asdict(result), title="exported")
    run(go)


@app.command("report")
def report_cmd(
    runs: Annotated[list[str], typer.Argument(
        metavar="RUN", help="Runs: ids, unique id prefixes or experiment/run-name.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the pages and images.")
                       ] = Path("reports"),
    periods_per_year: Annotated[float, typer.Option(
        help="Return periods per year: 252 for trading days, 8760 for hours.")] = 252,
) -> None:
    """Equity, benchmark and drawdown PNG plus an HTML page per run; a comparison page for several.

    \b
    Example:
      resultsdb report "seed-momentum/backtest 2024-01" --out reports/
    """
    from resultsdb import report

    def go() -> None:
        with _results() as rdb, progress("writing reports") as bar:
            result = report.write_reports(rdb, [ref_id(rdb.db, r, "run") for r in runs], out_dir,
                                          periods_per_year=periods_per_year, progress=bar)
        emit([{"page": p} for p in result.pages], title=f"report in {result.out_dir}")
    run(go)
