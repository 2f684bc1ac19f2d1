"""`resultsdb health` and `resultsdb stats`: every check passes on a migrated database,
each one fails when its subject is broken, and the exit code says so."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from resultsdb import migrate, ops
from resultsdb.config import Settings
from resultsdb.db import Database
from resultsdb.seed import WEIGHTS, seed

runner = CliRunner()


def settings(db_url: str, tmp_path: Path, **extra: Any) -> Settings:
    return Settings(**{"url": db_url, "artifacts_url": (tmp_path / "artifacts").as_uri(), **extra})


def cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    from resultsdb.cli import app

    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_a_migrated_database_is_healthy(db_url: str, tmp_path: Path) -> None:
    with Database(settings(db_url, tmp_path)) as db:
        report = ops.health(db, months_ahead=3)
    assert report.healthy, report
    assert [c.name for c in report.checks] == [
        "database", "connection", "migrations", "partitions", "pool", "artifact_store"]
    assert all(c.status == "ok" for c in report.checks)
    assert report.check("migrations").data["pending"] == []
    assert {"equity_curves", "trade_logs"} <= set(report.check("partitions").data["tables"])
    pool = report.check("pool").data
    assert pool["pool_max"] == 10 and pool["pool_size"] >= 1
    assert report.check("connection").data["latency_ms"] > 0


def test_missing_partition_ahead_is_unhealthy(db_url: str, conn: Any, tmp_path: Path) -> None:
    nxt = conn.execute("""select to_char(date_trunc('month', now() + interval '1 month', 'UTC')
                                         at time zone 'UTC', 'YYYYMM')""").fetchone()[0]
    conn.execute(f"drop table equity_curves_p{nxt}")
    with Database(settings(db_url, tmp_path)) as db:
        report = ops.health(db, months_ahead=1)
        assert not report.healthy
        assert report.check("partitions").data["missing"] == [f"equity_curves_p{nxt}"]
        assert ops.health(db, months_ahead=0).healthy  # the current month is there


def test_pending_and_unknown_migrations_are_unhealthy(db_url: str, conn: Any, tmp_path: Path) -> None:
    with Database(settings(db_url, tmp_path)) as db:
        [last] = migrate.rollback(db, steps=1)
        check = ops.health(db).check("migrations")
        assert check.status == "fail" and check.data["pending"] == [last]
        assert "resultsdb migrate" in check.detail
        migrate.migrate(db)
        conn.execute("""insert into _yoyo_migration (migration_hash, migration_id, applied_at_utc)
                        values ('f00d', '9999_from_the_future', now())""")
        check = ops.health(db).check("migrations")
        assert check.status == "fail" and check.data["unknown_applied"] == ["9999_from_the_future"]


def test_artifact_store_unknown_without_the_module_and_failing_when_unusable(
        db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Database(settings(db_url, tmp_path, artifacts_url="nosuchscheme://bucket/x")) as db:
        check = ops.health(db).check("artifact_store")
        assert check.status == "fail" and "nosuchscheme" in check.detail
        monkeypatch.setitem(sys.modules, "resultsdb.artifacts", None)  # import fails
        report = ops.health(db)
        assert report.check("artifact_store").status == "unknown"
        assert report.healthy  # unknown is not a failure


def test_cli_health_exit_codes_and_json(db_url: str, conn: Any, tmp_path: Path) -> None:
    env = {"RESULTSDB_ARTIFACTS_URL": (tmp_path / "a").as_uri()}
    code, out, _ = cli("--url", db_url, "health", env=env)
    assert code == 0 and "healthy" in out
    code, out, _ = cli("--url", db_url, "--json", "health", "--months-ahead", "3", env=env)
    assert code == 0
    report = json.loads(out)
    assert report["healthy"] is True and {c["status"] for c in report["checks"]} == {"ok"}

    code, out, _ = cli("--url", db_url, "--json", "health", "--months-ahead", "5", env=env)
    assert code == 2  # migrate made only 3 months ahead
    assert json.loads(out)["healthy"] is False


@pytest.mark.slow
def test_cli_health_reports_an_unreachable_server_without_its_password(tmp_path: Path) -> None:
    env = {"RESULTSDB_CONNECT_TIMEOUT": "1", "RESULTSDB_POOL_TIMEOUT": "1",
           "RESULTSDB_ARTIFACTS_URL": (tmp_path / "a").as_uri()}
    url = "postgresql://someone:hunter2-secret@127.0.0.1:1/nothing"
    code, out, err = cli("--url", url, "--json", "health", env=env)
    assert code == 2, err
    report = json.loads(out)
    assert report["healthy"] is False
    [connection] = [c for c in report["checks"] if c["name"] == "connection"]
    assert connection["status"] == "fail" and "127.0.0.1" in connection["detail"]
    assert "hunter2" not in out + err
    assert [c["name"] for c in report["checks"]] == ["database", "connection", "artifact_store"]
    assert "hunter2" not in report["checks"][0]["detail"]


def test_stats_sizes_rows_partitions_and_artifact_bytes(db: Database, conn: Any) -> None:
    seed(db)
    conn.execute("analyze")
    report = ops.stats(db)
    tables = {t.table_name: t for t in report.tables}
    assert tables["equity_curves"].partitioned and tables["equity_curves"].partitions >= 5
    assert tables["equity_curves"].row_estimate == 300
    assert tables["trade_logs"].row_estimate == 120
    assert tables["runs"].row_estimate == 3 and not tables["runs"].partitioned
    assert all(t.total_bytes >= t.table_bytes + t.index_bytes for t in report.tables)
    assert report.partitions == sum(t.partitions for t in report.tables)
    assert report.artifacts.artifact_count == 1
    assert report.artifacts.artifact_bytes == report.artifacts.distinct_bytes == len(WEIGHTS)
    assert report.database_bytes > sum(t.total_bytes for t in report.tables)
    assert "equity_curves_p" not in str([t.table_name for t in report.tables])  # summed in


def test_cli_stats(db_url: str, db: Database) -> None:
    seed(db)
    code, out, _ = cli("--url", db_url, "--json", "stats")
    assert code == 0
    report = json.loads(out)
    assert report["artifacts"]["artifact_bytes"] == len(WEIGHTS)
    assert {"runs", "equity_curves", "trade_logs"} <= {t["table_name"] for t in report["tables"]}
    code, out, _ = cli("--url", db_url, "stats")
    assert code == 0 and "partitions" in out and "artifact_bytes" in out and "KiB" in out


def test_human_bytes() -> None:
    assert [ops.human_bytes(n) for n in (0, 1023, 1536, 5 * 1024**3, 2 * 1024**5)] == [
        "0 B", "1023 B", "1.5 KiB", "5.0 GiB", "2048.0 TiB"]


@pytest.mark.parametrize("command", ["health", "stats", "roles"])
def test_help_shows_a_runnable_example(command: str) -> None:
    code, out, _ = cli(command, "--help")
    assert code == 0
    assert "resultsdb " + command in out.split("Example:", 1)[1]
