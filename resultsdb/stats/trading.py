"""Trading statistics of a run's equity curve and trade log, computed in SQL.

The query ``run_trading_stats`` (sql/queries/stats_trading.sql) does the work with
window functions, so a million-point curve never leaves the server. Every
statistic is defined in docs/statistics.md, with where and why it differs from
quantstats. :func:`compute_stats` stores them into ``runs.summary_metrics`` with
the definitions' version beside them.
"""

from __future__ import annotations

import math

from resultsdb.db import Database
from resultsdb.errors import InvalidInput
from resultsdb.fields import FiniteFloat, shown
from resultsdb.inputs import ref_id, validate_value
from resultsdb.records import Model, Record, Run, RunStats
from resultsdb.repositories import models
from resultsdb.repositories import stats as stats_repo
from resultsdb.repositories.common import Connection, IdLike

# The statistics compute_stats stores, under these keys of summary_metrics. Counts of
# points and periods describe the input, not the strategy, and are not stored.
STATS_KEYS: tuple[str, ...] = (
    "total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown",
    "max_drawdown_days", "longest_drawdown_days", "calmar", "exposure", "period_win_rate",
    "trade_count", "win_rate", "profit_factor", "avg_win", "avg_loss",
)
# Stored beside them: a Sharpe ratio means nothing without the version of its
# definition, the periods per year and the risk-free rate it was computed with.
VERSION_KEY = "stats_version"
PERIODS_KEY = "stats_periods_per_year"
RISK_FREE_KEY = "stats_risk_free"


def _number(value: object, field: str) -> float:
    """``value`` as a float when it is a finite number (not a numeric string), else NaN."""
    try:
        return float(validate_value(field, value, FiniteFloat))
    except InvalidInput:
        return math.nan


def _checked(periods_per_year: float, risk_free: float) -> tuple[float, float]:
    """The parameters as floats; InvalidInput before SQL would fail on them less clearly."""
    ppy = _number(periods_per_year, "periods_per_year")
    if not ppy > 0:
        raise InvalidInput(f"periods_per_year: must be a finite number > 0, got "
                           f"{shown(periods_per_year)}", field="periods_per_year")
    rf = _number(risk_free, "risk_free")
    # (1 + rf) ** (1 / ppy) has no real value for rf <= -1.
    if not rf > -1:
        raise InvalidInput(f"risk_free: must be a finite annual rate > -1, got {shown(risk_free)}",
                           field="risk_free")
    return ppy, rf


def stats_on(conn: Connection, run: IdLike | Record, model: IdLike | Record | None = None, *,
             periods_per_year: float = 252, risk_free: float = 0.0) -> RunStats:
    """:func:`run_stats` on a connection you hold (e.g. inside a transaction)."""
    ppy, rf = _checked(periods_per_year, risk_free)
    run_id = ref_id(run, field="run_id", table="runs", kind=Run)
    model_id = (None if model is None
                else ref_id(model, field="model_id", table="equity_curves", kind=Model))
    stats = stats_repo.run_trading_stats(conn, run_id, model_id, periods_per_year=ppy,
                                         risk_free=rf)
    if model_id is not None and stats.points == 0:  # no series: is there such a model?
        models.get(conn, model_id)
    return stats


def run_stats(db: Database, run: IdLike | Record, model: IdLike | Record | None = None,
              periods_per_year: float = 252, risk_free: float = 0.0) -> RunStats:
    """The trading statistics of ``run``'s series for ``model`` (None: the run's own series).

    ``periods_per_year`` annualizes volatility, Sharpe and Sortino (sqrt scaling) and
    converts the annual ``risk_free`` rate to one period as (1 + rf) ** (1 / ppy) - 1.
    Undefined statistics are None (docs/statistics.md lists when). NotFound when
    the run does not exist; a run without series gives counts of 0 and None elsewhere.
    """
    return db.read(lambda conn: stats_on(conn, run, model, periods_per_year=periods_per_year,
                                         risk_free=risk_free))


def summary_patch(stats: RunStats) -> tuple[dict[str, float | int], list[str]]:
    """What compute_stats writes: (keys to merge, keys to remove because now undefined)."""
    values = {key: getattr(stats, key) for key in STATS_KEYS}
    patch: dict[str, float | int] = {k: v for k, v in values.items() if v is not None}
    patch[VERSION_KEY] = stats.stats_version
    patch[PERIODS_KEY] = stats.periods_per_year
    patch[RISK_FREE_KEY] = stats.risk_free
    # A statistic that was defined last time and is not now must not linger beside
    # the new version's numbers.
    drop = sorted(k for k, v in values.items() if v is None)
    return patch, drop


def compute_stats(db: Database, run: IdLike | Record, model: IdLike | Record | None = None,
                  periods_per_year: float = 252, risk_free: float = 0.0) -> RunStats:
    """Compute :func:`run_stats` and store them into the run's ``summary_metrics``.

    One transaction: the statistics are merged over the existing keys
    (``summary_metrics - undefined || defined``) in one statement, so concurrent
    writers of other keys lose nothing. Undefined (None) statistics are removed
    rather than stored: summary_metrics holds numbers only. ``stats_version``,
    ``stats_periods_per_year`` and ``stats_risk_free`` are stored beside them.
    Returns the statistics.
    """
    def store(conn: Connection) -> RunStats:
        stats = stats_on(conn, run, model, periods_per_year=periods_per_year,
                         risk_free=risk_free)
        patch, drop = summary_patch(stats)
        stats_repo.store_trading_stats(conn, stats.run_id, patch, drop)
        return stats

    return db.write(store)
