"""ResultsDBCallback with real Optuna studies: every finished trial becomes one row."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator

import psycopg
import pytest

from resultsdb.api import ResultsDB
from resultsdb.errors import InvalidInput, NotFound
from resultsdb.records import Experiment, Run, Trial

optuna = pytest.importorskip("optuna")

from resultsdb.integrations.optuna import ResultsDBCallback  # noqa: E402

MISSING_ID = "01900000-0000-7000-8000-000000000000"
STATUS = {"COMPLETE": "completed", "PRUNED": "pruned", "FAIL": "failed"}


@pytest.fixture(autouse=True)
def _quiet() -> Iterator[None]:
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    yield
    optuna.logging.set_verbosity(level)


@pytest.fixture
def rdb(db_url: str) -> Iterator[ResultsDB]:
    with ResultsDB(url=db_url) as r:
        yield r


@pytest.fixture
def exp(rdb: ResultsDB) -> Experiment:
    return rdb.start_experiment("momentum")


@pytest.fixture
def run(rdb: ResultsDB, exp: Experiment) -> Run:
    return rdb.start_run(exp, "search", run_type="hyperparameter_tuning")


def objective(trial: optuna.Trial) -> float:
    fast = trial.suggest_int("fast", 2, 50)
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    kind = trial.suggest_categorical("kind", ["ema", "sma", None])
    trial.set_user_attr("trades", 10 + fast)
    trial.set_user_attr("note", "not a number")  # left out: metrics are numbers
    trial.set_user_attr("flag", True)  # left out: a bool is not a metric
    trial.set_user_attr("bad", float("nan"))  # left out: not finite
    if trial.number == 7:
        raise ValueError("bad data")
    score = 0.0
    for step in range(5):
        score = (step + 1) * (fast / 50) * (1.0 if kind == "ema" else 0.5) + lr
        trial.report(score, step)
        if trial.should_prune() or (trial.number % 6 == 5 and step == 2):
            raise optuna.TrialPruned
    return score


def assert_rows_match(rows: list[Trial], study_trials: list) -> None:
    assert len(rows) == len(study_trials)
    by_optuna = {int(r.metrics["optuna_number"]): r for r in rows}
    assert sorted(by_optuna) == [t.number for t in study_trials]
    for t in study_trials:
        row = by_optuna[t.number]
        assert row.status == STATUS[t.state.name], t.number
        assert row.parameters == t.params
        assert row.finished_at is not None
        if t.state.name == "FAIL":
            assert row.objective_value is None
        else:
            assert row.objective_value == pytest.approx(t.value)
        if t.intermediate_values:
            last = max(t.intermediate_values)
            assert row.metrics["intermediate_step"] == last
            assert row.metrics["intermediate_value"] == pytest.approx(t.intermediate_values[last])
        assert row.metrics["trades"] == t.user_attrs["trades"]
        assert not {"note", "flag", "bad"} & row.metrics.keys()


def test_study_with_pruner_and_a_failing_trial(rdb: ResultsDB, run: Run, conn: psycopg.Connection) -> None:
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=1),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1))
    study.optimize(objective, n_trials=30, callbacks=[ResultsDBCallback(rdb, run)], catch=(ValueError,))
    states = [t.state.name for t in study.trials]
    assert len(study.trials) == 30
    assert states.count("FAIL") == 1 and states.count("PRUNED") >= 5 and states.count("COMPLETE") >= 5

    rows = rdb.trials(run)
    assert [r.trial_number for r in rows] == list(range(1, 31))
    # Sequential optimize: resultsdb's numbers are Optuna's plus one.
    assert [int(r.metrics["optuna_number"]) + 1 for r in rows] == [r.trial_number for r in rows]
    assert_rows_match(rows, study.trials)
    assert rows[7].status == "failed"
    best = rdb.best_trial(run, "maximize")
    assert best.metrics["optuna_number"] == study.best_trial.number
    assert best.objective_value == pytest.approx(study.best_value)
    # Written with their outcome: never a running row, even for a moment.
    assert conn.execute("select count(*) from hyperparameter_results where status = 'running'"
                        ).fetchone()[0] == 0


def test_parallel_study(rdb: ResultsDB, run: Run) -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=24, n_jobs=4,
                   callbacks=[ResultsDBCallback(rdb, run.id)])
    rows = rdb.trials(run)
    assert sorted(r.trial_number for r in rows) == list(range(1, 25))
    assert sorted(int(r.metrics["optuna_number"]) for r in rows) == list(range(24))
    by_optuna = {int(r.metrics["optuna_number"]): r for r in rows}
    for t in study.trials:
        assert by_optuna[t.number].parameters == t.params
        assert by_optuna[t.number].objective_value == pytest.approx(t.value)
    assert rdb.best_trial(run, "minimize").objective_value == pytest.approx(study.best_value)


def test_multi_objective(rdb: ResultsDB, exp: Experiment, run: Run) -> None:
    def two(trial: optuna.Trial) -> tuple[float, float]:
        x = trial.suggest_float("x", 0, 1)
        return x, 1 - x * x

    study = optuna.create_study(directions=["maximize", "minimize"],
                                sampler=optuna.samplers.RandomSampler(seed=5))
    study.optimize(two, n_trials=6, callbacks=[ResultsDBCallback(rdb, run)])
    for row, t in zip(rdb.trials(run), study.trials, strict=True):
        assert row.objective_value == pytest.approx(t.values[0])
        assert row.metrics["objective_1"] == pytest.approx(t.values[1])
        assert "objective_0" not in row.metrics

    named_run = rdb.start_run(exp, "named")
    study.optimize(two, n_trials=2, callbacks=[ResultsDBCallback(rdb, named_run,
                                                                 metric_name=["sharpe", "drawdown"])])
    for row, t in zip(rdb.trials(named_run), study.trials[-2:], strict=True):
        assert row.objective_value == pytest.approx(t.values[0])
        assert (row.metrics["sharpe"], row.metrics["drawdown"]) == pytest.approx(t.values)

    wrong = rdb.start_run(exp, "wrong")
    with pytest.raises(InvalidInput) as err:
        study.optimize(two, n_trials=1, callbacks=[ResultsDBCallback(rdb, wrong, metric_name=["a"])])
    assert err.value.field == "metric_name"
    assert rdb.trials(wrong) == []


def test_metric_name_for_one_objective(rdb: ResultsDB, run: Run) -> None:
    study = optuna.create_study(direction="maximize")
    study.optimize(lambda t: t.suggest_float("x", 0, 2), n_trials=3,
                   callbacks=[ResultsDBCallback(rdb, run, metric_name="sharpe")])
    for row, t in zip(rdb.trials(run), study.trials, strict=True):
        assert row.metrics["sharpe"] == pytest.approx(t.value) == pytest.approx(row.objective_value)
    with pytest.raises(InvalidInput):
        ResultsDBCallback(rdb, run, metric_name=["ok", ""])


def test_an_infinite_objective_is_recorded_as_failed(rdb: ResultsDB, run: Run) -> None:
    study = optuna.create_study()
    study.optimize(lambda t: float("inf") if t.suggest_int("k", 0, 0) == 0 else 0.0, n_trials=1,
                   callbacks=[ResultsDBCallback(rdb, run)])
    assert study.trials[0].state.name == "COMPLETE"  # Optuna accepts inf ...
    (row,) = rdb.trials(run)
    assert (row.status, row.objective_value) == ("failed", None)  # ... resultsdb stores finite numbers
    assert row.metrics["objective_nonfinite"] == 1


def test_a_missing_run_stops_the_study(rdb: ResultsDB, unchanged_count) -> None:
    study = optuna.create_study()
    with pytest.raises(NotFound):
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3,
                       callbacks=[ResultsDBCallback(rdb, MISSING_ID)])
    assert len(study.trials) == 1  # the callback failed after the first trial
    assert unchanged_count() == 0


@pytest.fixture
def unchanged_count(conn: psycopg.Connection):
    return lambda: conn.execute("select count(*) from hyperparameter_results").fetchone()[0]


def test_without_optuna_installed(rdb: ResultsDB, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna now raises ImportError
    module = importlib.reload(importlib.import_module("resultsdb.integrations.optuna"))
    with pytest.raises(ImportError, match=r"pip install 'resultsdb\[optuna\]'"):
        module.ResultsDBCallback(rdb, run)
