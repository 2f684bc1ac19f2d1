"""The psql views (sql/views/, migration 0005): documented, and right on the seed data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from resultsdb import _paths
from resultsdb.db import Database
from resultsdb.seed import SEED_EXPERIMENT, WEIGHTS, seed

VIEWS = ("run_summaries", "leaderboard", "model_registry", "trials", "run_statistics")


@pytest.fixture
def seeded(db: Database, db_url: str) -> Iterator[psycopg.Connection[Any]]:
    seed(db)
    conn = psycopg.connect(db_url, autocommit=True, row_factory=dict_row)
    yield conn
    conn.close()


def rows(conn: psycopg.Connection[Any], query: str, *args: Any) -> list[dict[str, Any]]:
    return conn.execute(query, args or None).fetchall()


def test_every_view_file_is_one_view_named_like_the_file() -> None:
    files = sorted((_paths.sql_dir() / "views").glob("*.sql"))
    assert [Path(f).stem.split("_", 1)[1] for f in files] == list(VIEWS)
    first = (_paths.migrations_dir() / "0005_views.sql").read_text(encoding="utf-8")
    steps = sorted(p for p in _paths.migrations_dir().glob("*.sql")
                   if not p.name.endswith(".rollback.sql"))
    for f in files:  # the migrations ship the files as they are
        text = f.read_text(encoding="utf-8")
        name = Path(f).stem.split("_", 1)[1]
        body = text[text.index("create view"):text.index(";", text.index("create view")) + 1]
        comments = text[text.index("comment on view"):]
        # 0005 made the view with its comments; a later step may replace its query
        # (create or replace keeps comments and grants), and the last one that does
        # ships the file's query as it is.
        assert comments in first, f.name
        last = [p.read_text(encoding="utf-8") for p in steps
                if f"create or replace view {name} as" in p.read_text(encoding="utf-8")]
        shipped = last[-1] if last else first
        assert (body.replace("create view", "create or replace view", 1) if last else body) \
            in shipped, f.name


def test_every_view_and_column_has_a_comment(conn: Any) -> None:
    views = conn.execute(
        """select c.relname, obj_description(c.oid, 'pg_class')
             from pg_class c
            where c.relkind = 'v' and c.relnamespace = current_schema()::regnamespace
            order by 1""").fetchall()
    assert sorted(v for v, _ in views) == sorted(VIEWS)
    assert all(comment for _, comment in views), views
    undocumented = conn.execute(
        """select c.relname || '.' || a.attname
             from pg_class c join pg_attribute a on a.attrelid = c.oid
            where c.relkind = 'v' and c.relnamespace = current_schema()::regnamespace
              and a.attnum > 0 and not a.attisdropped
              and col_description(c.oid, a.attnum) is null""").fetchall()
    assert undocumented == []


def test_run_summaries(seeded: psycopg.Connection[Any]) -> None:
    by_name = {r["run_name"]: r for r in rows(seeded, "select * from run_summaries")}
    assert set(by_name) == {"train dqn v3", "search lr/gamma", "backtest 2024-01"}
    train = by_name["train dqn v3"]
    assert train["experiment_name"] == SEED_EXPERIMENT
    assert train["duration"] == timedelta(hours=2, minutes=30)
    assert train["duration_s"] == 9000.0
    assert (train["sharpe"], train["total_return"], train["max_drawdown"]) == (1.42, 0.274, 0.118)
    assert train["tags"] == {"gpu": True}
    search = by_name["search lr/gamma"]
    assert search["status"] == "running" and search["duration"] is None
    assert search["sharpe"] is None and search["trial_count"] == 10


def test_leaderboard_ranks_completed_runs_per_metric(seeded: psycopg.Connection[Any]) -> None:
    board = rows(seeded, """select * from leaderboard
                             where experiment_name = %s and metric = 'sharpe'
                             order by rank_desc""", SEED_EXPERIMENT)
    assert [r["rank_desc"] for r in board] == [1, 2]
    assert [r["rank_asc"] for r in board] == [2, 1]
    assert board[0]["value"] >= board[1]["value"]
    assert all(r["runs_ranked"] == 2 for r in board)
    # The running search reports best_sharpe, but a running run is not ranked.
    assert rows(seeded, "select * from leaderboard where metric = 'best_sharpe'") == []


def test_leaderboard_filter_on_experiment_name_is_pushed_below_the_window(
        seeded: psycopg.Connection[Any]) -> None:
    plan = "\n".join(r["QUERY PLAN"] for r in rows(
        seeded, "explain select * from leaderboard where experiment_name = 'x' and metric = 'y'"))
    window_at = plan.index("WindowAgg")
    assert "'x'::text" in plan[window_at:], plan  # filtered in the scan, under the window


def test_model_registry(seeded: psycopg.Connection[Any]) -> None:
    [model] = rows(seeded, "select * from model_registry")
    assert model["model_name"] == "seed-momentum-dqn" and model["experiment_name"] == SEED_EXPERIMENT
    assert (model["versions"], model["latest_version"], model["production_version"]) == (2, 2, 2)
    assert model["latest_status"] == "production"
    assert model["production_metrics"] == {"sharpe": 1.42, "max_drawdown": 0.118}
    assert model["artifact_bytes"] == len(WEIGHTS)
    went_live = seeded.execute(
        """select changed_at from model_version_transitions
            where model_version_id = %s and to_status = 'production'""",
        [model["production_version_id"]]).fetchone()["changed_at"]
    assert model["production_since"] == went_live
    assert model["production_age"] >= timedelta(0)


def test_model_registry_without_production_or_versions(
        seeded: psycopg.Connection[Any]) -> None:
    seeded.execute("update model_versions set status = 'archived' where status = 'production'")
    seeded.execute("""insert into models (run_id, model_type, name)
                      select id, 'lgbm', 'empty-model' from runs limit 1""")
    by_name = {r["model_name"]: r for r in rows(seeded, "select * from model_registry")}
    assert by_name["seed-momentum-dqn"]["production_version"] is None
    assert by_name["seed-momentum-dqn"]["production_age"] is None
    empty = by_name["empty-model"]
    assert (empty["versions"], empty["latest_version"], empty["artifact_bytes"]) == (0, None, 0)


def test_trials(seeded: psycopg.Connection[Any]) -> None:
    trials = rows(seeded, """select * from trials where experiment_name = %s
                              order by objective_value desc nulls last""", SEED_EXPERIMENT)
    assert len(trials) == 10
    assert {t["search_run_name"] for t in trials} == {"search lr/gamma"}
    assert [t["status"] for t in trials[-2:]] == ["pruned", "pruned"]
    assert trials[0]["objective_value"] == max(t["objective_value"] or -1e9 for t in trials)
    assert all(t["duration"] is not None and t["duration"] >= timedelta(0) for t in trials)
    assert trials[0]["parameters"].keys() == {"learning_rate", "gamma"}


def test_run_statistics_has_a_column_per_stored_statistic(
        db: Database, seeded: psycopg.Connection[Any]) -> None:
    trading = pytest.importorskip("resultsdb.stats.trading")
    keys = (*trading.STATS_KEYS, trading.VERSION_KEY, trading.PERIODS_KEY, trading.RISK_FREE_KEY)
    columns = {r["attname"] for r in rows(
        seeded, "select attname from pg_attribute where attrelid = 'run_statistics'::regclass")}
    assert set(keys) <= columns

    backtest = seeded.execute("select id from runs where name = 'backtest 2024-01'").fetchone()["id"]
    stats = trading.compute_stats(db, backtest, None, 8760, 0.0)
    [row] = rows(seeded, "select * from run_statistics where run_id = %s", backtest)
    assert row["sharpe"] == pytest.approx(stats.sharpe)
    assert row["trade_count"] == stats.trade_count == 120
    assert row["stats_version"] == stats.stats_version
    assert row["stats_periods_per_year"] == 8760
    assert not set(row["other_metrics"]) & set(keys)  # the rest only

    [train] = rows(seeded, "select * from run_statistics where run_name = 'train dqn v3'")
    assert train["sharpe"] == 1.42 and train["cagr"] is None and train["stats_version"] is None
    assert train["other_metrics"] == {"episodes": 500}
