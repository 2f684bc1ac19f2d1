from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from resultsdb.db import Database
from resultsdb.errors import ConstraintViolation, InvalidInput, InvalidTransition, NotFound
from resultsdb.records import Experiment, Run, Trial
from resultsdb.repositories import runs, trials
from tests.repositories.conftest import MISSING_ID


def make(db: Database, run: Run, **data: object) -> Trial:
    return db.write(lambda c: trials.create(c, {"run_id": run.id, **data}))


def test_trials_number_themselves_per_run(db: Database, run: Run, experiment: Experiment) -> None:
    other = db.write(lambda c: runs.create(c, {"experiment_id": experiment.id}))
    mine = [make(db, run, parameters={"lr": 10.0 ** -i}) for i in range(1, 4)]
    theirs = make(db, other)
    assert [t.trial_number for t in mine] == [1, 2, 3]
    assert theirs.trial_number == 1
    db.write(lambda c: trials.delete(c, mine[-1].id))
    assert make(db, run).trial_number == 4  # numbers are not reused
    assert db.read(lambda c: runs.get(c, run.id)).trial_count == 4


def test_concurrent_trials_are_numbered_without_gaps(db: Database, run: Run) -> None:
    with ThreadPoolExecutor(max_workers=6) as pool:
        made = list(pool.map(lambda _: make(db, run), range(15)))
    assert sorted(t.trial_number for t in made) == list(range(1, 16))


def test_create_and_get(db: Database, run: Run) -> None:
    done = make(db, run, parameters={"lr": 3e-4, "layers": [64, 64]}, status="completed",
                objective_value=1.37, metrics={"sharpe": 1.37, "trades": 120})
    assert done.finished_at is not None  # stamped because it is not running
    assert done.metrics == {"sharpe": 1.37, "trades": 120}
    assert db.read(lambda c: trials.get(c, done.id)) == done
    running = make(db, run)
    assert (running.status, running.finished_at, running.objective_value) == (
        "running", None, None)


def test_create_on_a_missing_run(db: Database, run: Run, unchanged) -> None:
    with unchanged(), pytest.raises(NotFound) as err:
        db.write(lambda c: trials.create(c, {"run_id": MISSING_ID}))
    assert err.value.table == "runs"
    assert db.read(lambda c: runs.get(c, run.id)).trial_count == 0


@pytest.mark.parametrize(("data", "field"), [
    ({"status": "completed"}, "objective_value"),
    ({"objective_value": float("nan")}, "objective_value"),
    ({"objective_value": float("inf")}, "objective_value"),
    ({"objective_value": "1.5"}, "objective_value"),
    ({"metrics": {"sharpe": None}}, "metrics"),
    ({"parameters": ["lr", 0.1]}, "parameters"),
    ({"status": "stopped"}, "status"),
    ({"trial_number": 7}, "trial_number"),
    ({"trial_run_id": "x"}, "trial_run_id"),
])
def test_create_rejects_bad_input(db: Database, run: Run, unchanged, data: dict[str, object],
                                  field: str) -> None:
    with unchanged(), pytest.raises(InvalidInput) as err:
        make(db, run, **data)
    assert err.value.field == field
    assert f"hyperparameter_results.{field}" in str(err.value)
    assert db.read(lambda c: runs.get(c, run.id)).trial_count == 0


def test_list_page_and_by_run(db: Database, run: Run) -> None:
    made = [make(db, run).id for _ in range(5)]
    first = db.read(lambda c: trials.list_page(c, limit=2))
    rest = db.read(lambda c: trials.list_page(c, limit=5, after=first[-1].id))
    assert [t.id for t in first + rest] == made
    page1 = db.read(lambda c: trials.by_run(c, run.id, limit=3))
    page2 = db.read(lambda c: trials.by_run(c, run.id, limit=3,
                                            after_number=page1[-1].trial_number))
    assert [t.trial_number for t in page1 + page2] == [1, 2, 3, 4, 5]
    with pytest.raises(InvalidInput) as err:
        db.read(lambda c: trials.by_run(c, run.id, after_number=-1))
    assert err.value.field == "after_number"


def test_update(db: Database, run: Run, experiment: Experiment) -> None:
    trial = make(db, run, parameters={"lr": 0.01})
    child = db.write(lambda c: runs.create(c, {"experiment_id": experiment.id,
                                               "parent_run_id": run.id}))
    linked = db.write(lambda c: trials.update(c, trial.id, trial_run_id=child.id,
                                              metrics={"step": 10}))
    assert linked.trial_run_id == child.id
    done = db.write(lambda c: trials.update(c, trial.id, status="completed", objective_value=0.9))
    assert (done.status, done.objective_value) == ("completed", 0.9)
    assert done.finished_at is not None
    assert done.parameters == {"lr": 0.01}
    with pytest.raises(InvalidTransition):
        db.write(lambda c: trials.update(c, trial.id, status="running"))
    assert db.read(lambda c: trials.get(c, trial.id)) == done


def test_update_failures(db: Database, run: Run) -> None:
    trial = make(db, run)
    for changes, field in (({"parameters": {"lr": 1}}, "parameters"),
                           ({"trial_number": 2}, "trial_number"),
                           ({"objective_value": float("nan")}, "objective_value"),
                           ({"status": None}, "status")):
        with pytest.raises(InvalidInput) as err:
            db.write(lambda c, ch=changes: trials.update(c, trial.id, **ch))
        assert err.value.field == field
    # Only the database sees the row's current status: completing needs an objective.
    with pytest.raises(ConstraintViolation) as cv:
        db.write(lambda c: trials.update(c, trial.id, status="completed"))
    assert "objective_value" in str(cv.value)
    with pytest.raises(NotFound):
        db.write(lambda c: trials.update(c, MISSING_ID, status="pruned"))
    assert db.read(lambda c: trials.get(c, trial.id)) == trial


def test_delete(db: Database, run: Run, counts) -> None:
    trial = make(db, run)
    db.write(lambda c: trials.delete(c, trial.id))
    assert counts()["hyperparameter_results"] == 0
    with pytest.raises(NotFound) as err:
        db.write(lambda c: trials.delete(c, trial.id))
    assert err.value.table == "hyperparameter_results"
    with pytest.raises(NotFound):
        db.read(lambda c: trials.get(c, trial.id))
