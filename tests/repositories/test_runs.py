from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from resultsdb.db import Database
from resultsdb.errors import (
    ConstraintViolation,
    InvalidInput,
    InvalidTransition,
    NotFound,
    ReferenceNotFound,
    StillReferenced,
)
from resultsdb.records import Experiment, Model, Run
from resultsdb.repositories import configurations, experiments, runs
from tests.repositories.conftest import MISSING_ID, T0


def make(db: Database, experiment: Experiment, **data: object) -> Run:
    return db.write(lambda c: runs.create(c, {"experiment_id": experiment.id, **data}))


def test_create_defaults_and_get(db: Database, experiment: Experiment) -> None:
    run = make(db, experiment, name="r", summary_metrics={"sharpe": 1.25, "trades": 40})
    assert run.status == "running"
    assert run.run_type == "training"
    assert run.start_time is not None  # a running run has started
    assert run.end_time is None
    assert run.summary_metrics == {"sharpe": 1.25, "trades": 40}
    assert isinstance(run.summary_metrics["trades"], int)
    assert run.trial_count == 0
    assert db.read(lambda c: runs.get(c, run.id)) == run


def test_a_scheduled_run_has_not_started(db: Database, experiment: Experiment) -> None:
    run = make(db, experiment, status="scheduled")
    assert run.start_time is None
    started = db.write(lambda c: runs.update(c, run.id, status="running"))
    assert started.start_time is not None


def test_create_a_finished_run(db: Database, experiment: Experiment) -> None:
    run = make(db, experiment, status="completed", run_type="backtest", start_time=T0,
               end_time=T0 + timedelta(hours=1), user_id="01900000-0000-7000-8000-0000000000aa")
    assert (run.start_time, run.end_time) == (T0, T0 + timedelta(hours=1))
    assert str(run.user_id) == "01900000-0000-7000-8000-0000000000aa"


@pytest.mark.parametrize(("data", "field"), [
    ({"start_time": datetime(2024, 1, 1)}, "start_time"),  # naive: never assumed UTC
    ({"start_time": "2024-01-01T00:00:00Z"}, "start_time"),  # strict: a datetime
    ({"summary_metrics": {"sharpe": float("nan")}}, "summary_metrics"),
    ({"summary_metrics": {"sharpe": "1.2"}}, "summary_metrics"),
    ({"summary_metrics": {"ok": True}}, "summary_metrics"),
    ({"summary_metrics": [1, 2]}, "summary_metrics"),
    ({"run_type": "Back-Test"}, "run_type"),
    ({"run_type": "backtest\n"}, "run_type"),
    ({"status": "paused"}, "status"),
    ({"end_time": T0}, "end_time"),  # still running
    ({"status": "completed", "start_time": T0, "end_time": T0 - timedelta(seconds=1)}, "end_time"),
    ({"error_type": "e" * 256}, "error_type"),
    ({"user_id": "bob"}, "user_id"),
    ({"trial_count": 5}, "trial_count"),
])
def test_create_rejects_bad_input(db: Database, experiment: Experiment, unchanged,
                                  data: dict[str, object], field: str) -> None:
    with unchanged(), pytest.raises(InvalidInput) as err:
        make(db, experiment, **data)
    assert err.value.field == field
    assert f"runs.{field}" in str(err.value)


def test_create_needs_an_existing_experiment(db: Database, experiment: Experiment,
                                             unchanged) -> None:
    with unchanged(), pytest.raises(ReferenceNotFound) as err:
        db.write(lambda c: runs.create(c, {"experiment_id": MISSING_ID}))
    assert err.value.field == "experiment_id"


def test_experiment_id_is_required(db: Database, unchanged) -> None:
    with unchanged(), pytest.raises(InvalidInput) as err:
        db.write(lambda c: runs.create(c, {"name": "orphan"}))
    assert err.value.field == "experiment_id"


def test_get_missing(db: Database) -> None:
    with pytest.raises(NotFound) as err:
        db.read(lambda c: runs.get(c, MISSING_ID))
    assert err.value.table == "runs"


def test_list_page(db: Database, experiment: Experiment) -> None:
    made = [make(db, experiment).id for _ in range(7)]
    first = db.read(lambda c: runs.list_page(c, limit=4))
    second = db.read(lambda c: runs.list_page(c, limit=4, after=first[-1].id))
    third = db.read(lambda c: runs.list_page(c, limit=4, after=second[-1].id))
    assert [r.id for r in first + second] == sorted(made)
    assert (len(first), len(second), third) == (4, 3, [])


def test_by_experiment(db: Database, experiment: Experiment) -> None:
    other = db.write(lambda c: experiments.create(c, {"name": "other"}))
    mine = [make(db, experiment).id for _ in range(5)]
    make(db, other)
    done = make(db, experiment, status="completed", start_time=T0, end_time=T0)
    assert [r.id for r in db.read(lambda c: runs.by_experiment(c, experiment.id))] == [
        *mine, done.id]
    assert [r.id for r in db.read(lambda c: runs.by_experiment(
        c, str(experiment.id), status="completed"))] == [done.id]
    page1 = db.read(lambda c: runs.by_experiment(c, experiment.id, limit=2))
    page2 = db.read(lambda c: runs.by_experiment(c, experiment.id, limit=10, after=page1[-1].id))
    assert [r.id for r in page1 + page2] == [*mine, done.id]
    assert db.read(lambda c: runs.by_experiment(c, MISSING_ID)) == []


def test_by_experiment_checks_its_arguments(db: Database) -> None:
    with pytest.raises(InvalidInput) as err:
        db.read(lambda c: runs.by_experiment(c, "x"))
    assert err.value.field == "experiment_id"
    with pytest.raises(InvalidInput) as err:
        db.read(lambda c: runs.by_experiment(c, MISSING_ID, status="done"))  # type: ignore[arg-type]
    assert err.value.field == "status"


def test_most_recent(db: Database, experiment: Experiment) -> None:
    for day in (3, 1, 4, 2):
        make(db, experiment, name=f"day{day}", status="completed",
             start_time=T0 + timedelta(days=day), end_time=T0 + timedelta(days=day, hours=1))
    make(db, experiment, name="later", status="scheduled")
    recent = db.read(lambda c: runs.most_recent(c, limit=3))
    assert [r.name for r in recent] == ["day4", "day3", "day2"]
    assert "later" not in [r.name for r in db.read(runs.most_recent)]
    assert len(db.read(runs.most_recent)) == 4


def test_update(db: Database, experiment: Experiment) -> None:
    run = make(db, experiment, summary_metrics={"sharpe": 1.0})
    updated = db.write(lambda c: runs.update(
        c, run.id, summary_metrics={"sharpe": 1.5, "max_drawdown": 0.2}, tags=["best"],
        name="renamed"))
    assert updated.summary_metrics == {"sharpe": 1.5, "max_drawdown": 0.2}
    assert updated.tags == {"best": True}
    assert updated.name == "renamed"
    assert updated.end_time is None
    finished = db.write(lambda c: runs.update(c, run.id, status="failed",
                                               error_type="OOM", error_message="killed by oom"))
    assert finished.status == "failed"
    assert finished.end_time is not None  # stamped by the database
    assert finished.error_type == "OOM"


@pytest.mark.parametrize(("changes", "field"), [
    ({"experiment_id": MISSING_ID}, "experiment_id"),
    ({"trial_count": 3}, "trial_count"),
    ({"summary_metrics": {"x": float("inf")}}, "summary_metrics"),
    ({"start_time": datetime(2024, 1, 1)}, "start_time"),
    ({"status": None}, "status"),
])
def test_update_rejects_bad_changes(db: Database, experiment: Experiment,
                                    changes: dict[str, object], field: str) -> None:
    run = make(db, experiment)
    with pytest.raises(InvalidInput) as err:
        db.write(lambda c: runs.update(c, run.id, **changes))
    assert err.value.field == field
    assert db.read(lambda c: runs.get(c, run.id)) == run


def test_update_checks_the_database_rules(db: Database, experiment: Experiment) -> None:
    run = make(db, experiment, status="completed", start_time=T0, end_time=T0)
    with pytest.raises(InvalidTransition):
        db.write(lambda c: runs.update(c, run.id, status="running"))
    with pytest.raises(ConstraintViolation) as err:
        db.write(lambda c: runs.update(c, run.id, end_time=T0 - timedelta(days=1)))
    assert "start_time" in str(err.value)
    assert db.read(lambda c: runs.get(c, run.id)) == run


def test_update_missing(db: Database) -> None:
    with pytest.raises(NotFound) as err:
        db.write(lambda c: runs.update(c, MISSING_ID, name="x"))
    assert err.value.table == "runs"


def test_delete_takes_its_configurations(db: Database, experiment: Experiment, counts) -> None:
    run = make(db, experiment)
    db.write(lambda c: configurations.create(
        c, {"run_id": run.id, "name": "cfg", "config_type": "model"}))
    db.write(lambda c: runs.delete(c, run.id))
    assert counts()["runs"] == 0
    assert counts()["configurations"] == 0
    with pytest.raises(NotFound):
        db.read(lambda c: runs.get(c, run.id))


def test_delete_is_refused_while_a_model_refers_to_the_run(db: Database, model: Model,
                                                          unchanged) -> None:
    with unchanged(), pytest.raises(StillReferenced):
        db.write(lambda c: runs.delete(c, model.run_id))


def test_delete_missing(db: Database, run: Run, unchanged) -> None:
    with unchanged(), pytest.raises(NotFound):
        db.write(lambda c: runs.delete(c, MISSING_ID))
