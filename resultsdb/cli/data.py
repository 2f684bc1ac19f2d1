"""Commands that write or compute data: seed, demo, partitions, archive, statistics."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from resultsdb.cli._app import Yes, app, confirm, emit, optional_id, progress, ref_id, run, state

# -- data ----------------------------------------------------------------------------


@app.command("seed")
def seed_cmd() -> None:
    """Insert a small realistic dataset (running it twice inserts nothing more).

    \b
    Example:
      resultsdb seed
    """
    from resultsdb import migrate, seed

    def go() -> None:
        with state.database() as db:
            migrate.migrate(db)
            summary = seed.seed(db)
            emit(summary.as_dict(), title="seed")
    run(go)


@app.command("demo")
def demo_cmd() -> None:
    """A seeded search on synthetic data, end to end; a rerun shows it again, writing nothing.

    \b
    Example:
      resultsdb demo
    """
    from resultsdb import demo

    run(lambda: demo.main(state.settings(), emit=emit))


@app.command("partitions")
def partitions_cmd() -> None:
    """List the series partitions with run-id bounds, row estimates and sizes.

    \b
    Example:
      resultsdb partitions --json
    """
    from resultsdb.repositories import catalog

    def go() -> None:
        with state.database() as db:
            emit(db.read(catalog.series_partitions), title="partitions")
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
    yes: Yes = False,
) -> None:
    """Write whole series partitions to Parquet, verify rows and checksum, then drop them.

    A month that has not ended yet (--before later than the 1st of this month) still takes
    runs: archiving it asks first, unless --yes.

    \b
    Example:
      resultsdb archive --before 2025-01-01 --to s3://results-archive/series
    """
    from resultsdb.series import partitions

    def go() -> None:
        moment = partitions.parse_before(before)
        with state.database() as db:
            planned = partitions.archivable(db, moment)
            if dry_run:
                emit(planned, title="would archive")
                return
            this_month = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0,
                                                   microsecond=0)
            open_months = [p.name for p in planned if p.month >= this_month]
            if open_months:
                confirm(f"archive would take {', '.join(open_months)}: the current month or "
                        "later, whose runs may still write series (their rows would go to the "
                        "DEFAULT partition).", yes=yes)
            url = to or partitions.default_archive_url(state.settings())
            with progress("archiving partitions") as bar:
                done = partitions.archive(db, moment, url, progress=bar)
            emit(done, title=f"archived to {url}", columns=_ARCHIVE_COLUMNS)
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

    \b
    Example:
      resultsdb restore --from s3://results-archive/series --partition equity_curves_p202401
    """
    from resultsdb.series import partitions

    def go() -> None:
        url = source or partitions.default_archive_url(state.settings())
        if dry_run:
            emit(partitions.manifests(url), title=f"archived at {url}", columns=_ARCHIVE_COLUMNS)
            return
        with state.database() as db, progress("restoring partitions") as bar:
            done = partitions.restore(db, url, names=partition, progress=bar)
        emit(done, title=f"restored from {url}", columns=_ARCHIVE_COLUMNS)
    run(go)


# -- statistics ----------------------------------------------------------------------


@app.command("stats-run")
def stats_run_cmd(
    run_ref: Annotated[str, typer.Argument(
        metavar="RUN", help="Run: id, unique id prefix or experiment/run-name.")],
    model: Annotated[str | None, typer.Option(
        help="Model of the series: name, id or id prefix (default: the run's own series, "
        "not tied to a model).")] = None,
    periods_per_year: Annotated[float, typer.Option(
        help="Return periods per year: 252 for trading days, 8760 for hours.")] = 252,
    risk_free: Annotated[float, typer.Option(help="Annual risk-free rate, e.g. 0.04.")] = 0.0,
    store: Annotated[bool, typer.Option(
        "--store", help="Also store them into the run's summary_metrics.")] = False,
) -> None:
    """Trading statistics of a run's equity curve and trade log (docs/statistics.md).

    \b
    Example:
      resultsdb stats-run "seed-momentum/backtest 2024-01" --risk-free 0.04
    """
    from resultsdb.stats import trading

    def go() -> None:
        with state.database() as db:
            compute = trading.compute_stats if store else trading.run_stats
            stats = compute(db, ref_id(db, run_ref, "run"), optional_id(db, model, "model"),
                            periods_per_year, risk_free)
            emit(stats, title=f"run {stats.run_id}{' (stored)' if store else ''}")
    run(go)


@app.command("overfitting")
def overfitting_cmd(
    search_run: Annotated[str, typer.Argument(
        metavar="SEARCH_RUN", help="Search run: id, unique id prefix or experiment/run-name.")],
    blocks: Annotated[int, typer.Option(help="CSCV blocks (even): C(blocks, blocks/2) splits.")
                      ] = 16,
    periods_per_year: Annotated[float, typer.Option(
        help="Return periods per year, to annualize and convert --risk-free.")] = 252,
    risk_free: Annotated[float, typer.Option(help="Annual risk-free rate, e.g. 0.04.")] = 0.0,
    trials: Annotated[int | None, typer.Option(
        min=1, help="Trials tried, when more than the child runs with curves.")] = None,
) -> None:
    """How much of a search's best Sharpe ratio is luck: Deflated Sharpe Ratio and PBO.

    \b
    Example:
      resultsdb overfitting $(resultsdb ls runs --experiment "demo: ma-crossover" \\
          --run-type hyperparameter_tuning --csv | tail -1 | cut -d, -f1) --blocks 16
    """
    from resultsdb.stats import overfitting

    def go() -> None:
        with state.database() as db:
            search = ref_id(db, search_run, "run")
            dsr = overfitting.deflated_sharpe(db, search, periods_per_year=periods_per_year,
                                              risk_free=risk_free, n_trials=trials)
            cv = overfitting.pbo(db, search, n_blocks=blocks,
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
