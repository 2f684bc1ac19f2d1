"""Tear sheets side by side as pandas DataFrames (the ``series`` extra): the statistics
one row per run, the monthly returns a year x month table per run, the annual returns a
year x run table. Imported by ``TearSheets.frames`` only, so the core never loads pandas."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from resultsdb.extras import require

require("series", "TearSheets.frames")

import pandas as pd  # noqa: E402

if TYPE_CHECKING:
    from resultsdb.api.tearsheet import TearSheet

# The distribution record repeats these; the statistics row takes them from the benchmark.
_SHARED = {"run_id", "model_id", "periods_per_year", "points", "periods"}


@dataclass(frozen=True)
class TearSheetFrames:
    """``statistics``: one row per run (index run_id), every number of the benchmark and
    distribution records. ``monthly_returns``: strategy returns, index (run_id, year),
    columns the months 1-12 (NaN where a month has no return). ``annual_returns``:
    strategy returns, index year, one column per run_id. ``benchmark_monthly_returns``:
    as ``monthly_returns``, for the benchmark."""

    statistics: pd.DataFrame
    monthly_returns: pd.DataFrame
    benchmark_monthly_returns: pd.DataFrame
    annual_returns: pd.DataFrame


def _monthly(sheets: Sequence[TearSheet], column: str) -> pd.DataFrame:
    rows = [{"run_id": s.benchmark.run_id, "year": p.year, "month": p.month,
             "value": getattr(p, column)} for s in sheets for p in s.monthly_returns]
    frame = pd.DataFrame(rows, columns=["run_id", "year", "month", "value"])
    table = frame.pivot_table(index=["run_id", "year"], columns="month", values="value",
                              aggfunc="first", dropna=False)
    return table.reindex(columns=range(1, 13)).rename_axis(columns="month")


def frames(sheets: Sequence[TearSheet]) -> TearSheetFrames:
    """``sheets`` as DataFrames, runs in the order given."""
    stats = [{**s.benchmark.model_dump(),
              **{k: v for k, v in s.distribution.model_dump().items() if k not in _SHARED}}
             for s in sheets]
    statistics = pd.DataFrame(stats).set_index("run_id")
    annual = pd.DataFrame(
        {str(s.benchmark.run_id): pd.Series({p.year: p.strategy_return for p in s.annual_returns},
                                            dtype="float64")
         for s in sheets})
    annual = annual.sort_index().rename_axis(index="year", columns="run_id")
    return TearSheetFrames(statistics=statistics,
                           monthly_returns=_monthly(sheets, "strategy_return"),
                           benchmark_monthly_returns=_monthly(sheets, "benchmark_return"),
                           annual_returns=annual)
