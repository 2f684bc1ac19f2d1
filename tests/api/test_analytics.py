"""Analytics through the ResultsDB API: leaderboard, comparisons, summaries, attention list."""

from __future__ import annotations

import hashlib

import pandas as pd
import psycopg
import pytest

from resultsdb.api import ResultsDB
from resultsdb.errors import InvalidInput, NotFound
from resultsdb.records import Experiment, Run
from resultsdb.repositories import models as models_repo
from tests.api.conftest import MISSING_ID


def backtest(rdb: ResultsDB, exp: Experiment | str, name: str, metrics: dict[str, float],
             status: str = "completed") -> Run:
    run = rdb.start_run(exp, name, run_type="backtest")
    if metrics:
        rdb.log_summary_metrics(run, metrics)
    if status != "running":
        rdb.end_run(run, status)
    return rdb.get_run(run)


@pytest.fixture
def board(rdb: ResultsDB, exp: Experiment) -> dict[str, Run]:
    """Five runs of ``exp`` with sharpe/drawdown, one failed and one running, and a run elsewhere."""
    made = {
        "a": backtest(rdb, exp, "a", {"sharpe": 1.0, "max_drawdown": 0.30}),
        "b": backtest(rdb, exp, "b", {"sharpe": 2.5, "max_drawdown": 0.10}),
        "c": backtest(rdb, exp, "c", {"sharpe": 1.8, "max_drawdown": 0.20}),
        "d": backtest(rdb, exp, "d", {"sharpe": 1.8}),  # ties with c on sharpe
        "e": backtest(rdb, exp, "e", {"max_drawdown": 0.05}),  # no sharpe
        "failed": backtest(rdb, exp, "failed", {"sharpe": 9.0, "max_drawdown": 0.01}, "failed"),
        "running": backtest(rdb, exp, "running", {"sharpe": 5.0}, "running"),
    }
    other = rdb.start_experiment("other")
    made["elsewhere"] = backtest(rdb, other, "elsewhere", {"sharpe": 99.0})
    return made


def test_leaderboard(rdb: ResultsDB, exp: Experiment, board: dict[str, Run]) -> None:
    top = rdb.leaderboard(exp, "sharpe")
    tied = sorted([board["c"].id, board["d"].id])
    assert [r.run_id for r in top] == [board["b"].id, *tied, board["a"].id]
    assert [r.rank for r in top] == [1, 2, 3, 4]
    assert [r.value for r in top] == [2.5, 1.8, 1.8, 1.0]
    assert top[0].metric == "sharpe" and top[0].name == "b" and top[0].status == "completed"
    assert top[0].summary_metrics == {"sharpe": 2.5, "max_drawdown": 0.10}
    assert top[0].end_time is not None
    first_tied = "c" if board["c"].id < board["d"].id else "d"  # ties rank by run id
    assert [r.name for r in rdb.leaderboard("momentum", "sharpe", limit=2)] == ["b", first_tied]


def test_leaderboard_min_and_aliases(rdb: ResultsDB, exp: Experiment, board: dict[str, Run]) -> None:
    low = rdb.leaderboard(exp, "max_drawdown", "min")
    assert [r.name for r in low] == ["e", "b", "c", "a"]
    assert rdb.leaderboard(exp.id, "max_drawdown", "minimize") == low
    assert rdb.leaderboard(exp, "max_drawdown", "asc") == low
    assert [r.name for r in rdb.leaderboard(exp, "max_drawdown", "maximize", limit=1)] == ["a"]


def test_leaderboard_status_filter(rdb: ResultsDB, exp: Experiment, board: dict[str, Run]) -> None:
    assert [r.name for r in rdb.leaderboard(exp, "sharpe", status=None, limit=3)] == [
        "failed", "running", "b"]
    assert [r.name for r in rdb.leaderboard(exp, "sharpe", status="failed")] == ["failed"]
    assert [r.name for r in rdb.leaderboard(exp, "sharpe", status="running")] == ["running"]
    assert rdb.leaderboard(exp, "sharpe", status="killed") == []
    assert rdb.leaderboard(exp, "no_such_metric") == []


def test_leaderboard_follows_metric_updates(rdb: ResultsDB, exp: Experiment,
                                            board: dict[str, Run]) -> None:
    rdb.log_summary_metrics(board["a"], {"sharpe": 3.0})
    assert rdb.leaderboard(exp, "sharpe", limit=1)[0].name == "a"


@pytest.mark.parametrize(("kwargs", "error", "field"), [
    ({"direction": "up"}, InvalidInput, "direction"),
    ({"limit": 0}, InvalidInput, "limit"),
    ({"limit": 5000}, InvalidInput, "limit"),
    ({"status": "done"}, InvalidInput, "status"),
    ({"experiment": "no such experiment"}, NotFound, None),
    ({"experiment": "not a uuid either"}, NotFound, None),
])
def test_leaderboard_rejects(rdb: ResultsDB, exp: Experiment, kwargs: dict, error: type,
                             field: str | None) -> None:
    args = {"experiment": exp, "metric": "sharpe", **kwargs}
    with pytest.raises(error) as err:
        rdb.leaderboard(**args)
    if field:
        assert err.value.field == field


# -- compare ------------------------------------------------------------------------------

def test_compare_runs(rdb: ResultsDB, exp: Experiment, board: dict[str, Run]) -> None:
    a, b, e = board["a"], board["b"], board["e"]
    rdb.save_config(a, "strategy", "model", {"fast": 10, "opt": {"lr": 0.1}})
    rdb.save_config(a, "strategy", "model", {"fast": 12, "opt": {"lr": 0.1}})  # latest wins
    rdb.save_config(a, "risk", "risk", {"stop": 0.1})
    rdb.save_config(b, "strategy", "model", {"fast": 20})
    rows = rdb.compare_runs([b.id, a, str(e.id)])
    assert [r.run_id for r in rows] == [b.id, a.id, e.id]  # the order given
    assert rows[1].summary_metrics == {"sharpe": 1.0, "max_drawdown": 0.30}
    assert rows[1].parameters == {"strategy": {"fast": 12, "opt": {"lr": 0.1}}, "risk": {"stop": 0.1}}
    assert rows[0].parameters == {"strategy": {"fast": 20}}
    assert rows[2].parameters == {}
    assert rows[1].status == "completed" and rows[1].name == "a"
    assert rdb.compare_runs([]) == []


def test_compare_runs_rejects(rdb: ResultsDB, board: dict[str, Run]) -> None:
    with pytest.raises(NotFound) as err:
        rdb.compare_runs([board["a"].id, MISSING_ID])
    assert MISSING_ID in str(err.value)
    with pytest.raises(InvalidInput):
        rdb.compare_runs([board["a"].id, "run-b"])


def test_compare_frame(rdb: ResultsDB, board: dict[str, Run]) -> None:
    a, b = board["a"], board["b"]
    rdb.save_config(a, "strategy", "model", {"fast": 10, "opt": {"lr": 0.1}})
    rdb.save_config(b, "strategy", "model", {"fast": 20, "slow": 50})
    frame = rdb.compare_frame([a, b])
    assert list(frame.index) == [a.id, b.id]
    assert frame.index.name == "run_id"
    assert {"name", "status", "metric_sharpe", "metric_max_drawdown", "strategy.fast",
            "strategy.opt.lr", "strategy.slow"} <= set(frame.columns)
    assert frame.loc[a.id, "metric_sharpe"] == 1.0 and frame.loc[b.id, "metric_sharpe"] == 2.5
    assert frame.loc[a.id, "strategy.opt.lr"] == 0.1 and pd.isna(frame.loc[b.id, "strategy.opt.lr"])
    assert frame.loc[b.id, "strategy.slow"] == 50
    assert rdb.compare_frame([]).empty
    with pytest.raises(NotFound):
        rdb.compare_frame([MISSING_ID])


# -- experiment summary ----------------------------------------------------------------------

def test_experiment_summary(rdb: ResultsDB, exp: Experiment, board: dict[str, Run],
                            conn: psycopg.Connection) -> None:
    rdb.start_run(exp, "later", status="scheduled")
    # Known durations: 10 s, 20 s, 30 s ... for the runs that ended.
    ended = [r for k, r in board.items() if k not in ("running", "elsewhere")]
    for i, r in enumerate(ended, 1):
        conn.execute("update runs set start_time = end_time - make_interval(secs => %s) where id = %s",
                     (10 * i, r.id))
    summary = rdb.experiment_summary(exp, "sharpe")
    assert summary.experiment_id == exp.id and summary.name == "momentum" and summary.status == "active"
    assert summary.run_count == 8
    assert summary.runs_by_status == {"completed": 5, "failed": 1, "running": 1, "scheduled": 1}
    assert summary.mean_duration_s == pytest.approx(sum(10 * i for i in range(1, 7)) / 6)
    assert summary.max_duration_s == pytest.approx(60)
    # The best run is the leaderboard's first: completed runs only.
    assert (summary.best_run_id, summary.best_value) == (board["b"].id, 2.5)
    low = rdb.experiment_summary("momentum", "max_drawdown", "min")
    assert (low.best_run_id, low.best_value) == (board["e"].id, 0.05)
    assert rdb.leaderboard(exp, "max_drawdown", "min", limit=1)[0].run_id == low.best_run_id
    none = rdb.experiment_summary(exp)
    assert (none.best_run_id, none.best_value) == (None, None)
    assert rdb.experiment_summary(exp, "no_such_metric").best_run_id is None


def test_experiment_summary_of_an_empty_experiment(rdb: ResultsDB, exp: Experiment) -> None:
    summary = rdb.experiment_summary(exp, "sharpe")
    assert (summary.run_count, summary.runs_by_status) == (0, {})
    assert (summary.mean_duration_s, summary.max_duration_s, summary.best_run_id) == (None, None, None)


def test_experiment_summary_rejects(rdb: ResultsDB, exp: Experiment) -> None:
    with pytest.raises(NotFound):
        rdb.experiment_summary(MISSING_ID)
    with pytest.raises(NotFound):
        rdb.experiment_summary("no such experiment")
    with pytest.raises(InvalidInput) as err:
        rdb.experiment_summary(exp, "sharpe", "sideways")
    assert err.value.field == "direction"


# -- model summary and models needing attention ------------------------------------------------

def test_model_summary(mdb: ResultsDB, run: Run) -> None:
    mdb.save_model(run, b"x" * 100, "dqn", name="dqn-btc")
    v2 = mdb.save_model(run, b"y" * 250, "dqn", name="dqn-btc").version
    mdb.save_model(run, b"z" * 1000, "dqn", name="other")
    before = mdb.model_summary("dqn-btc")
    assert (before.name, before.model_type, before.version_count) == ("dqn-btc", "dqn", 2)
    assert (before.latest_version, before.production_version, before.production_since) == (2, None, None)
    assert before.artifact_bytes == 350
    promoted = mdb.promote(v2)
    after = mdb.model_summary(promoted.model_id)
    assert after.production_version == 2
    assert after.production_since == promoted.updated_at
    same_bytes = mdb.save_model(run, b"x" * 100, "dqn", name="dqn-btc")  # stored once, counted per version
    assert mdb.model_summary(same_bytes.model).artifact_bytes == 450
    assert mdb.artifact_store.size(hashlib.sha256(b"x" * 100).hexdigest()) == 100


def test_model_summary_without_versions(rdb: ResultsDB, run: Run) -> None:
    model = rdb.db.write(lambda c: models_repo.create(
        c, {"run_id": run.id, "model_type": "dqn", "name": "empty"}))
    summary = rdb.model_summary(model)
    assert (summary.version_count, summary.latest_version, summary.artifact_bytes) == (0, None, 0)


def test_model_summary_not_found(rdb: ResultsDB) -> None:
    with pytest.raises(NotFound):
        rdb.model_summary("no such model")
    with pytest.raises(NotFound):
        rdb.model_summary(MISSING_ID)


def _model(rdb: ResultsDB, run: Run, name: str, sharpes: list[float | None]) -> list:
    model = rdb.db.write(lambda c: models_repo.create(
        c, {"run_id": run.id, "model_type": "dqn", "name": name}))
    return [rdb.db.write(lambda c, s=s: models_repo.create_version(c, {
        "model_id": model.id, "run_id": run.id, "metrics": {} if s is None else {"sharpe": s}}))
        for s in sharpes]


def test_models_needing_attention(rdb: ResultsDB, run: Run, conn: psycopg.Connection) -> None:
    _model(rdb, run, "a-no-production", [1.0, 2.0])
    fine = _model(rdb, run, "b-fine", [1.0, 0.5, None])  # newer ones are worse or unmeasured
    rdb.promote(fine[0])
    better = _model(rdb, run, "c-newer-is-better", [1.0, 1.5])
    rdb.promote(better[0])
    archived_better = _model(rdb, run, "d-better-but-archived", [1.0, 3.0])
    rdb.promote(archived_better[0])
    rdb.promote(archived_better[1], "archived")
    stale = _model(rdb, run, "e-stale", [1.0])
    rdb.promote(stale[0])
    # Production for 40 days (triggers off, so updated_at keeps the value we set).
    with conn.transaction():
        conn.execute("set local session_replication_role = replica")
        conn.execute("update model_versions set updated_at = now() - interval '40 days' where id = %s",
                     (stale[0].id,))

    got = {m.name: m for m in rdb.models_needing_attention()}
    assert sorted(got) == ["a-no-production", "c-newer-is-better", "e-stale"]
    assert got["a-no-production"].reason == "no production version"
    assert got["a-no-production"].production_version is None
    assert (got["c-newer-is-better"].production_version, got["c-newer-is-better"].better_version) == (1, 2)
    assert got["c-newer-is-better"].reason == "a newer version has a better sharpe"
    assert got["e-stale"].reason == "production version older than 30 days"
    assert got["e-stale"].better_version is None

    assert "e-stale" not in {m.name for m in rdb.models_needing_attention(max_age_days=60)}
    every_production = {m.name for m in rdb.models_needing_attention(max_age_days=0)}
    assert every_production == {"a-no-production", "b-fine", "c-newer-is-better",
                                "d-better-but-archived", "e-stale"}
    # Lower is better: b's version 2 (0.5) now beats its production version (1.0).
    low = {m.name: m for m in rdb.models_needing_attention(metric="sharpe", direction="min")}
    assert low["b-fine"].better_version == 2
    assert "c-newer-is-better" not in low


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"max_age_days": -1}, "max_age_days"),
    ({"max_age_days": 1.5}, "max_age_days"),
    ({"max_age_days": True}, "max_age_days"),
    ({"max_age_days": 3_000_000_000}, "max_age_days"),
    ({"direction": "best"}, "direction"),
])
def test_models_needing_attention_rejects(rdb: ResultsDB, kwargs: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        rdb.models_needing_attention(**kwargs)
    assert err.value.field == field
