"""The tear sheet of a 1,000,000-point equity curve (``db.tear_sheet``, computed in SQL),
beside two baselines measured in the same run: reading the same curve into a DataFrame
(``read_equity``), and that read plus quantstats computing the statistics it shares with
the sheet (greeks, R², information ratio, skew, kurtosis, tail ratio, CVaR, Omega,
monthly returns, drawdown details, rolling Sharpe and volatility) in pandas.

The target is 2 s for the whole sheet (docs/statistics.md, "Tear sheet", "Cost").
``RESULTSDB_BENCH_SHEET_ROWS`` changes the curve's size.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from benchmarks._harness import BENCH_QUERIES, Bench, Result, missing_packages
from resultsdb import ResultsDB, series

ROWS = int(os.environ.get("RESULTSDB_BENCH_SHEET_ROWS", "1000000"))
REPEAT = 2  # best of: each sheet takes seconds
TARGET_S = 2.0
PPY = 252 * 288  # 5-minute bars
Q = BENCH_QUERIES


def curve(n: int) -> pd.DataFrame:
    """A 5-minute random walk with a correlated benchmark (the tests' million-point curve)."""
    rng = np.random.default_rng(0)
    rb = rng.normal(0.00002, 0.002, n - 1)
    r = 0.7 * rb + rng.normal(0.00001, 0.001, n - 1)
    return pd.DataFrame({
        "ts": pd.date_range("2020-01-01", periods=n, freq="5min", tz="UTC"),
        "portfolio_value": 100 * np.cumprod(np.concatenate([[1.0], 1 + r])),
        "benchmark_value": 50 * np.cumprod(np.concatenate([[1.0], 1 + rb]))})


def best(fn: Callable[[], object], repeat: int = REPEAT) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def quantstats_sheet(qs: Any, frame: pd.DataFrame) -> None:
    """The statistics the SQL sheet shares with quantstats, from a read_equity frame."""
    idx = pd.DatetimeIndex(frame["ts"]).tz_localize(None)
    r = pd.Series(frame["portfolio_value"].to_numpy(), index=idx).pct_change().dropna()
    rb = pd.Series(frame["benchmark_value"].to_numpy(), index=idx).pct_change().dropna()
    qs.stats.greeks(r, rb, periods=PPY)
    qs.stats.r_squared(r, rb)
    qs.stats.information_ratio(r, rb)
    qs.stats.skew(r)
    qs.stats.kurtosis(r)
    qs.stats.tail_ratio(r)
    qs.stats.cvar(r, method="historical")
    qs.stats.omega(r)
    qs.stats.monthly_returns(r)
    qs.stats.drawdown_details(qs.stats.to_drawdown_series(r))
    qs.stats.rolling_sharpe(r, rolling_period=288 * 21, periods_per_year=PPY)
    qs.stats.rolling_volatility(r, rolling_period=288 * 21, periods_per_year=PPY)


def run(bench: Bench) -> list[Result]:
    group = f"Tear sheet of a {ROWS:,}-point curve"
    frame = curve(ROWS)
    with bench.database() as db, bench.connect() as conn, \
            ResultsDB(url=bench.conninfo) as rdb:
        experiment = Q.run(conn, "series_bench_experiment",
                           name=f"sheet-bench-{uuid.uuid4().hex[:8]}")
        run_id = Q.run(conn, "series_bench_run", experiment_id=experiment)
        series.write_equity(db, run_id, None, frame)
        Q.run(conn, "series_bench_analyze")
        print(f"   {ROWS:,} points stored", flush=True)
        read = best(lambda: series.read_equity(db, run_id))
        rows = best(lambda: rdb.tear_sheet(run_id, periods_per_year=PPY,
                                           rolling_window=288 * 21, top_drawdowns=10))
        span = best(lambda: rdb.tear_sheet(run_id, periods_per_year=PPY,
                                           rolling_window=timedelta(days=21), top_drawdowns=10))
        absent = missing_packages("quantstats")
        qs_time = None
        if not absent:
            import quantstats as qs

            qs_time = best(lambda: quantstats_sheet(qs, series.read_equity(db, run_id)))
        Q.run(conn, "series_bench_truncate")
    qs_note = ("quantstats not installed" if absent
               else "read_equity, then quantstats on the DataFrame")
    base = ("read_equity -> DataFrame (baseline)", read)

    def target(seconds: float) -> str:
        return f"target <= {TARGET_S:g} s: {'met' if seconds <= TARGET_S else 'MISSED'}"

    out = [Result(group, "read_equity -> DataFrame (baseline)", read, "s",
                  higher_is_better=False),
           Result(group, "quantstats: read_equity + the shared statistics in pandas", qs_time,
                  "s", *base, higher_is_better=False, note=qs_note),
           Result(group, "db.tear_sheet, rolling window of 6,048 rows", rows, "s", *base,
                  higher_is_better=False, note=target(rows)),
           Result(group, "db.tear_sheet, rolling window of 21 days", span, "s", *base,
                  higher_is_better=False, note=target(span))]
    if qs_time:
        out += [Result(group, "db.tear_sheet (rows) against quantstats", rows, "s",
                       "quantstats", qs_time, higher_is_better=False)]
    return out
