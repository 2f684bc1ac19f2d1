"""Round trips on ResultsDB: a trade log's legs paired FIFO, and the statistics of them.

Computed in SQL (sql/queries/trades.sql over the schema's trade_round_trips()), so they
need only the core install. docs/statistics.md ("Round trips") defines every number.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from resultsdb.api.base import Base, Ref
from resultsdb.inputs import ref_id
from resultsdb.records import Model, RoundTrip, Run, TradeStats
from resultsdb.repositories import models as models_repo
from resultsdb.repositories import runs as runs_repo
from resultsdb.repositories import trades as trades_repo


def _ids(run: Ref, model: Ref | None) -> tuple[UUID, UUID | None]:
    run_id = ref_id(run, field="run_id", table="trade_logs", kind=Run)
    model_id = None if model is None else ref_id(model, field="model_id", table="trade_logs",
                                                 kind=Model)
    return run_id, model_id


class TradesAPI(Base):
    def round_trips(self, run: Ref, *, model: Ref | None = None) -> list[RoundTrip]:
        """A run's (or its ``model``'s) trade log paired FIFO into round trips per asset and
        side: closed ones in exit order, then lots still open (``status="open"``); a close
        that found nothing open is a row of its own (``status="unmatched"``). NotFound for
        an unknown run or model; empty for a log without trades."""
        run_id, model_id = _ids(run, model)

        def go(conn: Any) -> list[RoundTrip]:
            rows = trades_repo.round_trips(conn, run_id, model_id)
            if not rows:  # nothing: is there such a run (and model)?
                runs_repo.get(conn, run_id)
                if model_id is not None:
                    models_repo.get(conn, model_id)
            return rows
        return self.db.read(go)

    def trade_stats(self, run: Ref, *, model: Ref | None = None) -> TradeStats:
        """Statistics of a run's round trips: count, win rate, expectancy, holding times,
        streaks, best and worst, pnl gross and net of fees and slippage, and turnover.
        Undefined ones are None. NotFound for an unknown run or model."""
        run_id, model_id = _ids(run, model)

        def go(conn: Any) -> TradeStats:
            stats = trades_repo.trade_stats(conn, run_id, model_id)
            if model_id is not None and stats.round_trips == 0 and stats.traded_notional == 0:
                models_repo.get(conn, model_id)
            return stats
        return self.db.read(go)
