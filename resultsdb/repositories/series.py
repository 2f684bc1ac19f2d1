"""Series of a run: equity curve points and trade logs (simple batches; no ids, no update).

These tables have no id column, so there is no get/update/delete by id: a
run's series are written in batches and read whole, and go when the run is
deleted. Bulk ingest (COPY, dataframes) is separate work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from psycopg.types.json import Jsonb
from pydantic import BaseModel

from resultsdb.inputs import EquityPointIn, TradeIn, as_id, validate
from resultsdb.records import EquityPoint, Trade
from resultsdb.repositories._base import Connection, IdLike, queries


def _batch(model: type[BaseModel], rows: Iterable[BaseModel | Mapping[str, Any]], *,
           table: str, argument: str) -> Jsonb:
    out: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        # Errors name the row: "equity_curves.points[3].drawdown: ...".
        checked = validate(model, row, table=table, at=(argument, i))
        # Unset optional keys are left out so they load as SQL NULL, not JSON null.
        out.append(checked.model_dump(mode="json", exclude_none=True))
    return Jsonb(out)


def insert_points(conn: Connection, run_id: IdLike,
                  points: Iterable[EquityPointIn | Mapping[str, Any]], *,
                  model_id: IdLike | None = None) -> int:
    """Add points (ts, portfolio_value, benchmark_value, drawdown) to a run's equity curve.

    One statement: the whole batch is stored or none of it. Returns the number stored.
    AlreadyExists when a timestamp is already in that curve.
    """
    run = as_id(run_id, field="run_id", table="equity_curves")
    model = None if model_id is None else as_id(model_id, field="model_id", table="equity_curves")
    batch = _batch(EquityPointIn, points, table="equity_curves", argument="points")
    return queries().rowcount(conn, "insert_equity_points", run_id=run, model_id=model,
                              points=batch)


def points(conn: Connection, run_id: IdLike, *, model_id: IdLike | None = None) -> list[EquityPoint]:
    """A run's equity curve for ``model_id`` (None: the points not tied to a model), by time."""
    run = as_id(run_id, field="run_id", table="equity_curves")
    model = None if model_id is None else as_id(model_id, field="model_id", table="equity_curves")
    return cast(list[EquityPoint], queries().many(conn, "equity_points_of_run", run_id=run,
                                                  model_id=model))


def insert_trades(conn: Connection, run_id: IdLike, trades: Iterable[TradeIn | Mapping[str, Any]],
                  *, model_id: IdLike | None = None) -> int:
    """Add trades (seq, ts, asset, action, price, quantity, pnl, metadata) to a run's log.

    One statement, all or nothing; returns the number stored.
    """
    run = as_id(run_id, field="run_id", table="trade_logs")
    model = None if model_id is None else as_id(model_id, field="model_id", table="trade_logs")
    batch = _batch(TradeIn, trades, table="trade_logs", argument="trades")
    return queries().rowcount(conn, "insert_trades", run_id=run, model_id=model, trades=batch)


def trades(conn: Connection, run_id: IdLike, *, model_id: IdLike | None = None) -> list[Trade]:
    """A run's trade log for ``model_id`` (None: trades not tied to a model), by seq."""
    run = as_id(run_id, field="run_id", table="trade_logs")
    model = None if model_id is None else as_id(model_id, field="model_id", table="trade_logs")
    return cast(list[Trade], queries().many(conn, "trades_of_run", run_id=run, model_id=model))
