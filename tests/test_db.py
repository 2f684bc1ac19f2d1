"""Database: transactions and savepoints, retries of transient failures, timeouts, UTC."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from psycopg import errors as pgerrors
from psycopg_pool import ConnectionPool

from resultsdb.config import Settings
from resultsdb.db import Database
from resultsdb.errors import (
    CommitOutcomeUnknown,
    ConstraintViolation,
    DatabaseError,
    DatabaseUnavailable,
    ResultsDBError,
    Timeout,
    TransientError,
)
from resultsdb.repositories import catalog
from tests.threads import Call

Connection = psycopg.Connection[Any]


def names(conn: Connection) -> list[str]:
    return [r[0] for r in conn.execute("select name from experiments order by name").fetchall()]


def add(conn: Connection, name: str) -> None:
    conn.execute("insert into experiments (name) values (%s)", (name,))


class Boom(Exception):
    pass


# -- transactions -------------------------------------------------------------------------


def test_transaction_commits(db: Database, conn: Connection) -> None:
    with db.transaction() as tx:
        add(tx, "a")
        assert db.in_transaction()
        assert names(conn) == []  # not visible outside before COMMIT
    assert not db.in_transaction()
    assert names(conn) == ["a"]


def test_transaction_rolls_back_when_the_block_raises(db: Database, conn: Connection) -> None:
    with pytest.raises(Boom), db.transaction() as tx:
        add(tx, "a")
        raise Boom
    assert names(conn) == []
    assert not db.in_transaction()


def test_nested_transaction_is_a_savepoint(db: Database, conn: Connection) -> None:
    with db.transaction() as outer:
        add(outer, "outer")
        with pytest.raises(Boom), db.transaction() as inner:
            assert inner is outer  # same connection, same transaction
            add(inner, "inner")
            raise Boom
        with db.transaction() as inner:
            add(inner, "kept")
        assert names(outer) == ["kept", "outer"]
    assert names(conn) == ["kept", "outer"]


def test_failed_statement_in_a_savepoint_leaves_the_outer_transaction_usable(
        db: Database, conn: Connection) -> None:
    with db.transaction() as outer:
        add(outer, "outer")
        with pytest.raises(ConstraintViolation), db.transaction() as inner:
            inner.execute("insert into experiments (name, status) values ('bad', 'bogus')")
        add(outer, "after")
    assert names(conn) == ["after", "outer"]


def test_outer_failure_rolls_back_the_committed_savepoint(db: Database, conn: Connection) -> None:
    with pytest.raises(Boom), db.transaction():
        with db.transaction() as inner:
            add(inner, "inner")
        raise Boom
    assert names(conn) == []


def test_psycopg_errors_leave_as_resultsdb_errors(db: Database) -> None:
    with pytest.raises(ResultsDBError) as info, db.transaction() as tx:
        tx.execute("select * from no_such_table")
    assert isinstance(info.value.__cause__, pgerrors.UndefinedTable)
    with pytest.raises(ConstraintViolation), db.connection() as c:
        c.execute("insert into experiments (name) values ('')")


# -- retries --------------------------------------------------------------------------------


class Counted:
    """``fn(conn, call_number)`` as the ``fn(conn)`` db.write/read take; records each call."""

    def __init__(self, fn: Callable[[Connection, int], Any]) -> None:
        self.fn = fn
        self.calls: list[int] = []

    def __call__(self, conn: Connection) -> Any:
        self.calls.append(len(self.calls) + 1)
        return self.fn(conn, len(self.calls))


def raise_sqlstate(conn: Connection, sqlstate: str) -> None:
    """Make the server raise that error (so it goes through the real psycopg mapping)."""
    conn.execute(f"do $$ begin raise exception 'simulated' using errcode = '{sqlstate}'; end $$")


@pytest.mark.parametrize(("sqlstate", "raised_by"), [
    ("40001", "server"),  # serialization_failure
    ("40P01", "server"),  # deadlock_detected
    ("40001", "python"),
])
def test_write_retries_a_transient_failure(
        db: Database, conn: Connection, sqlstate: str, raised_by: str) -> None:
    def fn(tx: Connection, call: int) -> str:
        add(tx, f"try{call}")
        if call == 1:
            if raised_by == "server":
                raise_sqlstate(tx, sqlstate)
            raise pgerrors.SerializationFailure("could not serialize access")
        return "done"

    run = Counted(fn)
    assert db.write(run) == "done"
    assert run.calls == [1, 2]
    assert names(conn) == ["try2"]  # the failed attempt was rolled back


def test_write_gives_up_after_retry_attempts(db_url: str) -> None:
    run = Counted(lambda tx, call: raise_sqlstate(tx, "40001"))
    with Database(Settings(retry_attempts=3), url=db_url) as db, pytest.raises(TransientError):
        db.write(run)
    assert run.calls == [1, 2, 3]


def test_write_never_retries_a_constraint_violation(db: Database) -> None:
    run = Counted(lambda tx, call: tx.execute(
        "insert into experiments (name, status) values ('x', 'bogus')"))
    with pytest.raises(ConstraintViolation) as info:
        db.write(run)
    assert run.calls == [1]
    assert info.value.constraint == "experiments_status_valid"


def test_commit_outcome_unknown_is_never_retried(db: Database, conn: Connection) -> None:
    assert issubclass(CommitOutcomeUnknown, DatabaseError)
    assert not issubclass(CommitOutcomeUnknown, TransientError | DatabaseUnavailable)
    # The server dies while COMMIT runs: a deferred trigger ends its own session.
    conn.execute("""
        create function die_at_commit() returns trigger language plpgsql as $$
        begin perform pg_terminate_backend(pg_backend_pid()); return null; end $$;
        create constraint trigger experiments_die_at_commit after insert on experiments
            deferrable initially deferred for each row execute function die_at_commit();
    """)

    run = Counted(lambda tx, call: add(tx, "lost?"))
    with pytest.raises(CommitOutcomeUnknown) as info:
        db.write(run)
    assert run.calls == [1]
    assert "may or may not" in str(info.value)
    assert isinstance(info.value.__cause__, psycopg.OperationalError)

    def raise_it(tx: Connection, call: int) -> None:
        raise CommitOutcomeUnknown("raised by the function itself")

    run = Counted(raise_it)
    with pytest.raises(CommitOutcomeUnknown):
        db.write(run)
    assert run.calls == [1]


def test_write_inside_a_transaction_runs_once_as_a_savepoint(
        db: Database, conn: Connection) -> None:
    def fn(tx: Connection, call: int) -> None:
        add(tx, "inner")
        raise_sqlstate(tx, "40001")

    run = Counted(fn)
    with db.transaction() as outer:
        add(outer, "outer")
        with pytest.raises(TransientError):
            db.write(run)
    assert run.calls == [1]  # retrying is the outermost caller's business
    assert names(conn) == ["outer"]


def test_read_retries_a_transient_failure(db: Database) -> None:
    def fn(c: Connection, call: int) -> int:
        if call < 3:
            raise_sqlstate(c, "40P01")
        return c.execute("select 42").fetchone()[0]

    run = Counted(fn)
    assert db.read(run) == 42
    assert run.calls == [1, 2, 3]


# -- timeouts and time zones ----------------------------------------------------------------


def test_statement_timeout_raises_timeout(db_url: str) -> None:
    run = Counted(lambda c, call: c.execute("select pg_sleep(2)"))
    with Database(Settings(statement_timeout_ms=200), url=db_url) as db:
        started = time.monotonic()
        with pytest.raises(Timeout) as info:
            db.read(run)
        assert time.monotonic() - started < 1.5
        assert run.calls == [1]  # a timeout is not retried
        assert isinstance(info.value, TimeoutError)
        assert isinstance(info.value.__cause__, pgerrors.QueryCanceled)
        with db.connection() as c:  # the connection is usable again
            assert c.execute("show statement_timeout").fetchone()[0] == "200ms"


def test_datetimes_read_back_are_utc_aware(db_url: str, conn: Connection) -> None:
    dbname = conn.info.dbname
    conn.execute(f'alter database "{dbname}" set timezone to \'America/New_York\'')
    with psycopg.connect(db_url) as plain:  # the database default now is New York
        local = plain.execute("select '2024-01-15 12:00:00+00'::timestamptz").fetchone()[0]
        assert local.utcoffset() == timedelta(hours=-5)

    with Database(url=db_url) as db, db.connection() as c:
        at, now = c.execute("select '2024-01-15 12:00:00+00'::timestamptz, now()").fetchone()
        assert at.utcoffset() == timedelta(0) and at.hour == 12
        assert now.utcoffset() == timedelta(0)
        [applied] = catalog.applied_migrations(c)[:1]
        assert applied.applied_at.utcoffset() == timedelta(0)


# -- pools ------------------------------------------------------------------------------------


def test_threads_making_their_first_replica_read_together_open_one_pool(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[ConnectionPool[Connection]] = []
    open_pool = Database._open_pool

    def slow_open_pool(self: Database, conninfo: str, name: str) -> ConnectionPool[Connection]:
        time.sleep(0.05)  # every thread is past its "no pool yet" check before one is set
        pool = open_pool(self, conninfo, name)
        opened.append(pool)
        return pool

    monkeypatch.setattr(Database, "_open_pool", slow_open_pool)
    db = Database(Settings(url=db_url, read_url=db_url))  # a replica URL: the same server will do
    start = threading.Barrier(8)

    def first_replica_read() -> int:
        start.wait()
        return int(db.read(lambda c: c.execute("select 1").fetchone()[0], replica=True))

    threads = [Call(first_replica_read) for _ in range(8)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert [t.outcome for t in threads] == [1] * 8
        assert [p.name for p in opened] == ["resultsdb-read"]  # one pool; none for the primary
    finally:
        db.close()
        for pool in opened:
            pool.close()


def test_a_connect_timeout_in_the_url_is_not_overridden_by_the_setting() -> None:
    from resultsdb.config import Settings

    given = Database(Settings(connect_timeout=10), url="postgresql://u@127.0.0.1:1/x?connect_timeout=2")
    assert given._connect_kwargs(given.conninfo)["connect_timeout"] == 2
    default = Database(Settings(connect_timeout=7), url="postgresql://u@127.0.0.1:1/x")
    assert default._connect_kwargs(default.conninfo)["connect_timeout"] == 7
    # each connection string its own: a replica's URL decides for the replica
    replica = "postgresql://r@127.0.0.1:1/x?connect_timeout=3"
    assert default._connect_kwargs(replica)["connect_timeout"] == 3
    assert given._connect_kwargs("postgresql://r@127.0.0.1:1/x")["connect_timeout"] == 10
