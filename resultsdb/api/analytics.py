"""Analytics: leaderboards, comparisons, summaries - named queries, records out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from resultsdb.api.base import Base, Ref
from resultsdb.api.configs import flatten
from resultsdb.errors import InvalidInput, NotFound
from resultsdb.fields import Text, shown
from resultsdb.inputs import as_limit, ref_id, validate_value
from resultsdb.records import (
    ExperimentSummary,
    LeaderboardRow,
    ModelAttention,
    ModelSummary,
    Run,
    RunComparison,
    RunStatus,
)
from resultsdb.repositories import analytics as analytics_repo
from resultsdb.repositories import experiments as experiments_repo
from resultsdb.repositories import models as models_repo
from resultsdb.repositories.analytics import Direction

if TYPE_CHECKING:
    import pandas as pd

MAX_AGE_DAYS = 36_500  # beyond a century, now() - age leaves timestamptz's range


def _direction(value: str) -> Direction:
    if not isinstance(value, str):
        raise InvalidInput(f"direction: must be max or min, got {shown(value)}", field="direction")
    if value in ("max", "maximize", "desc"):
        return "max"
    if value in ("min", "minimize", "asc"):
        return "min"
    raise InvalidInput(f"direction: must be max or min, got {value!r}", field="direction")


class AnalyticsAPI(Base):
    def leaderboard(self, experiment: Ref, metric: str, direction: str = "max", limit: int = 10,
                    *, status: RunStatus | None = "completed") -> list[LeaderboardRow]:
        """An experiment's runs ranked by a summary metric (an index range scan, however
        many runs). Only completed runs unless ``status`` says otherwise (None = all)."""
        d = _direction(direction)
        lim = as_limit(limit)
        status = validate_value("status", status, RunStatus | None, table="runs")
        key = validate_value("metric", metric, Text, table="runs")

        def go(conn: Any) -> list[LeaderboardRow]:
            experiment_id = experiments_repo.resolve(conn, experiment)
            rows = analytics_repo.leaderboard(conn, experiment_id, key, d, status=status, limit=lim)
            if not rows:
                experiments_repo.get(conn, experiment_id)  # NotFound for an unknown experiment
            return rows
        return self.db.read(go)

    def compare_runs(self, runs: Sequence[Ref]) -> list[RunComparison]:
        """Runs side by side, in the order given: summary metrics and each configuration's
        latest parameters. NotFound naming the ids that are not runs."""
        if isinstance(runs, str | bytes | Mapping | BaseModel) or not isinstance(runs, Iterable):
            raise InvalidInput(f"runs: must be a list of runs or run ids, not {type(runs).__name__}",
                               field="runs", table="runs")
        ids = [ref_id(r, field="runs", table="runs", kind=Run) for r in runs]
        rows = self.db.read(lambda c: analytics_repo.compare_runs(c, ids))
        missing = sorted(set(ids) - {r.run_id for r in rows})
        if missing:
            raise NotFound(f"runs: no row with id={', '.join(map(str, missing))}", table="runs",
                           key={"id": missing})
        return rows

    def compare_frame(self, runs: Sequence[Ref]) -> pd.DataFrame:
        """compare_runs as a DataFrame, one row per run: metrics as ``metric_<key>``,
        parameters as ``<config name>.<dotted key>``."""
        import pandas as pd

        rows = []
        for r in self.compare_runs(runs):
            row: dict[str, Any] = {"run_id": r.run_id, "name": r.name, "status": r.status}
            row.update({f"metric_{k}": v for k, v in r.summary_metrics.items()})
            for config_name, params in r.parameters.items():
                row.update({f"{config_name}.{k}": v for k, v in flatten(params).items()})
            rows.append(row)
        return pd.DataFrame(rows).set_index("run_id") if rows else pd.DataFrame()

    def experiment_summary(self, experiment: Ref, metric: str | None = None,
                           direction: str = "max") -> ExperimentSummary:
        """Runs by status, durations of ended runs, and the best completed run by ``metric``
        (the leaderboard's first; none when ``metric`` is None)."""
        d = _direction(direction)
        key = validate_value("metric", metric, Text | None, table="runs")
        return self.db.read(lambda c: analytics_repo.experiment_summary(
            c, experiments_repo.resolve(c, experiment), key, d))

    def model_summary(self, model: Ref) -> ModelSummary:
        """Versions, the one in production, the newest, and the bytes of its artifacts."""
        return self.db.read(lambda c: analytics_repo.model_summary(c, models_repo.resolve(c, model)))

    def models_needing_attention(self, *, max_age_days: int = 30, metric: str = "sharpe",
                                 direction: str = "max") -> list[ModelAttention]:
        """Models with no production version, a production version older than
        ``max_age_days``, or a newer version whose ``metric`` beats production's."""
        if (isinstance(max_age_days, bool) or not isinstance(max_age_days, int)
                or not 0 <= max_age_days <= MAX_AGE_DAYS):
            raise InvalidInput(f"max_age_days: must be a whole number from 0 to {MAX_AGE_DAYS}, "
                               f"got {max_age_days!r}", field="max_age_days")
        key = validate_value("metric", metric, Text, table="model_versions")
        d = _direction(direction)
        return self.db.read(lambda c: analytics_repo.models_needing_attention(
            c, max_age_days=max_age_days, metric=key, direction=d))
