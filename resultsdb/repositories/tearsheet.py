"""The curve part of a tear sheet, computed in SQL (sql/queries/tearsheet.sql).

Each function is one named query over one series (run_id, model_id); the definitions
are in docs/statistics.md, "Tear sheet".
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from resultsdb.records import (
    DrawdownEpisode,
    PeriodReturn,
    RollingPoint,
    TearSheetBenchmark,
    TearSheetDistribution,
)
from resultsdb.repositories.common import Connection


def benchmark(conn: Connection, run_id: UUID, model_id: UUID | None, *,
              periods_per_year: float, risk_free: float) -> TearSheetBenchmark:
    """Statistics against the series' benchmark_value; NotFound for no such run."""
    return conn.q.tearsheet_benchmark(run_id=run_id, model_id=model_id,
                                      periods_per_year=periods_per_year, risk_free=risk_free)


def distribution(conn: Connection, run_id: UUID, model_id: UUID | None, *,
                 periods_per_year: float, omega_threshold: float) -> TearSheetDistribution:
    """Shape, tails and calendar extremes of the periodic returns; NotFound for no such run."""
    return conn.q.tearsheet_distribution(run_id=run_id, model_id=model_id,
                                         periods_per_year=periods_per_year,
                                         omega_threshold=omega_threshold)


def monthly_returns(conn: Connection, run_id: UUID, model_id: UUID | None) -> list[PeriodReturn]:
    """Compounded UTC calendar-month returns, strategy and benchmark, oldest first."""
    return conn.q.tearsheet_monthly_returns(run_id=run_id, model_id=model_id)


def annual_returns(conn: Connection, run_id: UUID, model_id: UUID | None) -> list[PeriodReturn]:
    """Compounded UTC calendar-year returns, strategy and benchmark, oldest first."""
    return conn.q.tearsheet_annual_returns(run_id=run_id, model_id=model_id)


def drawdowns(conn: Connection, run_id: UUID, model_id: UUID | None, *,
              top: int) -> list[DrawdownEpisode]:
    """The ``top`` deepest drawdown episodes, deepest first."""
    return conn.q.tearsheet_drawdowns(run_id=run_id, model_id=model_id, top=top)


def rolling(conn: Connection, run_id: UUID, model_id: UUID | None, *, window: int | timedelta,
            points: int, periods_per_year: float, risk_free: float) -> list[RollingPoint]:
    """Rolling Sharpe, volatility and beta over ``window`` returns (an int) or a time span
    (a timedelta), at most ``points`` rows."""
    if isinstance(window, timedelta):
        return conn.q.tearsheet_rolling_interval(
            run_id=run_id, model_id=model_id, window=window, points=points,
            periods_per_year=periods_per_year, risk_free=risk_free)
    return conn.q.tearsheet_rolling_rows(
        run_id=run_id, model_id=model_id, window=window, points=points,
        periods_per_year=periods_per_year, risk_free=risk_free)
