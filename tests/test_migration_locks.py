"""Migrations and the partitions migrate makes give up on a lock they cannot get within
RESULTSDB_DDL_LOCK_TIMEOUT_MS, instead of queueing every query on the table behind them."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from resultsdb import _paths, migrate
from resultsdb.config import Settings
from resultsdb.db import Database
from resultsdb.errors import MigrationError, Timeout


def last_partition_ahead() -> str:
    """The equity_curves partition of the third month from now, the last migrate makes."""
    now = datetime.now(UTC)
    return f"equity_curves_p{now.year + (now.month + 2) // 12}{(now.month + 2) % 12 + 1:02d}"


def impatient(db_url: str) -> Database:
    # statement_timeout bounds what a wait without lock_timeout would be.
    return Database(Settings(url=db_url, ddl_lock_timeout_ms=300,  # type: ignore[arg-type]
                             statement_timeout_ms=20_000))


def test_a_migration_step_gives_up_on_a_lock_it_cannot_get_in_time(
        db_url: str, conn: psycopg.Connection, tmp_path: Path) -> None:
    directory = tmp_path / "migrations"
    shutil.copytree(_paths.migrations_dir(), directory)
    forward, _ = migrate.new_migration("add_x", directory=directory)
    forward.write_text(forward.read_text() + "alter table runs add column x integer;\n")
    conn.execute("begin")
    conn.execute("select count(*) from runs")  # a long reader: ACCESS SHARE until it ends
    with impatient(db_url) as db, ThreadPoolExecutor(1) as pool:
        job = pool.submit(migrate.migrate, db, directory=directory)
        try:
            failed = job.exception(timeout=30)
        finally:
            conn.execute("rollback")  # a step that waits for ever can finish now
    assert isinstance(failed, MigrationError), failed
    assert "the step being applied: gave up waiting for a lock after 300 ms " \
           "(RESULTSDB_DDL_LOCK_TIMEOUT_MS)" in str(failed)
    with impatient(db_url) as db:
        assert migrate.status(db, directory=directory)[-1].applied is False
        assert conn.execute("select count(*) from pg_attribute where attrelid = 'runs'::regclass "
                            "and attname = 'x'").fetchone() == (0,)
        assert migrate.migrate(db, directory=directory) == [forward.name.removesuffix(".sql")]


def test_migrate_gives_up_on_making_a_partition_it_cannot_lock_in_time(
        db_url: str, conn: psycopg.Connection) -> None:
    ahead = last_partition_ahead()
    conn.execute(f"drop table {ahead}")
    conn.execute("begin")
    conn.execute("lock table equity_curves_default in access share mode")  # attaching waits for it
    try:
        with impatient(db_url) as db, pytest.raises(Timeout, match="creating the series "
                                                    "partitions ahead: gave up waiting for a lock"):
            migrate.migrate(db)
    finally:
        conn.execute("rollback")
    assert conn.execute("select to_regclass(%s)", (ahead,)).fetchone() == (None,)
    with impatient(db_url) as db:
        migrate.migrate(db)
    assert conn.execute("select to_regclass(%s)::text", (ahead,)).fetchone() == (ahead,)


def test_partition_maintenance_from_sql_gives_up_on_a_lock_it_cannot_get_in_time(
        conn: psycopg.Connection, db_url: str) -> None:
    ahead = last_partition_ahead()
    conn.execute(f"drop table {ahead}")
    with psycopg.connect(db_url, autocommit=True) as reader:
        reader.execute("begin")
        reader.execute("lock table equity_curves_default in access share mode")
        # What a cron job runs; statement_timeout bounds a wait without lock_timeout.
        conn.execute("set statement_timeout = '20s'")
        with pytest.raises(psycopg.errors.LockNotAvailable, match="lock timeout"):
            conn.execute("select maintain_series_partitions(3)")
        reader.execute("rollback")
    assert conn.execute("select to_regclass(%s)", (ahead,)).fetchone() == (None,)
    assert conn.execute("select maintain_series_partitions(3)").fetchall() == [(ahead,)]
