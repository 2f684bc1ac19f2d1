"""Fixtures for the bulk series tests: a run and a model to hang series on, and series makers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import psycopg
import pytest

from resultsdb.db import Database
from resultsdb.records import Experiment, Model, Run
from resultsdb.repositories import experiments, models, runs

T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def experiment(db: Database) -> Experiment:
    return db.write(lambda c: experiments.create(c, {"name": "series-exp"}))


@pytest.fixture
def run(db: Database, experiment: Experiment) -> Run:
    return db.write(lambda c: runs.create(c, {"experiment_id": experiment.id, "name": "series-run"}))


@pytest.fixture
def other_run(db: Database, experiment: Experiment) -> Run:
    return db.write(lambda c: runs.create(c, {"experiment_id": experiment.id, "name": "other-run"}))


@pytest.fixture
def model(db: Database, run: Run) -> Model:
    return db.write(lambda c: models.create(
        c, {"run_id": run.id, "model_type": "dqn", "name": "series-model"}))


def curve(n: int, *, seed: int = 0, start: datetime = T0, freq: str = "min",
          benchmark: bool = True) -> pd.DataFrame:
    """A random-walk equity curve of n points (float64 values with full precision)."""
    rng = np.random.default_rng(seed)
    value = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 1e-3, n)))
    frame = pd.DataFrame({"ts": pd.date_range(start, periods=n, freq=freq, tz="UTC"),
                          "portfolio_value": value})
    if benchmark:
        frame["benchmark_value"] = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 1e-3, n)))
    return frame


def trades(n: int, *, seed: int = 0, start: datetime = T0) -> pd.DataFrame:
    """n trades over a few assets, every third with a pnl, every fifth with metadata."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "ts": pd.date_range(start, periods=n, freq="min", tz="UTC"),
        "asset": rng.choice(["BTCUSDT", "ETHUSDT", "SOL"], n),
        "action": rng.choice(["buy", "sell", "short", "cover"], n),
        "price": rng.uniform(1.0, 1000.0, n),
        "quantity": rng.uniform(0.001, 5.0, n),
    })
    frame["pnl"] = pd.array([rng.normal() if i % 3 == 0 else None for i in range(n)], dtype="Float64")
    frame["metadata"] = [{"signal": i, "tags": ["a", "é"]} if i % 5 == 0 else None for i in range(n)]
    return frame


@pytest.fixture
def count(conn: psycopg.Connection) -> Callable[[str], int]:
    """Rows of a table, now (committed ones: ``conn`` is its own session)."""
    def rows(table: str) -> int:
        return conn.execute(f"select count(*) from {table}").fetchone()[0]
    return rows
