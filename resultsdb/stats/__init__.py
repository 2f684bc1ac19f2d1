"""Statistics over stored series: trading statistics of a run, overfitting tests of a search.

Definitions live in docs/statistics.md; the trading statistics are computed in SQL
(sql/queries/stats_trading.sql), the overfitting tests in numpy.
"""

from resultsdb.stats.overfitting import (
    BacktestOverfitting,
    DeflatedSharpe,
    cscv,
    deflate,
    deflated_sharpe,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    pbo,
    probabilistic_sharpe,
)
from resultsdb.stats.trading import STATS_KEYS, compute_stats, run_stats

__all__ = [
    "STATS_KEYS",
    "BacktestOverfitting",
    "DeflatedSharpe",
    "compute_stats",
    "cscv",
    "deflate",
    "deflated_sharpe",
    "deflated_sharpe_ratio",
    "expected_max_sharpe",
    "pbo",
    "probabilistic_sharpe",
    "run_stats",
]
