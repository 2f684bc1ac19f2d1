"""A connection killed after the COPY, just before or during COMMIT, and the write retried:
the rows are stored exactly once.

Before COMMIT: another session holds an uncommitted row with the same batch key, so the
writer, its COPY done, waits on that row's lock; it is terminated there (the server
rolls its transaction back). During COMMIT: with a synchronous standby configured that
does not exist, COMMIT flushes locally, then waits for the standby; terminating it then
leaves a transaction that committed while its client saw the connection die.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pandas as pd
import psycopg
import pytest

from resultsdb import series
from resultsdb.db import Database
from resultsdb.errors import DatabaseUnavailable
from resultsdb.records import Run
from tests.conftest import wait_for_backend
from tests.series.conftest import curve
from tests.threads import Call

N = 20_000


def generator(frame: pd.DataFrame) -> Iterator[tuple[Any, ...]]:
    for row in frame.itertuples(index=False):
        yield (row.ts.to_pydatetime(), row.portfolio_value, row.benchmark_value)


@pytest.fixture
def blocker(db_url: str, run: Run) -> Iterator[psycopg.Connection]:
    """A session holding, uncommitted, a series_batches row with the key 'kill-me'."""
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "insert into series_batches (run_id, model_id, kind, batch_key, row_count, checksum) "
            "values (%s, null, 'equity', 'kill-me', 0, repeat('0', 64))", (run.id,))
        yield conn


def kill_after_copy(conn: psycopg.Connection) -> None:
    """Terminate the writer once it waits on the blocker's row, with its rows copied."""
    pid = wait_for_backend(conn, "wait_event_type = 'Lock' and query like 'insert into series_batches%'")
    copied = conn.execute(
        "select count(*) from pg_locks where pid = %s and mode = 'RowExclusiveLock' "
        "and relation::regclass::text like 'equity_curves%%'", (pid,)).fetchone()[0]
    assert copied >= 1, "the writer should hold the locks of its COPY into equity_curves"
    assert conn.execute("select pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)


def stored(conn: psycopg.Connection, run: Run) -> tuple[int, list[tuple[str, int]]]:
    rows = conn.execute("select count(*) from equity_curves where run_id = %s", (run.id,)).fetchone()[0]
    batches = conn.execute("select batch_key, row_count from series_batches where run_id = %s "
                           "order by batch_key", (run.id,)).fetchall()
    return rows, batches


def test_killed_before_commit_the_write_is_retried_and_stored_once(
        db: Database, run: Run, blocker: psycopg.Connection, conn: psycopg.Connection,
        caplog: pytest.LogCaptureFixture) -> None:
    frame = curve(N)
    writer = Call(lambda: series.write_equity(db, run, None, frame, batch_key="kill-me"))
    with caplog.at_level(logging.WARNING, logger="resultsdb.db"):
        writer.start()
        kill_after_copy(conn)
        blocker.rollback()  # the key is free again for the retry
        writer.join(60)
    assert not writer.is_alive()
    assert not isinstance(writer.outcome, BaseException), writer.outcome
    assert writer.outcome.written and writer.outcome.row_count == N
    assert "retrying after DatabaseUnavailable" in caplog.text  # the first attempt did die
    assert stored(conn, run) == (N, [("kill-me", N)])
    again = series.write_equity(db, run, None, frame, batch_key="kill-me")
    assert not again.written and stored(conn, run) == (N, [("kill-me", N)])


def test_a_killed_stream_asks_for_a_retry_which_stores_it_once(
        db: Database, run: Run, blocker: psycopg.Connection, conn: psycopg.Connection) -> None:
    frame = curve(N)
    writer = Call(lambda: series.write_equity(db, run, None, generator(frame), batch_key="kill-me"))
    writer.start()
    kill_after_copy(conn)
    writer.join(60)
    assert isinstance(writer.outcome, DatabaseUnavailable), writer.outcome
    assert stored(conn, run) == (0, [])  # rolled back: nothing of the first attempt remains
    blocker.rollback()
    retry = series.write_equity(db, run, None, generator(frame), batch_key="kill-me")
    assert retry.written and stored(conn, run) == (N, [("kill-me", N)])
    assert not series.write_equity(db, run, None, generator(frame), batch_key="kill-me").written
    assert stored(conn, run) == (N, [("kill-me", N)])


@pytest.mark.parametrize("kind", ["frame", "generator"])
def test_killed_during_commit_the_stored_batch_is_found_not_written_twice(
        db_url: str, run: Run, conn: psycopg.Connection, commit_waits_for_a_missing_standby: None,
        caplog: pytest.LogCaptureFixture, kind: str) -> None:
    frame = curve(N)

    def data() -> Any:
        return frame if kind == "frame" else generator(frame)

    with Database(url=db_url) as db:  # connections made after the database-level setting
        writer = Call(lambda: series.write_equity(db, run, None, data()))
        with caplog.at_level(logging.WARNING, logger="resultsdb.series.ingest"):
            writer.start()
            pid = wait_for_backend(conn, "wait_event = 'SyncRep'")
            assert stored(conn, run)[0] == 0  # not visible while COMMIT waits
            conn.execute("select pg_terminate_backend(%s)", (pid,))
            writer.join(60)
        assert not isinstance(writer.outcome, BaseException), writer.outcome
        assert writer.outcome.written and writer.outcome.row_count == N
        assert "COMMIT was cut off but the batch is stored" in caplog.text
        rows, batches = stored(conn, run)
        assert rows == N and [count for _, count in batches] == [N]
        # The caller, not trusting the outcome, writes again: nothing more is stored (and
        # nothing commits, or it would wait for the standby too).
        again = series.write_equity(db, run, None, data())
        assert not again.written and again.batch.batch_key == batches[0][0]
        assert stored(conn, run) == (rows, batches)
