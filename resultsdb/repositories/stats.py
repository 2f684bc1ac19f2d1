"""Statistics computed in SQL: a run's trading statistics, a search's trial returns."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from resultsdb.records import Run, RunStats, TrialReturn
from resultsdb.repositories.common import Connection


def run_trading_stats(conn: Connection, run_id: UUID, model_id: UUID | None, *,
                      periods_per_year: float, risk_free: float) -> RunStats:
    """One run's statistics from its equity curve and trade log; NotFound for no such run."""
    return conn.q.run_trading_stats(run_id=run_id, model_id=model_id,
                                    periods_per_year=periods_per_year, risk_free=risk_free)


def store_trading_stats(conn: Connection, run_id: UUID, patch: Mapping[str, float | int],
                        drop: list[str]) -> Run:
    """Merge ``patch`` into the run's summary_metrics and remove the ``drop`` keys, in one
    statement (concurrent merges of other keys lose nothing)."""
    return conn.q.store_run_trading_stats(run_id=run_id, patch=dict(patch), drop=drop)


def search_trial_returns(conn: Connection, search_run_id: UUID) -> list[TrialReturn]:
    """Per-period returns of every trial curve of a search, on the timestamps all share."""
    return conn.q.search_trial_returns(search_run_id=search_run_id)
