"""Series and statistics on ResultsDB: what a backtest logs, and what is computed from it.

Thin methods over :mod:`resultsdb.series` and :mod:`resultsdb.stats`, so a pipeline
stage needs one object (``db.write_equity(run, frame)``, as ``mlflow.log_metrics``
needs only ``mlflow``). Those modules remain the reference for each behaviour.

The series and the overfitting tests take DataFrames and Arrow tables: they are imported
when first called, and without the ``[series]`` extra the call raises MissingExtra
naming it. ``run_stats`` and ``compute_stats`` run in SQL and need only the core.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from resultsdb.api.base import Base, Ref
from resultsdb.inputs import ref_id
from resultsdb.records import Run
from resultsdb.stats import trading

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from resultsdb.records import RunStats
    from resultsdb.series import WriteResult
    from resultsdb.stats import BacktestOverfitting, DeflatedSharpe


class SeriesAPI(Base):
    def write_equity(self, run: Ref, data: Any, *, model: Ref | None = None,
                     batch_key: str | None = None) -> WriteResult:
        """Store a run's (or its ``model``'s) equity points from a DataFrame, an Arrow
        table, a mapping of arrays or an iterable of tuples: all rows or none, by binary
        COPY. The same ``batch_key`` (default: derived from the content) is never stored
        twice, so a retried call writes nothing. See :func:`resultsdb.series.write_equity`."""
        from resultsdb import series as _series

        return _series.write_equity(self.db, run, model, data, batch_key=batch_key)

    def write_trades(self, run: Ref, data: Any, *, model: Ref | None = None,
                     batch_key: str | None = None) -> WriteResult:
        """Store a run's trades, as :meth:`write_equity` stores points.
        See :func:`resultsdb.series.write_trades`."""
        from resultsdb import series as _series

        return _series.write_trades(self.db, run, model, data, batch_key=batch_key)

    def read_equity(self, run: Ref, *, model: Ref | None = None, start: Any = None,
                    end: Any = None, every: Any = None) -> pd.DataFrame:
        """A curve as a DataFrame in time order; ``every`` (a timedelta) downsamples in
        SQL for plots. See :func:`resultsdb.series.read_equity`."""
        from resultsdb import series as _series

        return _series.read_equity(self.db, run, model, start=start, end=end, every=every)

    def read_equity_arrow(self, run: Ref, *, model: Ref | None = None, start: Any = None,
                          end: Any = None, every: Any = None) -> pa.Table:
        from resultsdb import series as _series

        return _series.read_equity_arrow(self.db, run, model, start=start, end=end, every=every)

    def read_trades(self, run: Ref, *, model: Ref | None = None, start: Any = None,
                    end: Any = None) -> pd.DataFrame:
        """A trade log as a DataFrame in seq order. See :func:`resultsdb.series.read_trades`."""
        from resultsdb import series as _series

        return _series.read_trades(self.db, run, model, start=start, end=end)

    def compare_equity(self, runs: Sequence[Any] | Mapping[str, Any], *,
                       column: Literal["portfolio_value", "benchmark_value",
                                       "drawdown"] = "portfolio_value",
                       start: Any = None, end: Any = None, every: Any = None,
                       fill: Literal["ffill"] | None = None) -> pd.DataFrame:
        """Several curves side by side, one column per run, on the union of their times."""
        from resultsdb import series as _series

        return _series.compare_equity(self.db, runs, column=column, start=start, end=end,
                                      every=every, fill=fill)

    def run_stats(self, run: Ref, *, model: Ref | None = None, periods_per_year: float = 252,
                  risk_free: float = 0.0) -> RunStats:
        """Trading statistics of a run's series, computed in SQL (docs/statistics.md)."""
        return trading.run_stats(self.db, run, model, periods_per_year, risk_free)

    def compute_stats(self, run: Ref, *, model: Ref | None = None, periods_per_year: float = 252,
                      risk_free: float = 0.0) -> RunStats:
        """:meth:`run_stats`, also merged into the run's summary_metrics with the
        definitions' version, in one transaction."""
        return trading.compute_stats(self.db, run, model, periods_per_year, risk_free)

    def deflated_sharpe(self, search_run: Ref, *, periods_per_year: float = 252,
                        risk_free: float = 0.0, n_trials: int | None = None) -> DeflatedSharpe:
        """The Deflated Sharpe Ratio of a search's best trial (Bailey & López de Prado)."""
        from resultsdb.stats import overfitting

        return overfitting.deflated_sharpe(
            self.db, ref_id(search_run, field="search_run", table="runs", kind=Run),
            periods_per_year=periods_per_year, risk_free=risk_free, n_trials=n_trials)

    def pbo(self, search_run: Ref, *, n_blocks: int = 16, periods_per_year: float = 252,
            risk_free: float = 0.0) -> BacktestOverfitting:
        """The Probability of Backtest Overfitting of a search, by CSCV over its trials."""
        from resultsdb.stats import overfitting

        return overfitting.pbo(self.db, ref_id(search_run, field="search_run", table="runs", kind=Run),
                               n_blocks=n_blocks, periods_per_year=periods_per_year,
                               risk_free=risk_free)
