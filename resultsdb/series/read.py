"""Reading series: one run's curve or trades as a pandas DataFrame or an Arrow table.

Rows come through ``COPY (query) TO STDOUT (FORMAT BINARY)``. The messages are
appended to one buffer as they arrive and decoded with numpy once at the end: for a
curve every row has the same width (NULLs come out as NaN, which no stored value can
be), so the decoded columns are views of the buffer. Keeping each row's message as a
Python object instead costs several times more than the query.

Time filters are half-open, ``start <= ts < end``. ``every`` downsamples a curve for
plotting in SQL: per ``date_bin(every, ts, origin)`` bucket the first, last, lowest
and highest point (M4), all real points of the curve.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
from pydantic import BaseModel

from resultsdb.connection import Connection
from resultsdb.db import Database
from resultsdb.errors import InvalidInput
from resultsdb.inputs import ref_id
from resultsdb.records import Model, Run
from resultsdb.repositories import models as models_repo
from resultsdb.repositories import runs as runs_repo
from resultsdb.repositories import series as series_repo
from resultsdb.series import copybin
from resultsdb.series.copybin import Kind
from resultsdb.series.copyout import CopyOut

DEFAULT_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)
EQUITY_COLUMNS = ("ts", "portfolio_value", "benchmark_value", "drawdown")
TRADE_COLUMNS = ("seq", "ts", "asset", "action", "price", "quantity", "pnl", "fee", "slippage",
                 "metadata")
_EQUITY_KINDS = (Kind.TIMESTAMPTZ, Kind.FLOAT8, Kind.FLOAT8, Kind.FLOAT8)
_TRADE_KINDS = (Kind.INT8, Kind.TIMESTAMPTZ, Kind.FLOAT8, Kind.FLOAT8, Kind.FLOAT8, Kind.FLOAT8,
                Kind.FLOAT8, Kind.TEXT, Kind.TEXT, Kind.JSONB)
_TS_TYPE = pa.timestamp("us", tz="UTC")


# -- arguments -----------------------------------------------------------------------------


def _ids(run: Any, model: Any, table: str) -> tuple[UUID, UUID | None]:
    run_id = ref_id(run, field="run_id", table=table, kind=Run)
    model_id = None if model is None else ref_id(model, field="model_id", table=table, kind=Model)
    return run_id, model_id


def _exists(conn: Connection, run_id: UUID, model_id: UUID | None) -> None:
    """NotFound unless the run (and model) exist: asked on the read's connection, and only
    after it found no rows, so a series that has rows pays nothing for it."""
    runs_repo.get(conn, run_id)
    if model_id is not None:
        models_repo.get(conn, model_id)


def _instant(value: Any, name: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidInput(f"{name}: must be a timezone-aware datetime, got {value!r}", field=name)
    return value


def _every(value: Any) -> timedelta:
    if isinstance(value, pd.Timedelta):
        value = value.to_pytimedelta()
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise InvalidInput(f"every: must be a positive timedelta (date_bin takes no months), "
                           f"got {value!r}", field="every")
    return value


# -- equity curves -------------------------------------------------------------------------


def _equity_arrays(db: Database, run: Any, model: Any, start: Any, end: Any, every: Any,
                   origin: Any) -> list[np.ndarray]:
    run_id, model_id = _ids(run, model, "equity_curves")
    start_at, end_at = _instant(start, "start"), _instant(end, "end")
    if every is None:
        def copy(conn: Connection) -> AbstractContextManager[psycopg.Copy]:
            return series_repo.copy_equity_out(conn, run_id, model_id, start_at, end_at)
    else:
        step, since = _every(every), _instant(origin, "origin") or DEFAULT_ORIGIN

        def copy(conn: Connection) -> AbstractContextManager[psycopg.Copy]:
            return series_repo.copy_equity_out_downsampled(conn, run_id, model_id, start_at,
                                                           end_at, step, since)

    def go(conn: Connection) -> bytearray:
        with copy(conn) as out:
            buffer = CopyOut(out, conn).collect()
        if len(buffer) == len(copybin.HEADER) + len(copybin.TRAILER):  # no rows
            _exists(conn, run_id, model_id)
        return buffer

    buffer = db.read(go)
    ts, *values = copybin.decode_fixed(buffer, _EQUITY_KINDS)
    return [(ts.astype(np.int64) + copybin.PG_EPOCH_US).view("datetime64[us]"),
            *(v.astype(np.float64) for v in values)]


def read_equity(db: Database, run: Any, model: Any = None, *, start: Any = None, end: Any = None,
                every: Any = None, origin: Any = None) -> pd.DataFrame:
    """A curve as a DataFrame (ts [UTC, microseconds], portfolio_value, benchmark_value,
    drawdown) in time order; a missing benchmark_value or drawdown is NaN.

    Example: ``read_equity(db, run.id, every=timedelta(hours=1))`` for a plot.
    """
    ts, *values = _equity_arrays(db, run, model, start, end, every, origin)
    frame = pd.DataFrame(dict(zip(EQUITY_COLUMNS[1:], values, strict=True)), copy=False)
    frame.insert(0, "ts", pd.DatetimeIndex(ts).tz_localize("UTC"))
    return frame


def read_equity_arrow(db: Database, run: Any, model: Any = None, *, start: Any = None,
                      end: Any = None, every: Any = None, origin: Any = None) -> pa.Table:
    """A curve as an Arrow table; a missing benchmark_value or drawdown is null."""
    ts, *values = _equity_arrays(db, run, model, start, end, every, origin)
    arrays = [pa.array(ts.view(np.int64), pa.int64()).view(_TS_TYPE)]
    arrays += [pa.array(v, pa.float64(), from_pandas=True) for v in values]  # NaN -> null
    return pa.table(arrays, names=list(EQUITY_COLUMNS))


def compare_equity(db: Database, runs: Sequence[Any] | Mapping[str, Any], *,
                   column: Literal["portfolio_value", "benchmark_value", "drawdown"] = "portfolio_value",
                   start: Any = None, end: Any = None, every: Any = None,
                   fill: Literal["ffill"] | None = None) -> pd.DataFrame:
    """Several curves side by side: one column per run, indexed by ts (the union of times).

    ``runs`` is a list of runs (or ``(run, model)`` pairs), named by their run id, or a
    mapping of name to run (or pair). A run with no point at a ts has NaN there, unless
    ``fill="ffill"`` carries its last value forward.
    """
    if column not in EQUITY_COLUMNS[1:]:
        raise InvalidInput(f"column: must be one of {', '.join(EQUITY_COLUMNS[1:])}", field="column")
    if fill is not None and fill != "ffill":
        raise InvalidInput(f"fill: must be None or ffill, got {fill!r}", field="fill")
    if isinstance(runs, str | bytes | BaseModel) or not isinstance(runs, Mapping | Sequence):
        raise InvalidInput(f"runs: must be a list of runs or a mapping of names to runs, not "
                           f"{type(runs).__name__}", field="runs")
    named = dict(runs) if isinstance(runs, Mapping) else {_name(r): r for r in runs}
    if not isinstance(runs, Mapping) and len(named) != len(runs):
        raise InvalidInput("runs: the same run is listed twice (name them with a mapping)", field="runs")
    series = []
    for name, spec in named.items():
        run, model = _pair(spec)
        ts, *values = _equity_arrays(db, run, model, start, end, every, None)
        index = pd.DatetimeIndex(ts, name="ts").tz_localize("UTC")
        series.append(pd.Series(values[EQUITY_COLUMNS.index(column) - 1], index=index, name=name))
    if not series:
        return pd.DataFrame(index=pd.DatetimeIndex([], name="ts", tz="UTC"))
    wide = pd.concat(series, axis=1, join="outer").sort_index()
    return wide.ffill() if fill == "ffill" else wide


def _pair(spec: Any) -> tuple[Any, Any]:
    if not isinstance(spec, tuple):
        return spec, None
    if len(spec) != 2:
        raise InvalidInput(f"runs: a pair is (run, model), not a tuple of {len(spec)}", field="runs")
    return spec[0], spec[1]


def _name(spec: Any) -> str:
    """A column name for a run (its id) or a (run, model) pair (run id/model id)."""
    run, model = _pair(spec)
    if isinstance(spec, tuple):
        return f"{getattr(run, 'id', run)}/{getattr(model, 'id', model)}"
    return str(getattr(run, "id", run))


# -- trade logs ----------------------------------------------------------------------------


def _trade_columns(db: Database, run: Any, model: Any, start: Any, end: Any) -> list[copybin.Column]:
    run_id, model_id = _ids(run, model, "trade_logs")
    start_at, end_at = _instant(start, "start"), _instant(end, "end")

    def go(conn: Connection) -> tuple[bytearray, np.ndarray, np.ndarray]:
        with series_repo.copy_trades_out(conn, run_id, model_id, start_at, end_at) as copy:
            rows = CopyOut(copy, conn).collect_rows()
        if not len(rows[1]):
            _exists(conn, run_id, model_id)
        return rows

    buffer, starts, ends = db.read(go)
    return copybin.decode_variable(buffer, starts, ends, _TRADE_KINDS)


def _trade_arrays(columns: list[copybin.Column]) -> dict[str, Any]:
    seq, ts, price, quantity, pnl, fee, slippage, asset, action, metadata = columns
    stamps = (ts.values.astype(np.int64) + copybin.PG_EPOCH_US).view("datetime64[us]")  # type: ignore[union-attr]
    return {"seq": seq.values.astype(np.int64), "ts": stamps,  # type: ignore[union-attr]
            "asset": asset, "action": action,
            "price": price.values.astype(np.float64), "quantity": quantity.values.astype(np.float64),  # type: ignore[union-attr]
            "pnl": pnl.values.astype(np.float64), "fee": fee.values.astype(np.float64),  # type: ignore[union-attr]
            "slippage": slippage.values.astype(np.float64), "metadata": metadata}  # type: ignore[union-attr]


def read_trades_arrow(db: Database, run: Any, model: Any = None, *, start: Any = None,
                      end: Any = None) -> pa.Table:
    """A trade log as an Arrow table in seq order; metadata is JSON text, a missing pnl, fee
    or slippage null."""
    a = _trade_arrays(_trade_columns(db, run, model, start, end))
    arrays = [pa.array(a["seq"]), pa.array(a["ts"].view(np.int64)).view(_TS_TYPE),
              a["asset"].values.to_arrow(), a["action"].values.to_arrow(),
              pa.array(a["price"]), pa.array(a["quantity"]), pa.array(a["pnl"], from_pandas=True),
              pa.array(a["fee"], from_pandas=True), pa.array(a["slippage"], from_pandas=True),
              a["metadata"].values.to_arrow(a["metadata"].nulls)]
    return pa.table(arrays, names=list(TRADE_COLUMNS))


def read_trades(db: Database, run: Any, model: Any = None, *, start: Any = None,
                end: Any = None) -> pd.DataFrame:
    """A trade log as a DataFrame in seq order; metadata as dicts (None when missing), a
    missing pnl, fee or slippage as NaN."""
    table = read_trades_arrow(db, run, model, start=start, end=end)
    frame = table.drop_columns(["metadata"]).to_pandas()
    frame["metadata"] = [None if m is None else json.loads(m) for m in table.column("metadata").to_pylist()]
    return frame
