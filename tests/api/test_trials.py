"""Hyperparameter trials through the ResultsDB API: numbering, outcomes, best, frames."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import psycopg
import pytest

from resultsdb.api import ResultsDB
from resultsdb.config import Settings
from resultsdb.errors import InvalidInput, InvalidTransition, NotFound
from resultsdb.records import Experiment, Run
from tests.api._workers import trial_worker
from tests.api.conftest import MISSING_ID, raw_one
from tests.conftest import wait_for_backend
from tests.threads import in_thread


def test_start_trial_numbers_per_run(rdb: ResultsDB, exp: Experiment, run: Run) -> None:
    other = rdb.start_run(exp, "other search")
    a = [rdb.start_trial(run, {"fast": i}) for i in range(3)]
    b = rdb.start_trial(other.id)
    assert [t.trial_number for t in a] == [1, 2, 3]
    assert b.trial_number == 1
    assert a[0].status == "running" and a[0].finished_at is None
    assert a[1].parameters == {"fast": 1}
    assert b.parameters == {}
    assert rdb.get_run(run).trial_count == 3


def test_start_trial_rejects(rdb: ResultsDB, run: Run, unchanged) -> None:
    with unchanged():
        with pytest.raises(NotFound):
            rdb.start_trial(MISSING_ID, {"fast": 1})
        with pytest.raises(InvalidInput) as err:
            rdb.start_trial(run, {"lr": float("nan")})
        assert err.value.field == "parameters"
        with pytest.raises(InvalidInput):
            rdb.start_trial(run, [("fast", 1)])  # type: ignore[arg-type]
        with pytest.raises(InvalidInput):
            rdb.start_trial("run-1")
    assert rdb.start_trial(run).trial_number == 1  # the failures used no number


def test_finish_prune_fail(rdb: ResultsDB, run: Run) -> None:
    t1, t2, t3, t4 = (rdb.start_trial(run, {"i": i}) for i in range(4))
    done = rdb.finish_trial(t1, 1.5, {"sharpe": 1.5, "trades": 40})
    assert (done.status, done.objective_value) == ("completed", 1.5)
    assert done.metrics == {"sharpe": 1.5, "trades": 40}
    assert done.finished_at is not None and done.finished_at >= done.created_at
    pruned = rdb.prune_trial(t2.id, 0.2, {"step": 3})
    assert (pruned.status, pruned.objective_value, pruned.metrics) == ("pruned", 0.2, {"step": 3})
    assert rdb.prune_trial(t3).objective_value is None
    failed = rdb.fail_trial(str(t4.id), {"step": 1})
    assert (failed.status, failed.objective_value, failed.metrics) == ("failed", None, {"step": 1})
    assert failed.finished_at is not None
    assert rdb.finish_trial(rdb.start_trial(run), 7, status="completed").objective_value == 7.0


def test_completed_trial_needs_an_objective(rdb: ResultsDB, run: Run, conn: psycopg.Connection) -> None:
    trial = rdb.start_trial(run)
    with pytest.raises(InvalidInput) as err:
        rdb.finish_trial(trial)
    assert err.value.field == "objective_value"
    assert raw_one(conn, "select status from hyperparameter_results where id = %s", trial.id) == "running"


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"objective_value": float("nan")}, "objective_value"),
    ({"objective_value": float("inf")}, "objective_value"),
    ({"objective_value": "1.5"}, "objective_value"),
    ({"objective_value": True}, "objective_value"),
    ({"objective_value": 1.0, "metrics": {"sharpe": float("-inf")}}, "metrics"),
    ({"objective_value": 1.0, "metrics": {"ok": True}}, "metrics"),
    ({"objective_value": 1.0, "status": "running"}, "status"),
    ({"objective_value": 1.0, "status": "done"}, "status"),
])
def test_finish_trial_rejects(rdb: ResultsDB, run: Run, conn: psycopg.Connection, kwargs: dict,
                              field: str) -> None:
    trial = rdb.start_trial(run)
    with pytest.raises(InvalidInput) as err:
        rdb.finish_trial(trial, **kwargs)
    assert err.value.field == field
    row = conn.execute("select status, objective_value, metrics from hyperparameter_results "
                       "where id = %s", (trial.id,)).fetchone()
    assert row == ("running", None, {})


def test_finishing_twice(rdb: ResultsDB, run: Run, conn: psycopg.Connection) -> None:
    trial = rdb.finish_trial(rdb.start_trial(run), 1.0)
    for again in (lambda: rdb.finish_trial(trial, 2.0, {"late": 1}), lambda: rdb.prune_trial(trial),
                  lambda: rdb.fail_trial(trial)):
        with pytest.raises(InvalidTransition) as err:
            again()
        assert err.value.from_status == "completed"
    row = conn.execute("select status, objective_value, metrics, finished_at "
                       "from hyperparameter_results where id = %s", (trial.id,)).fetchone()
    assert row == ("completed", 1.0, {}, trial.finished_at)
    pruned = rdb.prune_trial(rdb.start_trial(run), 0.5)
    with pytest.raises(InvalidTransition) as err:
        rdb.prune_trial(pruned, 0.9)
    assert (err.value.from_status, err.value.to_status) == ("pruned", "pruned")


def test_finish_missing_trial(rdb: ResultsDB) -> None:
    with pytest.raises(NotFound):
        rdb.finish_trial(MISSING_ID, 1.0)
    with pytest.raises(NotFound):
        rdb.fail_trial(MISSING_ID)


def test_best_trial(rdb: ResultsDB, run: Run) -> None:
    values = [0.5, 2.0, -1.0, 2.0, 1.0]
    trials = [rdb.finish_trial(rdb.start_trial(run, {"i": i}), v) for i, v in enumerate(values)]
    rdb.prune_trial(rdb.start_trial(run), 99.0)  # pruned: never the best, whatever its value
    rdb.fail_trial(rdb.start_trial(run))
    rdb.start_trial(run)  # still running
    best = rdb.best_trial(run)
    assert best.id == trials[1].id  # 2.0 twice: the earlier number wins
    assert rdb.best_trial(run, "maximize") == best
    assert rdb.best_trial(run.id, "minimize").id == trials[2].id


def test_best_trial_none_completed(rdb: ResultsDB, run: Run) -> None:
    rdb.prune_trial(rdb.start_trial(run), 1.0)
    rdb.start_trial(run)
    with pytest.raises(NotFound):
        rdb.best_trial(run)
    with pytest.raises(NotFound):
        rdb.best_trial(run, "minimize")
    with pytest.raises(InvalidInput) as err:
        rdb.best_trial(run, "max")  # type: ignore[arg-type]
    assert err.value.field == "direction"


def test_trials_records(rdb: ResultsDB, exp: Experiment, run: Run) -> None:
    made = [rdb.start_trial(run, {"i": i}) for i in range(3)]
    rdb.start_trial(rdb.start_run(exp, "elsewhere"))
    rdb.finish_trial(made[1], 3.0)
    got = rdb.trials(run)
    assert [t.trial_number for t in got] == [1, 2, 3]
    assert [t.status for t in got] == ["running", "completed", "running"]
    assert rdb.trials(rdb.start_run(exp, "no trials")) == []
    with pytest.raises(NotFound, match="runs"):
        rdb.trials(MISSING_ID)
    with pytest.raises(InvalidInput):
        rdb.trials("nope")


def test_trials_frame(rdb: ResultsDB, run: Run) -> None:
    t1 = rdb.start_trial(run, {"fast": 10, "opt": {"lr": 0.01, "sched": {"kind": "cos"}}})
    t2 = rdb.start_trial(run, {"fast": 12, "slow": 50})
    rdb.finish_trial(t1, 1.25, {"sharpe": 1.25, "trades": 40})
    rdb.prune_trial(t2, metrics={"step": 3})
    frame = rdb.trials_frame(run)
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == 2
    for column in ("number", "value", "state", "datetime_start", "datetime_complete", "duration",
                   "params_fast", "params_opt.lr", "params_opt.sched.kind", "params_slow",
                   "metrics_sharpe", "metrics_trades", "metrics_step"):
        assert column in frame.columns, column
    assert "params_opt" not in frame.columns
    assert frame["number"].tolist() == [1, 2]
    assert frame["state"].tolist() == ["completed", "pruned"]
    assert frame.loc[0, "params_opt.lr"] == 0.01
    assert frame.loc[0, "params_opt.sched.kind"] == "cos"
    assert pd.isna(frame.loc[0, "params_slow"]) and frame.loc[1, "params_slow"] == 50
    assert frame.loc[0, "metrics_trades"] == 40
    assert frame.loc[0, "value"] == 1.25 and pd.isna(frame.loc[1, "value"])
    assert frame.loc[0, "duration"] >= pd.Timedelta(0)


def test_trials_frame_of_a_run_without_trials(rdb: ResultsDB, run: Run) -> None:
    frame = rdb.trials_frame(run)
    assert frame.empty
    assert {"number", "value", "state"} <= set(frame.columns)


def test_trial_numbers_from_threads(rdb: ResultsDB, run: Run) -> None:
    barrier = threading.Barrier(8)

    def work(_: int) -> list[int]:
        barrier.wait()
        return [rdb.start_trial(run).trial_number for _ in range(25)]

    with ThreadPoolExecutor(8) as pool:
        numbers = sorted(n for chunk in pool.map(work, range(8)) for n in chunk)
    assert numbers == list(range(1, 201))


@pytest.mark.slow
def test_trial_numbers_from_8_processes(db_url: str, rdb: ResultsDB, run: Run,
                                        conn: psycopg.Connection) -> None:
    processes, per_process = 8, 200
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        # Every process connects, then all start together with the parent.
        start = manager.Barrier(processes + 1, timeout=240)
        with ctx.Pool(processes) as pool:
            pending = [pool.apply_async(trial_worker, (db_url, str(run.id), w, per_process, start))
                       for w in range(processes)]
            start.wait()
            per_worker = [p.get(timeout=280) for p in pending]
    total = processes * per_process
    numbers = sorted(n for chunk in per_worker for n in chunk)
    assert numbers == list(range(1, total + 1))
    for chunk in per_worker:
        assert chunk == sorted(chunk)  # each process saw its own numbers increase
    stored = [r[0] for r in conn.execute(
        "select trial_number from hyperparameter_results where run_id = %s order by 1", (run.id,))]
    assert stored == list(range(1, total + 1))
    assert raw_one(conn, "select count(*) from hyperparameter_results where status = 'completed'") == total
    assert raw_one(conn, "select trial_count from runs where id = %s", run.id) == total
    assert rdb.best_trial(run).objective_value == float((processes - 1) * 1000 + per_process - 1)


def test_add_trial(rdb: ResultsDB, run: Run, conn: psycopg.Connection) -> None:
    rdb.start_trial(run)
    done = rdb.add_trial(run, {"fast": 10}, 1.5, {"trades": 3})
    assert (done.trial_number, done.status, done.objective_value) == (2, "completed", 1.5)
    assert done.parameters == {"fast": 10} and done.metrics == {"trades": 3}
    assert done.finished_at is not None
    pruned = rdb.add_trial(run.id, status="pruned", objective_value=0.2)
    failed = rdb.add_trial(run, {"fast": 1}, status="failed")
    assert (pruned.trial_number, pruned.status, failed.status) == (3, "pruned", "failed")
    assert raw_one(conn, "select count(*) from hyperparameter_results where finished_at is null") == 1


@pytest.mark.parametrize(("kwargs", "error", "field"), [
    ({}, InvalidInput, "objective_value"),  # completed without an objective
    ({"objective_value": float("nan")}, InvalidInput, "objective_value"),
    ({"objective_value": 1.0, "status": "running"}, InvalidInput, "status"),
    ({"objective_value": 1.0, "metrics": {"x": "1"}}, InvalidInput, "metrics"),
    ({"objective_value": 1.0, "parameters": ["fast", 1]}, InvalidInput, "parameters"),
    ({"objective_value": 1.0, "run": MISSING_ID}, NotFound, None),
])
def test_add_trial_rejects(rdb: ResultsDB, run: Run, unchanged, kwargs: dict, error: type,
                           field: str | None) -> None:
    args = {"run": run, **kwargs}
    with unchanged(), pytest.raises(error) as err:
        rdb.add_trial(**args)
    if field:
        assert err.value.field == field
    assert rdb.get_run(run).trial_count == 0


def test_start_trial_links_the_child_run_holding_its_series(rdb) -> None:
    exp = rdb.start_experiment("trial-links")
    search = rdb.start_run(exp, "search", run_type="hyperparameter_tuning")
    child = rdb.start_run(exp, "bt", run_type="backtest", parent=search)
    trial = rdb.start_trial(search, {"fast": 3}, trial_run=child)
    assert trial.trial_run_id == child.id
    assert rdb.start_trial(search, {"fast": 4}).trial_run_id is None


# -- when a trial's start is made durable ------------------------------------------------


def _cancel_the_commit_waiting_for_the_standby(conn: psycopg.Connection) -> None:
    """Wait until a backend waits in COMMIT for the (absent) synchronous standby; cancel
    that wait. The transaction has already committed locally, so its client sees success."""
    conn.execute("select pg_cancel_backend(%s)", (wait_for_backend(conn, "wait_event = 'SyncRep'"),))


def test_a_trial_start_commits_without_waiting_for_the_flush_and_its_finish_waits(
        db_url: str, run: Run, conn: psycopg.Connection,
        commit_waits_for_a_missing_standby: None) -> None:
    # Every durable COMMIT in this database now waits for a standby that never comes; a
    # commit that does not wait for its WAL flush does not wait for it either.
    with ResultsDB(url=db_url) as rdb:  # connections made after the setting
        thread, box = in_thread(lambda: rdb.start_trial(run, {"lr": 0.1}))
        thread.join(15)
        assert not thread.is_alive(), "start_trial waited for a flush"
        trial = box["value"]
        assert trial.trial_number == 1 and trial.status == "running"  # type: ignore[attr-defined]

        thread, box = in_thread(lambda: rdb.finish_trial(trial, 1.5))
        _cancel_the_commit_waiting_for_the_standby(conn)  # finish did wait
        thread.join(15)
        assert box["value"].status == "completed"  # type: ignore[attr-defined]

        # add_trial records an outcome: durable, so it waits too.
        thread, box = in_thread(lambda: rdb.add_trial(run, {"lr": 0.2}, 2.0))
        _cancel_the_commit_waiting_for_the_standby(conn)
        thread.join(15)
        assert box["value"].trial_number == 2  # type: ignore[attr-defined]

        # Inside a caller's transaction the start cannot change how that transaction
        # commits: the whole transaction waits, as the caller's durable commit must.
        def in_transaction() -> object:
            with rdb.db.transaction():
                return rdb.start_trial(run)
        thread, box = in_thread(in_transaction)
        _cancel_the_commit_waiting_for_the_standby(conn)
        thread.join(15)
        assert box["value"].trial_number == 3  # type: ignore[attr-defined]

    with ResultsDB(Settings(durable_trial_starts=True), url=db_url) as durable:
        thread, box = in_thread(lambda: durable.start_trial(run))
        _cancel_the_commit_waiting_for_the_standby(conn)
        thread.join(15)
        assert box["value"].trial_number == 4  # type: ignore[attr-defined]
    assert raw_one(conn, "select count(*) from hyperparameter_results where run_id = %s",
                   run.id) == 4
