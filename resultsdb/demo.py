"""``make demo``: a realistic search on synthetic data, end to end, in well under a minute.

A seeded geometric Brownian motion with bull/bear/sideways regimes stands in for a
price series. A moving-average crossover strategy is searched over 60 parameter
pairs; every trial is a child run with its equity curve and trades (written at COPY
speed), SQL-computed statistics, and a trial row. The best trial's model is saved
and promoted to production, its configuration derived from the search's base one
(``resultsdb lineage`` shows the chain); the leaderboard, the Deflated Sharpe Ratio
and the Probability of Backtest Overfitting of the search are printed.

A rerun is idempotent. The data and the parameter draws are seeded, so a second
search would only repeat the first, row for row, on the leaderboard: the completed
search (found by its name) is shown again and nothing is written. A search that did
not complete (Ctrl-C, an error: ``db.run`` marks it killed or failed) is deleted with
its child runs before the next attempt, so its finished backtests do not linger on
the leaderboard beside the new ones.
"""

from __future__ import annotations

from resultsdb.extras import require

require("series", "the demo")
require("report", "the demo")
require("cli", "the demo")

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from rich.progress import Progress

from resultsdb import migrate, report, series
from resultsdb.api import ResultsDB
from resultsdb.config import Settings
from resultsdb.connection import Connection
from resultsdb.errors import NotFound
from resultsdb.records import Configuration, Experiment, ModelVersion, Run, Trial
from resultsdb.repositories import configurations, runs
from resultsdb.stats import overfitting, trading

SEED = 7
BARS = 2_000  # business days, ~8 years
TRIALS = 60
EXPERIMENT = "demo: ma-crossover"
MODEL = "ma-crossover-synth"
STRATEGY = {"cost": 0.0005, "asset": "SYNTH"}


def search_name(trials: int = TRIALS) -> str:
    """The demo search's name: what a rerun looks for."""
    return f"search: {trials} ma pairs, seed {SEED}"


def synthetic_prices(seed: int = SEED, bars: int = BARS) -> pd.Series:
    """Daily closes from a GBM whose drift and volatility switch between regimes."""
    rng = np.random.default_rng(seed)
    regimes = np.array([(0.25, 0.15), (-0.20, 0.35), (0.02, 0.10)])  # (annual drift, vol)
    state = np.zeros(bars, dtype=int)
    for i in range(1, bars):  # a regime lasts ~120 days on average
        state[i] = rng.integers(0, 3) if rng.random() < 1 / 120 else state[i - 1]
    mu, sigma = regimes[state, 0] / 252, regimes[state, 1] / np.sqrt(252)
    log_returns = (mu - sigma**2 / 2) + sigma * rng.standard_normal(bars)
    index = pd.bdate_range("2016-01-04", periods=bars, tz="UTC")
    return pd.Series(100 * np.exp(np.cumsum(log_returns)), index=index, name="close")


def backtest(prices: pd.Series, fast: int, slow: int, cost: float = 0.0005,
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Long when the fast average is above the slow one; (equity curve, trades)."""
    close = prices.to_numpy()
    signal = (prices.rolling(fast).mean() > prices.rolling(slow).mean()).to_numpy(dtype=float)
    position = np.concatenate([[0.0], signal[:-1]])  # trade on the next bar: no look-ahead
    changes = np.abs(np.diff(np.concatenate([[0.0], position])))
    returns = np.concatenate([[0.0], close[1:] / close[:-1] - 1]) * position - changes * cost
    equity = 10_000 * np.cumprod(1 + returns)
    curve = pd.DataFrame({"ts": prices.index, "portfolio_value": equity,
                          "benchmark_value": 10_000 * close / close[0]})
    at = np.flatnonzero(changes)
    side = np.where(position[at] > 0, "buy", "sell")
    quantity = equity[at - 1].clip(min=1) / close[at]
    entry = pd.Series(np.where(side == "buy", close[at], np.nan)).ffill().to_numpy()
    pnl = np.where(side == "sell", (close[at] - entry) * quantity, 0.0)
    trades = pd.DataFrame({"ts": prices.index[at], "asset": "SYNTH", "action": side,
                           "price": close[at], "quantity": quantity, "pnl": np.nan_to_num(pnl)})
    return curve, trades


def write_demo_reports(db: ResultsDB, search: Run, settings: Settings, trials: int = TRIALS,
                       ) -> report.ReportResult:
    """Pages for this search's three best backtests by Sharpe (the best first) and their
    comparison, in <data_dir>/reports."""
    children = db.runs(parent=search, status="completed", limit=trials).items
    ranked = sorted(children, key=lambda r: r.summary_metrics.get("sharpe", float("-inf")),
                    reverse=True)[:3]
    return report.write_reports(db, [r.id for r in ranked], settings.data_dir / "reports")


def run_search(db: ResultsDB, exp: Experiment, prices: pd.Series, trials: int = TRIALS) -> Run:
    """The search: one child backtest run and one trial per parameter pair.

    Inside ``db.run``: an exception or Ctrl-C ends it failed or killed, never running.
    """
    rng = np.random.default_rng(SEED)
    with db.run(exp, search_name(trials), run_type="hyperparameter_tuning") as search:
        _snapshot(db, search, prices)
        base = db.save_config(search, "ma_crossover", "strategy", STRATEGY)
        with Progress(transient=True) as progress:
            task = progress.add_task("backtesting trials", total=trials)
            for _ in range(trials):
                fast = int(rng.integers(3, 40))
                slow = int(rng.integers(fast + 5, 200))
                _trial(db, exp, search, base, fast, slow, prices)
                progress.advance(task)
    return db.get_run(search)


def _snapshot(db: ResultsDB, run: Run, prices: pd.Series) -> None:
    features = hashlib.sha256(prices.to_numpy().tobytes()).hexdigest()
    db.register_snapshot(run, "synthetic:gbm-regimes:1d", prices.index[0].to_pydatetime(),
                         prices.index[-1].to_pydatetime(), features)


def _trial(db: ResultsDB, exp: Experiment, search: Run, base: Configuration, fast: int,
           slow: int, prices: pd.Series) -> None:
    params = {"fast": fast, "slow": slow}
    with db.run(exp, f"ma {fast}/{slow}", run_type="backtest", parent=search) as child:
        trial = db.start_trial(search, params, trial_run=child)
        try:
            # The model saved from the best child names this configuration; with its parent
            # and the child's snapshot, `resultsdb lineage` shows where the model came from.
            db.save_config(child, "ma_crossover", "strategy", {**STRATEGY, **params}, parent=base)
            _snapshot(db, child, prices)
            curve, trades = backtest(prices, fast, slow)
            series.write_equity(db.db, child, None, curve)
            series.write_trades(db.db, child, None, trades)
            stats = trading.compute_stats(db.db, child.id)
        except BaseException:
            db.fail_trial(trial)
            raise
    sharpe = stats.sharpe if stats.sharpe is not None else 0.0
    db.finish_trial(trial, sharpe, {"cagr": stats.cagr or 0.0,
                                    "max_drawdown": stats.max_drawdown or 0.0})


def _demo_searches(db: ResultsDB, exp: Experiment, trials: int) -> list[Run]:
    return [r for r in db.runs(exp, run_type="hyperparameter_tuning", limit=1000).items
            if r.name == search_name(trials)]


def _discard(db: ResultsDB, unfinished: list[Run]) -> None:
    """Delete searches that did not complete, with their child runs, trials and series."""
    def delete(conn: Connection) -> None:
        for search in unfinished:
            runs.delete(conn, search.id)
    db.db.write(delete)


def production_model(db: ResultsDB, search: Run, best: Trial) -> ModelVersion:
    """The version saved from the best trial, in production: saved and promoted the first
    time, found again on a rerun. Its configuration is the best trial's, whose parent is
    the search's base configuration."""
    run_id = best.trial_run_id or search.id
    try:
        version = next(v for v in db.list_versions(MODEL) if v.run_id == run_id)
    except (NotFound, StopIteration):
        config = next(c for c in db.db.read(lambda c: configurations.by_run(c, run_id))
                      if c.name == "ma_crossover")
        weights = json.dumps({"strategy": "ma_crossover", **best.parameters}).encode()
        version = db.save_model(run_id, weights, "ma_crossover", config, name=MODEL,
                                file_format="json",
                                metrics={"sharpe": best.objective_value or 0.0},
                                description=f"best of {search.name}").version
    if version.status != "production":
        version = db.promote(version, "production", reason=f"best Sharpe of {search.name}",
                             actor="make demo")
    return version


def main(settings: Settings, emit: Callable[..., None], *, trials: int | None = None) -> dict[str, Any]:
    started = time.perf_counter()
    trials = trials or TRIALS
    prices = synthetic_prices()
    with ResultsDB(settings) as db:
        migrate.migrate(db.db)
        exp = db.start_experiment(EXPERIMENT, "Moving-average crossover on synthetic GBM with regimes",
                                  tags={"strategy": "ma_crossover", "data": "synthetic"}, exist_ok=True)
        found = _demo_searches(db, exp, trials)
        search = next((r for r in found if r.status == "completed"), None)
        reused = search is not None
        if search is None:
            _discard(db, found)
            search = run_search(db, exp, prices, trials)
        best = db.best_trial(search)
        version = production_model(db, search, best)
        board = db.leaderboard(exp, "sharpe", limit=10)
        dsr = overfitting.deflated_sharpe(db.db, search.id)
        pbo = overfitting.pbo(db.db, search.id)
        reports = write_demo_reports(db, search, settings, trials)
        elapsed = time.perf_counter() - started
        emit([{"rank": r.rank, "run": r.name, "sharpe": round(r.value, 3),
               "cagr": round(r.summary_metrics.get("cagr", float("nan")), 4),
               "max_drawdown": round(r.summary_metrics.get("max_drawdown", float("nan")), 4)}
              for r in board], title=f"leaderboard: {EXPERIMENT}")
        summary = {
            "database": db.db.masked_url,
            "search": (f"{search.name} (stored {search.created_at:%Y-%m-%d %H:%M}; "
                       "shown again, nothing written)" if reused else search.name),
            "search run": str(search.id),
            "trials": trials,
            "best trial": f"#{best.trial_number} {best.parameters} sharpe={best.objective_value:.3f}",
            "production model": f"{MODEL} v{version.version} ({version.id})",
            "deflated sharpe (best trial)": round(dsr.dsr, 4),
            "PBO (probability of backtest overfitting)": round(pbo.pbo, 3),
            "report (best run; top 3 compared)": str(reports.out_dir),
            "elapsed_s": round(elapsed, 1),
            "next": f"resultsdb lineage {version.id}  |  make psql  ->  \\d+ equity_curves",
        }
        emit([{"page": str(p)} for p in reports.pages],
             title="report: the best run, the next two, and their comparison")
        emit(summary, title="resultsdb demo")
        return summary
