"""Factories for the statistics tests: runs with equity curves and trade logs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import numpy as np
import numpy.typing as npt
import pytest

from resultsdb.db import Database
from resultsdb.records import Experiment, Run
from resultsdb.repositories import experiments, runs, trials
from resultsdb.series import write_equity, write_trades

T0 = datetime(2024, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)

MakeRun = Callable[..., Run]


@pytest.fixture
def experiment(db: Database) -> Experiment:
    return db.write(lambda c: experiments.create(c, {"name": "stats-exp"}))


@pytest.fixture
def make_run(db: Database, experiment: Experiment) -> MakeRun:
    def make(**fields: Any) -> Run:
        data = {"experiment_id": experiment.id, **fields}
        return db.write(lambda c: runs.create(c, data))
    return make


def daily(n: int, start: datetime = T0, step: timedelta = DAY) -> list[datetime]:
    return [start + i * step for i in range(n)]


def write_curve(db: Database, run_id: UUID, values: Sequence[float],
                ts: Sequence[datetime] | None = None, *, model_id: UUID | None = None) -> None:
    stamps = list(ts) if ts is not None else daily(len(values))
    points = [(t, float(v)) for t, v in zip(stamps, values, strict=True)]
    if points:
        write_equity(db, run_id, model_id, points)


def write_pnls(db: Database, run_id: UUID, pnls: Sequence[float | None], *,
               model_id: UUID | None = None) -> None:
    trades = [{"seq": i, "ts": T0 + i * DAY, "asset": "BTC-USD",
               "action": "sell" if i % 2 else "buy", "price": 100.0, "quantity": 1.0,
               **({} if p is None else {"pnl": float(p)})}
              for i, p in enumerate(pnls)]
    if trades:
        write_trades(db, run_id, model_id, trades)


def noise_and_edge(seed: int, t: int = 1000, n: int = 20
                   ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, 0.01, (t, n))
    edge = noise.copy()
    edge[:, 3] += 0.003  # one trial earns 0.3% a period more: per-period SR ~0.3
    return noise, edge


def make_search(db: Database, make_run: MakeRun, m: npt.NDArray[np.float64]
                ) -> tuple[Run, list[Run]]:
    """A search run whose completed child runs hold the columns of m as equity curves;
    every other child is linked through hyperparameter_results.trial_run_id only."""
    search = make_run(run_type="search")
    children = []
    stamps = daily(m.shape[0] + 1)
    for j in range(m.shape[1]):
        by_parent = j % 2 == 0
        child = make_run(status="completed", parent_run_id=search.id if by_parent else None)
        if not by_parent:
            db.write(lambda c, child=child: trials.create(c, {
                "run_id": search.id, "trial_run_id": child.id, "status": "completed",
                "objective_value": 0.0}))
        values = 100 * np.cumprod(np.concatenate([[1.0], 1 + m[:, j]]))
        write_curve(db, child.id, values.tolist(), stamps)
        children.append(child)
    return search, children
