"""Statistics over stored series: trading statistics of a run, overfitting tests of a search.

Definitions live in docs/statistics.md; the trading statistics are computed in SQL
(sql/queries/stats_trading.sql) and need only the core install; the overfitting tests
in numpy (the ``[series]`` extra), imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from resultsdb.stats.trading import STATS_KEYS, compute_stats, run_stats

if TYPE_CHECKING:
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

_OVERFITTING = frozenset((
    "BacktestOverfitting", "DeflatedSharpe", "cscv", "deflate", "deflated_sharpe",
    "deflated_sharpe_ratio", "expected_max_sharpe", "pbo", "probabilistic_sharpe"))


def __getattr__(name: str) -> Any:
    """The overfitting tests (numpy: the ``[series]`` extra), imported on first use."""
    if name in _OVERFITTING:
        from resultsdb.stats import overfitting

        return getattr(overfitting, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

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
