"""Faults: the server SIGKILLed mid-write and started again; typed errors; what is retried.

The kills use a private embedded server (``private_server``): its postmaster is sent
SIGKILL - no shutdown, no checkpoint - while a 2M-row series COPY or a save_model is in
flight, and started again with ``embedded.start``. The same ResultsDB object (the same
pool) is then used: the Python process is never restarted.

Already proven elsewhere (not repeated here):
- a connection killed just before / during COMMIT of a series batch, retried, stores it
  once: tests/series/test_retry.py;
- a COMMIT cut off is CommitOutcomeUnknown and never retried, statement_timeout is
  Timeout: tests/test_db.py;
- each SQLSTATE's class, and that exactly the transient ones are retried (by write, read
  and write_statement, never inside a caller's transaction): tests/test_sqlstate.py.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from resultsdb import series
from resultsdb.api import ResultsDB
from resultsdb.artifacts import ArtifactStore
from resultsdb.config import Settings
from resultsdb.db import Database
from resultsdb.errors import (
    CommitOutcomeUnknown,
    DatabaseUnavailable,
    NotFound,
    Timeout,
)
from tests.reliability.conftest import PrivateServer
from tests.series.conftest import curve
from tests.threads import Call

Connection = psycopg.Connection[Any]
BIG = 2_000_000


def wait_until(check: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def fast_failing(url: str, **extra: Any) -> Settings:
    """Settings whose calls give up within seconds while the server is down."""
    return Settings(url=url, pool_timeout=2.0, connect_timeout=2, **extra)


def scalar(url: str, query: str, *params: Any) -> Any:
    with psycopg.connect(url, autocommit=True) as c:
        row = c.execute(query, params).fetchone()
        assert row is not None
        return row[0]


# -- SIGKILL of the server -------------------------------------------------------------


@pytest.mark.slow
def test_server_killed_mid_ingest_of_2m_rows_leaves_no_partial_batch_and_the_pool_recovers(
        private_server: PrivateServer) -> None:
    frame = curve(BIG)
    with ResultsDB(fast_failing(private_server.url)) as rdb:
        run = rdb.start_run(rdb.start_experiment("kill-ingest"), "big")
        write = Call(lambda: series.write_equity(rdb.db, run, None, frame, batch_key="big-1"))
        with psycopg.connect(private_server.url, autocommit=True) as watch:
            write.start()

            def copying() -> bool:
                row = watch.execute("select coalesce(max(tuples_processed), 0) "
                                    "from pg_stat_progress_copy").fetchone()
                return bool(row and row[0] >= 200_000)
            wait_until(copying, what="the COPY to be under way")
            private_server.kill()
        write.join(120)
        assert not write.is_alive()
        # The server stayed down through every retry: a typed error, not a hang or a psycopg error.
        assert isinstance(write.outcome, DatabaseUnavailable | Timeout), write.outcome
        private_server.wait_down()
        private_server.restart()

        # Nothing of the killed COPY is visible: no rows, no batch row.
        assert scalar(private_server.url, "select count(*) from equity_curves where run_id = %s",
                      run.id) == 0
        assert scalar(private_server.url, "select count(*) from series_batches") == 0

        # The same object, the same pool: reads and the retried write work.
        assert rdb.get_run(run).id == run.id
        first = series.write_equity(rdb.db, run, None, frame, batch_key="big-1")
        assert first.written and first.row_count == BIG
        again = series.write_equity(rdb.db, run, None, frame, batch_key="big-1")
        assert not again.written
    assert scalar(private_server.url, "select count(*) from equity_curves where run_id = %s",
                  run.id) == BIG
    assert scalar(private_server.url,
                  "select count(*), sum(row_count) from series_batches where run_id = %s "
                  "group by run_id", run.id) == 1
    assert private_server.kills == 1


@pytest.mark.slow
def test_server_killed_mid_save_model_leaves_no_version_and_a_retry_adds_exactly_one(
        private_server: PrivateServer, tmp_path: Path) -> None:
    store = ArtifactStore((tmp_path / "store").as_uri())
    url = private_server.url
    with ResultsDB(fast_failing(url), artifact_store=store) as rdb:
        run = rdb.start_run(rdb.start_experiment("kill-save"), "train")
        first = rdb.save_model(run, b"weights v1", "dqn", name="killed")
        payload = b"weights v2" * 100_000
        digest = hashlib.sha256(payload).hexdigest()

        # Hold the model row, so the second save waits inside its transaction (its blob
        # claimed and published, its version row not yet written) - then kill the server.
        blocker = psycopg.connect(url)
        blocker.execute("select * from models where name = 'killed' for update")
        save = Call(lambda: rdb.save_model(run, payload, "dqn", name="killed"))
        save.start()
        with psycopg.connect(url, autocommit=True) as watch:
            wait_until(lambda: watch.execute(
                "select count(*) from pg_stat_activity where wait_event_type = 'Lock' "
                "and datname = current_database()").fetchone()[0] > 0,  # type: ignore[index]
                what="save_model to wait on the model row")
            private_server.kill()
        save.join(120)
        assert isinstance(save.outcome, DatabaseUnavailable | Timeout), save.outcome
        blocker.close()
        private_server.wait_down()
        private_server.restart()

        def versions() -> list[tuple[int, str]]:
            with psycopg.connect(url, autocommit=True) as c:
                return [(int(v), str(h)) for v, h in c.execute(
                    "select v.version, a.content_hash from model_versions v "
                    "join model_artifacts a on a.model_version_id = v.id "
                    "where v.model_id = %s order by 1", (first.model.id,)).fetchall()]

        assert versions() == [(1, first.artifact.content_hash)]  # no half-saved version 2
        retried = rdb.save_model(run, payload, "dqn", name="killed")  # same object, same pool
        assert retried.version.version == 2
    assert versions() == [(1, first.artifact.content_hash), (2, digest)]
    assert scalar(url, "select count(*) from blobs where content_hash = %s", digest) == 1
    assert scalar(url, "select version_count from models where id = %s", first.model.id) == 2
    assert store.get(digest) == payload
    assert sum(1 for h in store.blob_hashes() if h == digest) == 1


@pytest.mark.slow
@pytest.mark.parametrize("call", ["read", "write_statement"])
def test_a_first_call_while_the_server_is_down_is_retried_until_the_pool_opens(
        private_server: PrivateServer, call: str) -> None:
    """A Database whose pool has never opened, called while the server is down: opening
    the pool is part of each attempt, so the call succeeds once the server is back
    within the retries, instead of failing on the first attempt."""
    private_server.kill()
    private_server.wait_down()
    restart = Call(lambda: (time.sleep(1.0), private_server.restart()))
    db = Database(fast_failing(private_server.url, retry_attempts=8))  # opens on first use
    try:
        restart.start()
        value = getattr(db, call)(lambda c: c.execute("select 42").fetchone()[0])
        restart.join(60)
    finally:
        db.close()
    assert value == 42
    assert not isinstance(restart.outcome, BaseException), restart.outcome


@pytest.mark.slow
def test_server_killed_after_trial_starts_keeps_every_finished_trial_and_numbers_gapless(
        private_server: PrivateServer) -> None:
    """Trial starts commit without waiting for their WAL flush; finishes wait. A crash may
    forget starts that no durable commit followed - never a finished trial, never a
    number in the middle - and a forgotten trial's finish says NotFound."""
    url = private_server.url
    with psycopg.connect(url, autocommit=True) as c:  # the WAL writer flushes rarely: a
        c.execute("alter system set wal_writer_delay = '10s'")  # crash is likely to lose starts
        c.execute("select pg_reload_conf()")
    with ResultsDB(fast_failing(url)) as rdb:
        run = rdb.start_run(rdb.start_experiment("kill-trials"), "search",
                            run_type="hyperparameter_tuning")
        finished = [rdb.finish_trial(rdb.start_trial(run, {"i": i}), float(i)) for i in range(3)]
        pending = [rdb.start_trial(run, {"i": i}) for i in range(3, 6)]  # nothing flushes these
        assert [t.trial_number for t in pending] == [4, 5, 6]
        private_server.kill()
        private_server.wait_down()
        private_server.restart()

        trials = rdb.trials(run)  # the same pool, recovered
        numbers = [t.trial_number for t in trials]
        assert numbers == list(range(1, len(numbers) + 1))  # gapless: a prefix survived
        assert [(t.id, t.status, t.objective_value) for t in trials[:3]] == [
            (t.id, "completed", t.objective_value) for t in finished]
        kept = {t.id for t in trials}
        for trial in pending:
            if trial.id in kept:
                assert rdb.finish_trial(trial, 9.0).status == "completed"
            else:
                with pytest.raises(NotFound):
                    rdb.finish_trial(trial, 9.0)
        assert rdb.get_run(run).trial_count == len(numbers)
        assert rdb.start_trial(run).trial_number == len(numbers) + 1  # numbering goes on
    assert private_server.kills == 1


# -- typed errors, and what is retried --------------------------------------------------


class Counted:
    """``fn(conn, call)`` as db.read/db.write take it; ``calls`` lists each attempt."""

    def __init__(self, fn: Callable[[Connection, int], Any]) -> None:
        self.fn = fn
        self.calls = 0

    def __call__(self, conn: Connection) -> Any:
        self.calls += 1
        return self.fn(conn, self.calls)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connection_refused_is_database_unavailable_retried_with_backoff(
        caplog: pytest.LogCaptureFixture) -> None:
    url = f"postgresql://nobody@127.0.0.1:{free_port()}/nothing"
    settings = Settings(url=url, pool_min_size=0, pool_timeout=0.5, connect_timeout=1,
                        retry_attempts=4)
    fn = Counted(lambda c, call: 1)
    with Database(settings) as db, caplog.at_level(logging.WARNING, logger="resultsdb.db"):
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable) as info:
            db.read(fn)
        elapsed = time.monotonic() - started
    assert "refused" in str(info.value) or "connect" in str(info.value)
    assert fn.calls == 0  # never reached a connection
    retries = [r for r in caplog.records if "retrying after DatabaseUnavailable" in r.getMessage()]
    assert len(retries) == 3  # 4 attempts
    # Backoff: exponential waits of at least 0.05 + 0.1 + 0.2 s between the attempts.
    assert elapsed >= 0.35


def test_connection_refused_at_open_is_database_unavailable() -> None:
    url = f"postgresql://nobody@127.0.0.1:{free_port()}/nothing"
    with pytest.raises(DatabaseUnavailable):
        ResultsDB(Settings(url=url, connect_timeout=1)).open()


def test_lost_connection_on_a_read_is_retried_on_a_new_connection(db_url: str) -> None:
    def fn(conn: Connection, call: int) -> int:
        if call == 1:
            conn.execute("select pg_terminate_backend(pg_backend_pid())")
        return int(conn.execute("select 7").fetchone()[0])  # type: ignore[index]

    run = Counted(fn)
    with Database(url=db_url) as db:
        assert db.read(run) == 7
    assert run.calls == 2


def test_lost_connection_before_commit_is_retried_and_stores_one_row(db_url: str) -> None:
    def fn(conn: Connection, call: int) -> None:
        conn.execute("insert into experiments (name) values ('lost-once')")
        if call == 1:
            pid = conn.info.backend_pid
            with psycopg.connect(db_url, autocommit=True) as other:  # killed from outside
                other.execute("select pg_terminate_backend(%s)", (pid,))
                wait_until(lambda: other.execute("select count(*) from pg_stat_activity "
                                                 "where pid = %s", (pid,)).fetchone() == (0,),
                           what="the backend to end")
            conn.execute("select 1")  # the body sees the loss, before COMMIT is sent

    run = Counted(fn)
    with Database(url=db_url) as db:
        db.write(run)
    assert run.calls == 2
    assert scalar(db_url, "select count(*) from experiments where name = 'lost-once'") == 1


def test_lost_connection_during_a_single_statement_write_is_commit_outcome_unknown(db_url: str) -> None:
    run = Counted(lambda c, call: c.execute("select pg_terminate_backend(pg_backend_pid())"))
    with Database(url=db_url) as db, pytest.raises(CommitOutcomeUnknown):
        db.write_statement(run)
    assert run.calls == 1  # its outcome is unknown: never retried


def test_statement_timeout_on_a_write_is_timeout_and_not_retried(db_url: str) -> None:
    run = Counted(lambda c, call: c.execute("select pg_sleep(5)"))
    with Database(Settings(statement_timeout_ms=100), url=db_url) as db:
        with pytest.raises(Timeout):
            db.write(run)
        assert run.calls == 1
        assert db.read(lambda c: c.execute("select 1").fetchone()[0]) == 1  # pool still usable
