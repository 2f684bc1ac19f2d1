"""The hot-path shortcuts of Database: single-statement writes and the round-trip-free pre-ping.

Both exist for speed (benchmarks/bench_api.py); these tests pin down that they keep
write()'s guarantees: one transaction, transient failures retried, an interrupted
commit never retried, savepoints inside a transaction, dead connections replaced.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest

from resultsdb.config import Settings
from resultsdb.connecting import pre_ping
from resultsdb.db import Database
from resultsdb.errors import (
    CommitOutcomeUnknown,
    ConstraintViolation,
    DatabaseError,
    TransientError,
)

Connection = psycopg.Connection[Any]


def names(conn: Connection) -> list[str]:
    return [r[0] for r in conn.execute("select name from experiments order by name").fetchall()]


def backend_pid(db: Database) -> int:
    with db.connection() as c:
        row = c.execute("select pg_backend_pid()").fetchone()
    assert row is not None
    return int(row[0])


def terminate(conn: Connection, pid: int) -> None:
    conn.execute("select pg_terminate_backend(%s)", (pid,))
    # The session's FATAL message and the closed socket reach the client asynchronously.
    for _ in range(200):
        if not conn.execute("select 1 from pg_stat_activity where pid = %s", (pid,)).fetchone():
            return
        time.sleep(0.01)


# -- write_statement ------------------------------------------------------------------------


def test_write_statement_runs_without_begin_and_commits(db: Database, conn: Connection) -> None:
    def fn(c: Connection) -> str:
        # Autocommit: no transaction block is open around the statement.
        assert c.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        c.execute("insert into experiments (name) values ('one')")
        return "done"

    assert db.write_statement(fn) == "done"
    assert names(conn) == ["one"]


def test_write_statement_retries_a_transient_failure(db: Database, conn: Connection) -> None:
    calls: list[int] = []

    def fn(c: Connection) -> None:
        calls.append(1)
        if len(calls) == 1:
            c.execute("do $$ begin raise exception using errcode = '40001'; end $$")
        c.execute("insert into experiments (name) values ('after retry')")

    db.write_statement(fn)
    assert len(calls) == 2
    assert names(conn) == ["after retry"]


def test_write_statement_maps_errors_and_never_retries_a_constraint(db: Database) -> None:
    calls: list[int] = []

    def fn(c: Connection) -> None:
        calls.append(1)
        c.execute("insert into experiments (name, status) values ('x', 'bogus')")

    with pytest.raises(ConstraintViolation) as info:
        db.write_statement(fn)
    assert calls == [1]
    assert info.value.constraint == "experiments_status_valid"


def test_write_statement_broken_mid_statement_is_commit_outcome_unknown(
        db: Database, conn: Connection) -> None:
    calls: list[int] = []

    def fn(c: Connection) -> None:
        calls.append(1)
        # The session ends while the statement runs: it may have committed, or not.
        c.execute("insert into experiments (name) values ('lost?'); "
                  "select pg_terminate_backend(pg_backend_pid())")

    with pytest.raises(CommitOutcomeUnknown) as info:
        db.write_statement(fn)
    assert calls == [1]  # never retried
    assert "may or may not" in str(info.value)
    assert isinstance(info.value.__cause__, psycopg.OperationalError)


def test_write_statement_inside_a_transaction_is_a_savepoint(db: Database, conn: Connection) -> None:
    def fn(c: Connection) -> None:
        c.execute("insert into experiments (name) values ('inner')")
        c.execute("do $$ begin raise exception using errcode = '40001'; end $$")

    with db.transaction() as outer:
        outer.execute("insert into experiments (name) values ('outer')")
        with pytest.raises(TransientError):
            db.write_statement(fn)
    assert names(conn) == ["outer"]


# -- pre-ping -------------------------------------------------------------------------------


def test_a_connection_the_server_ended_is_replaced_before_use(db: Database, conn: Connection) -> None:
    pid = backend_pid(db)
    terminate(conn, pid)
    # The pool holds the dead connection; the check sees the server's goodbye and the
    # pool hands out a fresh one: the write goes through, once, on another session.
    db.write_statement(lambda c: c.execute("insert into experiments (name) values ('fresh')"))
    assert names(conn) == ["fresh"]
    assert backend_pid(db) != pid


def test_pre_ping_passes_a_live_idle_connection_and_raises_for_a_dead_one(
        db_url: str, conn: Connection) -> None:
    with psycopg.connect(db_url, autocommit=True) as c:
        pre_ping(c)  # alive, idle, nothing to read: no error
        pid = c.info.backend_pid
        terminate(conn, pid)
        with pytest.raises(psycopg.OperationalError):
            pre_ping(c)


# -- connections go back to the pool -----------------------------------------------------------


def test_every_call_returns_its_connection_whatever_it_raised(db_url: str) -> None:
    """write_statement and read check a connection out and back in without a context
    manager: a failure of any kind must still give it back, or a small pool runs dry."""

    def constraint(c: Connection) -> None:
        c.execute("insert into experiments (name, status) values ('x', 'bogus')")

    def python_error(c: Connection) -> None:
        raise KeyError("not the database's fault")

    def sql_error(c: Connection) -> None:
        c.execute("select no_such_column from experiments")

    settings = Settings(pool_min_size=1, pool_max_size=2, pool_timeout=2.0)
    with Database(settings, url=db_url) as small:
        for _ in range(5):  # more failures than the pool has connections
            for call in (small.write_statement, small.read):
                for fn, error in ((constraint, ConstraintViolation), (python_error, KeyError),
                                  (sql_error, DatabaseError)):
                    with pytest.raises(error):
                        call(fn)
        stats = small.pool.get_stats()
        assert stats["pool_available"] == stats["pool_size"] <= 2
        assert stats.get("requests_waiting", 0) == 0
        # Both connections can be held at once: none was lost to a failed call.
        with small.connection() as first, small.connection() as second:
            assert first is not second
            for c in (first, second):
                assert c.execute("select 1").fetchone() == (1,)
