"""Migration 0008: the run_metrics rows 0004's back-fill dropped (zeros, magnitudes below
1e-300) are added, the ones it kept against the trigger's rule (exactly +-1e300) removed."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import psycopg

from resultsdb import _paths, migrate
from resultsdb.api import ResultsDB
from resultsdb.db import Database
from tests.migrations.conftest import Snapshot
from tests.migrations.harness import (
    Table,
    differences,
    migrate_with_data,
    migrations_up_to,
    snapshot,
    steps,
)

Reference = Callable[[bool], tuple[str, Snapshot]]
REPAIR = "0008_run_metrics_backfill_zeros"
BACKFILL = "0004_run_metrics"  # data written before it is what 0004 back-filled


def run_metrics(conninfo: str) -> dict[str, Table]:
    return {"run_metrics": snapshot(conninfo)["run_metrics"]}


def lowest_drawdowns(conninfo: str) -> list[tuple[str | None, float]]:
    with ResultsDB(url=conninfo) as rdb:
        return [(r.name, r.value) for r in rdb.leaderboard("seed-momentum", "max_drawdown", "min")]


def test_0008_restores_what_0004s_backfill_dropped(
        scratch_db: str, reference: Reference) -> None:
    with migrations_up_to(REPAIR) as before_repair:
        migrate_with_data(scratch_db, BACKFILL, directory=before_repair)

    _, head = reference(True)
    names = {r["id"]: r["name"] for r in head["runs"].rows.values()}
    missing, extra = set(), set()  # by the trigger's rule: < 1e-300 indexes as 0, 1e300 is out
    for run in head["runs"].rows.values():
        for key, value in run["summary_metrics"].items():
            if abs(Decimal(value)) < Decimal("1e-300"):
                missing.add((run["name"], key))
            elif abs(Decimal(value)) == Decimal("1e300"):
                extra.add((run["name"], key))
    assert ("flat: no drawdown", "max_drawdown") in missing and extra
    migrated, expected = snapshot(scratch_db)["run_metrics"].rows, head["run_metrics"].rows

    def named(keys: set[tuple[str, ...]], rows: dict[tuple[str, ...], dict[str, str]]
              ) -> set[tuple[str, str]]:
        return {(names[rows[k]["run_id"]], rows[k]["key"]) for k in keys}

    assert named(expected.keys() - migrated.keys(), expected) == missing
    assert named(migrated.keys() - expected.keys(), migrated) == extra
    found = differences(run_metrics(scratch_db), {"run_metrics": head["run_metrics"]}, {})
    assert len(found) == len(missing | extra)  # and nothing else
    assert "flat: no drawdown" not in dict(lowest_drawdowns(scratch_db))

    with Database(url=scratch_db) as db:
        applied = migrate.migrate(db)
    assert applied == steps()[steps().index(REPAIR):]
    assert differences(run_metrics(scratch_db), {"run_metrics": head["run_metrics"]}, {}) == []
    board = lowest_drawdowns(scratch_db)
    assert board[0] == ("flat: no drawdown", 0.0)
    assert [v for _, v in board] == sorted(v for _, v in board)


def test_0008_runs_again_without_change_and_its_rollback_keeps_the_rows(scratch_db: str) -> None:
    migrate_with_data(scratch_db, BACKFILL)
    repaired = run_metrics(scratch_db)
    with psycopg.connect(scratch_db) as conn:
        conn.execute((_paths.migrations_dir() / f"{REPAIR}.sql").read_text(encoding="utf-8"))
    assert run_metrics(scratch_db) == repaired

    ids = steps()
    with Database(url=scratch_db) as db:
        undone = migrate.rollback(db, steps=len(ids) - ids.index(REPAIR))
        assert undone[-1] == REPAIR
        assert run_metrics(scratch_db) == repaired
        migrate.migrate(db)
    assert run_metrics(scratch_db) == repaired
