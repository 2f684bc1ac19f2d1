"""One of everything, for the bad-input catalogues: a call refused must leave it as it was.

``world`` (tests/reliability/conftest.py) builds it in a fresh database; ``refused``
runs one bad call and checks its typed error and that no row of any table changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pytest

from resultsdb import series
from resultsdb.api import ResultsDB
from resultsdb.artifacts import ArtifactStore
from resultsdb.errors import ResultsDBError
from tests.reliability.conftest import State, table_state

MISSING = "01900000-0000-7000-8000-000000000000"
SHA = "ab" * 32
T0 = datetime(2024, 1, 1, tzinfo=UTC)
NAIVE = datetime(2024, 1, 1)


@dataclass
class World:
    rdb: ResultsDB
    store: ArtifactStore
    url: str
    exp: Any
    done_exp: Any
    run: Any
    ended_run: Any
    trial: Any
    done_trial: Any
    saved: Any
    cfg: Any
    snap: Any


@contextmanager
def make_world(db_url: str, tmp_path: Path) -> Iterator[World]:
    store = ArtifactStore((tmp_path / "store").as_uri())
    with ResultsDB(url=db_url, artifact_store=store) as rdb:
        exp = rdb.start_experiment("momentum", tags={"asset": "btc"})
        done_exp = rdb.start_experiment("done")
        rdb.complete_experiment(done_exp)
        run = rdb.start_run(exp, "search", run_type="hyperparameter_tuning")
        ended = rdb.start_run(exp, "ended")
        rdb.end_run(ended)
        trial = rdb.start_trial(run, {"lr": 0.1})
        done_trial = rdb.add_trial(run, {"lr": 0.2}, objective_value=1.0)
        cfg = rdb.save_config(run, "cfg", "training", {"lr": 0.1})
        snap = rdb.register_snapshot(run, "binance", T0, T0 + timedelta(days=1), SHA)
        saved = rdb.save_model(run, b"weights", "dqn", name="dqn-btc")
        frame = pd.DataFrame({"ts": pd.date_range(T0, periods=10, freq="min", tz="UTC"),
                              "portfolio_value": np.linspace(100.0, 110.0, 10)})
        series.write_equity(rdb.db, run, None, frame, batch_key="eq-1")
        series.write_trades(rdb.db, run, None, [(T0, "BTC", "buy", 1.0, 1.0)], batch_key="tr-1")
        yield World(rdb, store, db_url, exp, done_exp, run, ended, trial, done_trial, saved,
                    cfg, snap)


def refused(world: World, call: Callable[[World], Any], error: type[BaseException]) -> BaseException:
    """``call(world)`` raises ``error`` (a ResultsDBError) and no table changed; the error."""
    with psycopg.connect(world.url, autocommit=True) as conn:
        before: State = table_state(conn)
        with pytest.raises(error) as info:
            call(world)
        assert isinstance(info.value, ResultsDBError), type(info.value)
        after = table_state(conn)
    changed = sorted(t for t in before if before[t] != after[t])
    assert not changed, f"tables changed: {changed}"
    return info.value
