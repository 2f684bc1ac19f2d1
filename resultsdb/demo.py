"""``make demo``: a realistic search on synthetic data, end to end, in well under a minute.

A seeded geometric Brownian motion with bull/bear/sideways regimes stands in for a
price series. A moving-average crossover strategy is searched over 60 parameter
pairs; every trial is a child run with its equity curve and trades (written at COPY
speed), SQL-computed statistics, and a trial row. The best trial's model is saved
and promoted to production; the leaderboard, the Deflated Sharpe Ratio and the
Probability of Backtest Overfitting of the search are printed. Re-running adds
another search to the same experiment.
"""

from __future__ import annotations

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
from resultsdb.stats import overfitting, trading

SEED = 7
BARS = 2_000  # business days, ~8 years
TRIALS = 60
EXPERIMENT = "demo: ma-crossover"


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


def write_demo_reports(db: ResultsDB, search: Any, settings: Settings) -> report.ReportResult:
    """Pages for this search's three best backtests by Sharpe (the best first) and their
    comparison, in <data_dir>/reports."""
    children = db.runs(parent=search, status="completed", limit=TRIALS).items
    ranked = sorted(children, key=lambda r: r.summary_metrics.get("sharpe", float("-inf")),
                    reverse=True)[:3]
    return report.write_reports(db, [r.id for r in ranked], settings.data_dir / "reports")


def main(settings: Settings, emit: Callable[..., None]) -> dict[str, Any]:
    started = time.perf_counter()
    rng = np.random.default_rng(SEED)
    prices = synthetic_prices()
    points = 0
    with ResultsDB(settings) as db:
        migrate.migrate(db.db)
        exp = db.start_experiment(EXPERIMENT, "Moving-average crossover on synthetic GBM with regimes",
                                  tags={"strategy": "ma_crossover", "data": "synthetic"}, exist_ok=True)
        search = db.start_run(exp, f"search {time.strftime('%Y-%m-%d %H:%M:%S')}",
                              run_type="hyperparameter_tuning")
        features = hashlib.sha256(prices.to_numpy().tobytes()).hexdigest()
        db.register_snapshot(search, "synthetic:gbm-regimes:1d", prices.index[0].to_pydatetime(),
                             prices.index[-1].to_pydatetime(), features)
        base = db.save_config(search, "ma_crossover", "strategy", {"cost": 0.0005, "asset": "SYNTH"})
        with Progress(transient=True) as progress:
            task = progress.add_task("backtesting trials", total=TRIALS)
            for _ in range(TRIALS):
                fast = int(rng.integers(3, 40))
                slow = int(rng.integers(fast + 5, 200))
                params = {"fast": fast, "slow": slow}
                with db.run(exp, f"ma {fast}/{slow}", run_type="backtest", parent=search) as child:
                    trial = db.start_trial(search, params, trial_run=child)
                    db.save_config(child, "ma_crossover", "strategy",
                                   {"cost": 0.0005, "asset": "SYNTH", **params}, parent=base)
                    curve, trades = backtest(prices, fast, slow)
                    series.write_equity(db.db, child, None, curve)
                    series.write_trades(db.db, child, None, trades)
                    points += len(curve)
                    stats = trading.compute_stats(db.db, child.id)
                sharpe = stats.sharpe if stats.sharpe is not None else 0.0
                db.finish_trial(trial, sharpe, {"cagr": stats.cagr or 0.0,
                                                "max_drawdown": stats.max_drawdown or 0.0})
                progress.advance(task)
        db.end_run(search)
        best = db.best_trial(search)
        weights = json.dumps({"strategy": "ma_crossover", **best.parameters}).encode()
        saved = db.save_model(best.trial_run_id or search, weights, "ma_crossover",
                              name="ma-crossover-synth", file_format="json",
                              metrics={"sharpe": best.objective_value or 0.0},
                              description=f"best of {search.name}")
        db.promote(saved.version, "production", reason=f"best Sharpe of {TRIALS} trials",
                   actor="make demo")
        board = db.leaderboard(exp, "sharpe", limit=10)
        dsr = overfitting.deflated_sharpe(db.db, search.id)
        pbo = overfitting.pbo(db.db, search.id)
        reports = write_demo_reports(db, search, settings)
        elapsed = time.perf_counter() - started
        emit([{"rank": r.rank, "run": r.name, "sharpe": round(r.value, 3),
               "cagr": round(r.summary_metrics.get("cagr", float("nan")), 4),
               "max_drawdown": round(r.summary_metrics.get("max_drawdown", float("nan")), 4)}
              for r in board], title=f"leaderboard: {EXPERIMENT} (all searches so far)")
        summary = {
            "database": db.db.masked_url,
            "trials": TRIALS, "equity points written": points,
            "best trial": f"#{best.trial_number} {best.parameters} sharpe={best.objective_value:.3f}",
            "production model": f"{saved.model.name} v{saved.version.version}",
            "deflated sharpe (best trial)": round(dsr.dsr, 4),
            "PBO (probability of backtest overfitting)": round(pbo.pbo, 3),
            "report (best run; top 3 compared)": str(reports.out_dir),
            "elapsed_s": round(elapsed, 1),
            "next": "make psql  ->  \\d+ equity_curves ; select * from status_transitions",
        }
        emit([{"page": str(p)} for p in reports.pages],
             title="report: the best run, the next two, and their comparison")
        emit(summary, title="resultsdb demo")
        return summary
