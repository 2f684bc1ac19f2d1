"""Factories for the repository tests: parents to hang rows on, and row counting."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime

import pytest

from resultsdb.db import Database
from resultsdb.records import Configuration, Experiment, Model, ModelVersion, Run
from resultsdb.repositories import configurations, experiments, models, runs
from resultsdb.seed import row_counts

Counter = Callable[[], dict[str, int]]
MISSING_ID = "01900000-0000-7000-8000-000000000000"
T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def counts(db: Database) -> Counter:
    """Rows per results table, now."""
    return lambda: db.read(row_counts)


@pytest.fixture
def unchanged(counts: Counter) -> Callable[[], AbstractContextManager[None]]:
    """``with unchanged(): ...`` asserts the block wrote nothing to any results table."""

    @contextmanager
    def check() -> Iterator[None]:
        before = counts()
        yield
        assert counts() == before

    return check


@pytest.fixture
def experiment(db: Database) -> Experiment:
    return db.write(lambda c: experiments.create(c, {"name": "fixture-exp", "tags": ["fixture"]}))


@pytest.fixture
def run(db: Database, experiment: Experiment) -> Run:
    return db.write(lambda c: runs.create(c, {"experiment_id": experiment.id, "name": "fixture-run"}))


@pytest.fixture
def config(db: Database, run: Run) -> Configuration:
    return db.write(lambda c: configurations.create(
        c, {"run_id": run.id, "name": "fixture-cfg", "config_type": "model",
            "parameters": {"lr": 0.001}}))


@pytest.fixture
def model(db: Database, run: Run, config: Configuration) -> Model:
    return db.write(lambda c: models.create(
        c, {"run_id": run.id, "config_id": config.id, "model_type": "dqn",
            "name": "fixture-model"}))


@pytest.fixture
def version(db: Database, model: Model, run: Run) -> ModelVersion:
    return db.write(lambda c: models.create_version(c, {"model_id": model.id, "run_id": run.id}))
