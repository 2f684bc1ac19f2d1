"""No single stored row breaks a query for everyone.

The API refuses a number double precision cannot hold, and so does the database's
CHECK (``jsonb_is_number_map``, migration 0011). A row can still hold one: stored
before 0011, or written from psql with the check dropped. Here a superuser writes such
values straight into the tables, bypassing both, and every view and analytics query
that casts JSON numbers must still answer, with the other rows intact and the hostile
values read as null.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from resultsdb.api import ResultsDB
from resultsdb.artifacts import ArtifactStore
from resultsdb.errors import ConstraintViolation

# JSON texts that no double holds, each under the keys views and queries cast.
HOSTILE = {
    "sharpe": "1e400", "total_return": "-1e400", "max_drawdown": "1e-400", "cagr": "1e400",
    "trade_count": "1e19", "stats_version": "3e9",
}


@dataclass
class Stored:
    url: str
    rdb: ResultsDB
    exp: Any
    good: list[Any]
    bad: Any
    model: Any


def _hostile_object() -> str:
    return "{" + ", ".join(f'"{k}": {v}' for k, v in HOSTILE.items()) + "}"


@pytest.fixture
def stored(db_url: str, tmp_path: Path) -> Iterator[Stored]:
    store = ArtifactStore((tmp_path / "store").as_uri())
    with ResultsDB(url=db_url, artifact_store=store) as rdb:
        exp = rdb.start_experiment("momentum")
        good = []
        for i in range(3):
            run = rdb.start_run(exp, f"good-{i}")
            rdb.log_summary_metrics(run, {"sharpe": 1.0 + i, "total_return": 0.1 * i,
                                          "max_drawdown": 0.2, "trade_count": 10 + i,
                                          "stats_version": 1})
            good.append(rdb.end_run(run))
        bad = rdb.end_run(rdb.start_run(exp, "bad"))
        search = rdb.start_run(exp, "search")
        for value in (1.0, 2.0):
            rdb.add_trial(search, {"x": value}, objective_value=value, metrics={"sharpe": value})
        saved = rdb.save_model(good[0], b"v1", "dqn", name="dqn-btc", metrics={"sharpe": 1.0})
        rdb.promote(saved.version, "production")
        rdb.save_model(good[0], b"v2", "dqn", name="dqn-btc", metrics={"sharpe": 2.0})
        newest = rdb.save_model(good[0], b"v3", "dqn", name="dqn-btc", metrics={"sharpe": 0.5})
        other = rdb.save_model(good[1], b"w1", "ppo", name="ppo-eth", metrics={"sharpe": 1.0})
        rdb.promote(other.version, "production")
        # As a superuser: drop the checks (as a database from before 0011 has them) and
        # write the hostile values into a run, a trial and the newest model version.
        with psycopg.connect(db_url, autocommit=True) as conn:
            for table, check in (("runs", "runs_summary_metrics_numbers"),
                                 ("hyperparameter_results", "hyperparameter_results_metrics_numbers"),
                                 ("model_versions", "model_versions_metrics_numbers")):
                conn.execute(sql.SQL("alter table {} drop constraint {}").format(
                    sql.Identifier(table), sql.Identifier(check)))
            hostile = _hostile_object()
            conn.execute("update runs set summary_metrics = %s::jsonb where id = %s", (hostile, bad.id))
            conn.execute("update hyperparameter_results set metrics = %s::jsonb "
                         "where run_id = %s and trial_number = 1", (hostile, search.id))
            conn.execute("update model_versions set metrics = %s::jsonb where id = %s",
                         (hostile, newest.version.id))
        yield Stored(db_url, rdb, exp, good, bad, saved.model)


def _rows(url: str, query: str) -> list[dict[str, Any]]:
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        return conn.execute(query).fetchall()


def test_the_check_refuses_what_the_views_could_not_cast(db_url: str) -> None:
    """Migration 0011's check: the same values, written by SQL with the check in place."""
    with ResultsDB(url=db_url) as rdb:
        run = rdb.start_run(rdb.start_experiment("e"), "r")
    for value in HOSTILE.values():
        if value in ("1e19", "3e9"):  # within double: views read them as null, see below
            continue
        with pytest.raises(psycopg.errors.CheckViolation), \
                psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute("update runs set summary_metrics = %s::jsonb where id = %s",
                         (f'{{"x": {value}}}', run.id))
    with ResultsDB(url=db_url) as rdb, pytest.raises(ConstraintViolation, match="summary_metrics"):
        rdb.db.write(lambda c: c.execute(
            "update runs set summary_metrics = '{\"x\": 1e400}' where id = %s", (run.id,)))


def test_every_view_answers_with_the_other_rows_intact(stored: Stored) -> None:
    summaries = {r["run_name"]: r for r in _rows(stored.url, "select * from run_summaries")}
    assert set(summaries) == {"good-0", "good-1", "good-2", "bad", "search"}
    assert [summaries[f"good-{i}"]["sharpe"] for i in range(3)] == [1.0, 2.0, 3.0]
    bad = summaries["bad"]
    assert (bad["sharpe"], bad["total_return"], bad["max_drawdown"]) == (None, None, 0.0)

    stats = {r["run_name"]: r for r in _rows(stored.url, "select * from run_statistics")}
    assert len(stats) == 5
    assert [stats[f"good-{i}"]["trade_count"] for i in range(3)] == [10, 11, 12]
    assert stats["good-0"]["stats_version"] == 1
    assert (stats["bad"]["cagr"], stats["bad"]["trade_count"], stats["bad"]["stats_version"]) \
        == (None, None, None)

    board = _rows(stored.url, "select run_name from leaderboard where metric = 'sharpe' "
                              "order by rank_desc")
    assert [r["run_name"] for r in board] == ["good-2", "good-1", "good-0"]
    assert len(_rows(stored.url, "select * from trials")) == 2
    assert len(_rows(stored.url, "select * from model_registry")) == 2


def test_every_analytics_call_answers_with_the_other_rows_intact(stored: Stored) -> None:
    rdb = stored.rdb
    assert [r.name for r in rdb.leaderboard(stored.exp, "sharpe")] == ["good-2", "good-1", "good-0"]
    summary = rdb.experiment_summary(stored.exp, "sharpe")
    assert summary.run_count == 5 and summary.best_run_id == stored.good[2].id
    assert len(rdb.compare_runs([*stored.good, stored.bad])) == 4
    assert len(rdb.runs(stored.exp).items) == 5
    # Version 2 beats production on sharpe; version 3's hostile sharpe compares as null.
    attention = {m.name: m for m in rdb.models_needing_attention(metric="sharpe")}
    assert attention["dqn-btc"].better_version == 2
    assert "ppo-eth" not in attention
    assert rdb.model_summary(stored.model).version_count == 3
    assert len(rdb.list_versions(stored.model)) == 3
