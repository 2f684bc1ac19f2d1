"""Round trips of a trade log and their statistics, computed in SQL (sql/queries/trades.sql)."""

from __future__ import annotations

from uuid import UUID

from resultsdb.records import RoundTrip, TradeStats
from resultsdb.repositories.common import Connection


def round_trips(conn: Connection, run_id: UUID, model_id: UUID | None) -> list[RoundTrip]:
    """The series' legs paired FIFO into round trips, then its open lots; empty without trades."""
    return conn.q.run_round_trips(run_id=run_id, model_id=model_id)


def trade_stats(conn: Connection, run_id: UUID, model_id: UUID | None) -> TradeStats:
    """Statistics of the series' round trips; NotFound when the run does not exist."""
    return conn.q.run_trade_stats(run_id=run_id, model_id=model_id)
