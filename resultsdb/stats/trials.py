"""The trials of a hyperparameter search as one matrix of returns, aligned in time."""

from __future__ import annotations

from resultsdb.extras import require

require("series", "resultsdb.stats.trials")

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import numpy as np
import numpy.typing as npt

from resultsdb.errors import InvalidInput
from resultsdb.inputs import as_id
from resultsdb.repositories import runs
from resultsdb.repositories import stats as stats_repo
from resultsdb.repositories.common import Connection, IdLike


@dataclass(frozen=True)
class TrialMatrix:
    """Per-period returns, T x N: row t is the period ending at ``ends[t]``, column j the
    curve ``keys[j]`` = (run_id, model_id)."""

    search_run_id: UUID
    keys: list[tuple[UUID, UUID | None]]
    ends: list[datetime]
    returns: npt.NDArray[np.float64]


def load_trials(conn: Connection, search_run: IdLike) -> TrialMatrix:
    """The aligned returns of every trial curve of ``search_run`` (query search_trial_returns).

    NotFound when the search run does not exist; InvalidInput when it has fewer than
    two trial curves, fewer than two shared timestamps, or a curve that touches zero.
    """
    search_id = as_id(search_run, field="search_run_id", table="runs")
    runs.get(conn, search_id)  # NotFound names the run rather than "no trials"
    rows = stats_repo.search_trial_returns(conn, search_id)
    keys: list[tuple[UUID, UUID | None]] = []
    for row in rows:
        if not keys or keys[-1] != (row.run_id, row.model_id):
            keys.append((row.run_id, row.model_id))
    if len(keys) < 2:
        raise InvalidInput(
            f"runs.id={search_id}: {len(keys)} trial curve(s) with shared timestamps; "
            "overfitting tests need completed child runs with equity curves, at least two",
            field="search_run_id", table="runs")
    bad = next((r for r in rows if r.ret is None), None)
    if bad is not None:
        raise InvalidInput(
            f"equity_curves: trial run {bad.run_id} has a portfolio_value <= 0 before {bad.ts}; "
            "returns are undefined", field="portfolio_value", table="equity_curves")
    # The query keeps only timestamps every curve has, so each curve has the same rows.
    periods = len(rows) // len(keys)
    matrix = np.fromiter((r.ret for r in rows), dtype=np.float64, count=len(rows))
    return TrialMatrix(search_run_id=search_id, keys=keys,
                       ends=[r.ts for r in rows[:periods]],
                       returns=matrix.reshape(len(keys), periods).T.copy())
