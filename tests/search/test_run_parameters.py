"""runs.parameters, the derived copy of a run's parameter documents that searches read: kept
in step by trigger with configurations and trials, whatever writes them (API or SQL)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from resultsdb.api import ResultsDB


@pytest.fixture
def rdb(db_url: str) -> Iterator[ResultsDB]:
    with ResultsDB(url=db_url) as db:
        yield db


def test_configurations_in_order_then_the_trial(rdb: ResultsDB, conn: psycopg.Connection) -> None:
    exp = rdb.start_experiment("e")
    run = rdb.start_run(exp, "r")
    assert run.parameters == []
    before = rdb.get_run(run).updated_at
    first = rdb.save_config(run, "a", "strategy", {"fast": 10, "model": {"kind": "dqn"}})
    rdb.save_config(run, "b", "strategy", {"fast": 20})
    after = rdb.get_run(run)
    assert after.parameters == [{"fast": 10, "model": {"kind": "dqn"}}, {"fast": 20}]
    assert after.updated_at == before, "a configuration saved is not an update of the run"
    # From psql: an edit and a delete are followed too.
    conn.execute("update configurations set parameters = '{\"fast\": 11}' where id = %s", [first.id])
    assert rdb.get_run(run).parameters == [{"fast": 11}, {"fast": 20}]
    conn.execute("delete from configurations where id = %s", [first.id])
    assert rdb.get_run(run).parameters == [{"fast": 20}]
    assert [r.id for r in rdb.search_runs("params.fast = 20")] == [run.id]
    assert list(rdb.search_runs("params.fast = 11")) == []


def test_a_trial_run_gets_its_trials_parameters(rdb: ResultsDB, conn: psycopg.Connection) -> None:
    exp = rdb.start_experiment("e")
    search = rdb.start_run(exp, "search", run_type="hyperparameter_tuning")
    child = rdb.start_run(exp, "trial 1", parent=search)
    trial = rdb.start_trial(search, {"lr": 0.01}, trial_run=child)
    assert rdb.get_run(child).parameters == [{"lr": 0.01}]
    assert rdb.get_run(search).parameters == [], "the search run is not the trial's run"
    conn.execute("update hyperparameter_results set trial_run_id = null where id = %s", [trial.id])
    assert rdb.get_run(child).parameters == []
    conn.execute("update hyperparameter_results set trial_run_id = %s where id = %s",
                 [child.id, trial.id])
    assert [r.id for r in rdb.search_runs("params.lr < 0.1")] == [child.id]
    rdb.db.write(lambda c: c.execute("delete from runs where id = %s", [child.id]))
    assert rdb.trials(search)[0].trial_run_id is None  # on delete set null, no error
