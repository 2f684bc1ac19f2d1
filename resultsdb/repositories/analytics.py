"""Analytics over several tables: leaderboards, comparisons, summaries."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from resultsdb.records import (
    ExperimentSummary,
    LeaderboardRow,
    ModelAttention,
    ModelSummary,
    RunComparison,
    RunStatus,
)
from resultsdb.repositories.common import Connection

Direction = Literal["max", "min"]


def leaderboard(conn: Connection, experiment_id: UUID, metric: str, direction: Direction, *,
                status: RunStatus | None, limit: int) -> list[LeaderboardRow]:
    """An experiment's runs ranked by a summary metric (an index range scan on run_metrics)."""
    ranked = conn.q.leaderboard_desc if direction == "max" else conn.q.leaderboard_asc
    return ranked(experiment_id=experiment_id, metric=metric, status=status, limit=limit)


def compare_runs(conn: Connection, run_ids: list[UUID]) -> list[RunComparison]:
    """Runs side by side, in the order given (ids that are not runs are left out)."""
    return conn.q.compare_runs(run_ids=run_ids)


def experiment_summary(conn: Connection, experiment_id: UUID, metric: str | None,
                       direction: Direction) -> ExperimentSummary:
    """Runs by status, durations, and the best completed run by ``metric``."""
    return conn.q.experiment_summary(experiment_id=experiment_id, metric=metric, direction=direction)


def model_summary(conn: Connection, model_id: UUID) -> ModelSummary:
    """Versions, the one in production, the newest, and the bytes of its artifacts."""
    return conn.q.model_summary(model_id=model_id)


def models_needing_attention(conn: Connection, *, max_age_days: int, metric: str,
                             direction: Direction) -> list[ModelAttention]:
    """Models with no production version, an old one, or a newer version that beats it."""
    return conn.q.models_needing_attention(max_age_days=max_age_days, metric=metric,
                                           direction=direction)


def metric_keys(conn: Connection, experiment_id: UUID) -> list[str]:
    """The summary metrics the experiment's runs have, by name: what a leaderboard ranks by."""
    return [row.key for row in conn.q.metric_keys_of_experiment(experiment_id=experiment_id)]
