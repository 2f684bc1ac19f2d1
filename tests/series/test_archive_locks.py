"""What archive, restore and partition creation lock, and for how long.

An archive uploads while holding nothing that blocks readers or writers: other months
are read and written, the month itself is read and even written (its drop then refuses),
and a model delete cascades through every partition. A restore downloads without holding
the DEFAULT partition. Each DDL step gives up after RESULTSDB_DDL_LOCK_TIMEOUT_MS rather
than queue everyone behind it. Uploads and downloads are held at a gate while another
session checks.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import fsspec
import psycopg
import pytest

from resultsdb import series
from resultsdb.config import Settings
from resultsdb.db import Database
from resultsdb.errors import SeriesArchiveError, Timeout
from resultsdb.records import Experiment, Model, Run
from tests.conftest import wait_for_backend
from tests.series.conftest import curve, trades

MARCH = datetime(2024, 3, 15, tzinfo=UTC)
APRIL = date(2024, 4, 1)
WAIT = "2s"  # how long this test's own statements wait for a lock before failing


class _GatedFile:
    """A file whose first read, or first write of rows (past the 4-byte Parquet magic),
    waits at its gate."""

    def __init__(self, f: Any, gate: Gate) -> None:
        self.f, self.gate = f, gate

    def write(self, data: Any) -> Any:
        if len(data) > 4:
            self.gate.hold()
        return self.f.write(data)

    def read(self, *args: Any) -> Any:
        self.gate.hold()
        return self.f.read(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.f, name)

    def __enter__(self) -> _GatedFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.f.close()


class Gate:
    """An archive store (here a local folder) whose Parquet files, opened in ``mode``, stop
    at their first data until the test opens the gate."""

    def __init__(self, fs: Any, mode: str) -> None:
        self.fs, self.mode = fs, mode
        self.reached, self.opened = threading.Event(), threading.Event()

    def hold(self) -> None:
        if not self.reached.is_set():
            self.reached.set()
            assert self.opened.wait(60), "the test never opened the gate"

    def open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        f = self.fs.open(path, mode, **kwargs)
        data = path.endswith((".parquet", ".parquet.partial"))
        return _GatedFile(f, self) if data and mode.startswith(self.mode) else f

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fs, name)


class Gates:
    """The gated stores fsspec.core.url_to_fs has made since the test asked for them."""

    def __init__(self) -> None:
        self.made: list[Gate] = []

    def wait(self) -> None:
        deadline = time.monotonic() + 30
        while not any(g.reached.is_set() for g in self.made):
            assert time.monotonic() < deadline, "nothing reached the gate"
            time.sleep(0.01)

    def open(self) -> None:
        for gate in self.made:
            gate.opened.set()


@pytest.fixture
def gated(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Gates]:
    """``gated("w")``: archives' uploads stop at a gate from now on; ``gated("r")``:
    restores' downloads do."""
    real = fsspec.core.url_to_fs

    def start(mode: str) -> Gates:
        gates = Gates()

        def url_to_fs(url: str, **options: Any) -> tuple[Any, str]:
            fs, root = real(url, **options)
            gates.made.append(Gate(fs, mode))
            return gates.made[-1], root

        monkeypatch.setattr(fsspec.core, "url_to_fs", url_to_fs)
        return gates

    return start


@contextmanager
def in_background(fn: Callable[[], Any], gates: Gates) -> Iterator[Future[Any]]:
    """``fn()`` in a thread; the gates open when the block ends, however it ends."""
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(fn)
        try:
            yield future
        finally:
            gates.open()


def run_made(conn: psycopg.Connection, experiment: Experiment, at: datetime) -> uuid.UUID:
    return conn.execute("insert into runs (id, experiment_id) values (uuid_v7(%s), %s) returning id",
                        (at, experiment.id)).fetchone()[0]


def relations(conn: psycopg.Connection, pattern: str) -> list[str]:
    return [r[0] for r in conn.execute(
        "select relname::text from pg_class where relname like %s and relkind = 'r' order by 1",
        (pattern,))]


@pytest.fixture
def old_run(db: Database, conn: psycopg.Connection, experiment: Experiment) -> uuid.UUID:
    """A March 2024 run with a curve and a trade log."""
    run_id = run_made(conn, experiment, MARCH)
    series.write_equity(db, run_id, None, curve(3000, seed=7))
    series.write_trades(db, run_id, None, trades(700, seed=8))
    return run_id


@pytest.fixture
def other(conn: psycopg.Connection) -> psycopg.Connection:
    """``conn``, waiting at most WAIT for any lock: a statement that would queue fails."""
    conn.execute(f"set lock_timeout = '{WAIT}'")
    return conn


def relation_locks(conn: psycopg.Connection, pid: int) -> dict[str, set[str]]:
    rows = conn.execute("select relation::regclass::text, mode from pg_locks "
                        "where pid = %s and locktype = 'relation' and granted", (pid,)).fetchall()
    locks: dict[str, set[str]] = {}
    for relation, mode in rows:
        locks.setdefault(relation, set()).add(mode)
    return locks


def test_an_archive_uploads_holding_nothing_that_blocks_reads_or_writes(
        db: Database, other: psycopg.Connection, old_run: uuid.UUID, run: Run, model: Model,
        gated: Callable[[str], Gates], tmp_path: Path) -> None:
    series.write_equity(db, run.id, model.id, curve(50))  # this month, of the model deleted below
    gates = gated("w")
    with in_background(lambda: series.archive(db, APRIL, tmp_path.as_uri()), gates) as archived:
        gates.wait()
        pid = wait_for_backend(other, "query ilike 'copy %to stdout%' and state <> 'idle'")
        # The COPY streaming into the upload holds ACCESS SHARE on the partition, no more.
        held = relation_locks(other, pid)
        assert "equity_curves_p202403" in held, held
        assert set().union(*held.values()) == {"AccessShareLock"}, held
        assert other.execute("select count(*) from equity_curves where run_id = %s",
                             (old_run,)).fetchone() == (3000,)
        other.execute("insert into equity_curves (run_id, ts, portfolio_value) values (%s, now(), 1)",
                      (run.id,))
        # ON DELETE CASCADE reaches every partition, the one being archived too.
        other.execute("delete from models where id = %s", (model.id,))
        gates.open()
        done = archived.result(timeout=60)
    assert [(m.name, m.rows) for m in done] == [("equity_curves_p202403", 3000), ("trade_logs_p202403", 700)]
    assert relations(other, "%p202403") == []
    assert other.execute("select count(*) from equity_curves where run_id = %s", (run.id,)).fetchone() == (1,)


def test_rows_written_to_a_month_during_its_upload_keep_it_from_being_dropped(
        db: Database, other: psycopg.Connection, old_run: uuid.UUID,
        gated: Callable[[str], Gates], tmp_path: Path) -> None:
    gates = gated("w")
    with in_background(lambda: series.archive(db, APRIL, tmp_path.as_uri()), gates) as archived:
        gates.wait()
        other.execute("insert into equity_curves (run_id, ts, portfolio_value) values (%s, now(), 1)",
                      (old_run,))
        gates.open()
        with pytest.raises(SeriesArchiveError, match=r"its rows changed while it was being "
                                                     r"archived \(it holds 3001 rows, 3000 were exported"):
            archived.result(timeout=60)
    assert relations(other, "%p202403") == ["equity_curves_p202403", "trade_logs_p202403"]
    assert other.execute("select count(*) from equity_curves where run_id = %s",
                         (old_run,)).fetchone() == (3001,)
    assert list(tmp_path.iterdir()) == []  # neither a manifest nor a data file is left


def test_an_archive_gives_up_on_a_lock_it_cannot_get_in_time(
        db: Database, db_url: str, other: psycopg.Connection, old_run: uuid.UUID, tmp_path: Path) -> None:
    other.execute("begin")
    other.execute("lock table equity_curves in access share mode")  # a long reader
    # statement_timeout: without lock_timeout the drop would wait behind the reader for ever.
    settings = Settings(url=db_url, ddl_lock_timeout_ms=300, statement_timeout_ms=20_000)  # type: ignore[arg-type]
    started = time.monotonic()
    with Database(settings) as impatient, pytest.raises(Timeout) as err:
        series.archive(impatient, APRIL, tmp_path.as_uri())
    assert time.monotonic() - started < 15
    assert "dropping equity_curves_p202403 once archived: gave up waiting for a lock after 300 ms " \
           "(RESULTSDB_DDL_LOCK_TIMEOUT_MS)" in str(err.value)
    other.execute("rollback")
    assert relations(other, "%p202403") == ["equity_curves_p202403", "trade_logs_p202403"]
    assert list(tmp_path.iterdir()) == []
    assert [m.rows for m in series.archive(db, APRIL, tmp_path.as_uri())] == [3000, 700]


def test_a_restore_downloads_without_holding_the_default_partition(
        db: Database, other: psycopg.Connection, old_run: uuid.UUID, experiment: Experiment,
        gated: Callable[[str], Gates], tmp_path: Path) -> None:
    series.archive(db, APRIL, tmp_path.as_uri())
    stray = run_made(other, experiment, datetime(2019, 5, 1, tzinfo=UTC))  # a month with no partition
    gates = gated("r")
    restore = lambda: series.restore(db, tmp_path.as_uri(), names=["equity_curves_p202403"])  # noqa: E731
    with in_background(restore, gates) as restored:
        gates.wait()
        pid = wait_for_backend(other, "query ilike 'copy %from stdin%' and state = 'active'")
        held = relation_locks(other, pid)
        assert "equity_curves_default" not in held and "equity_curves" not in held, held
        # A read that includes the DEFAULT partition, and a write that lands in it.
        assert other.execute("select count(*) from equity_curves where model_id is null").fetchone() == (0,)
        other.execute("insert into equity_curves (run_id, ts, portfolio_value) values (%s, now(), 1)",
                      (stray,))
        gates.open()
        restored.result(timeout=60)
    assert other.execute("select count(*) from equity_curves where run_id = %s",
                         (old_run,)).fetchone() == (3000,)


def test_a_restore_gives_up_on_a_lock_it_cannot_get_in_time(
        db: Database, db_url: str, other: psycopg.Connection, old_run: uuid.UUID, tmp_path: Path) -> None:
    series.archive(db, APRIL, tmp_path.as_uri())
    other.execute("begin")
    other.execute("lock table equity_curves_default in access share mode")
    settings = Settings(url=db_url, ddl_lock_timeout_ms=300, statement_timeout_ms=20_000)  # type: ignore[arg-type]
    with Database(settings) as impatient, pytest.raises(Timeout, match="restoring equity_curves_p202403"):
        series.restore(impatient, tmp_path.as_uri(), names=["equity_curves_p202403"])
    other.execute("rollback")
    assert relations(other, "%p202403") == []
    series.restore(db, tmp_path.as_uri(), names=["equity_curves_p202403"])
    assert other.execute("select count(*) from equity_curves").fetchone() == (3000,)


def test_a_write_that_cannot_create_its_month_in_time_goes_to_default(
        db_url: str, other: psycopg.Connection, experiment: Experiment) -> None:
    may = run_made(other, experiment, datetime(2019, 5, 10, tzinfo=UTC))
    other.execute("begin")
    other.execute("lock table equity_curves_default in access share mode")  # a long reader
    settings = Settings(url=db_url, ddl_lock_timeout_ms=300, statement_timeout_ms=20_000)  # type: ignore[arg-type]
    with Database(settings) as impatient:
        started = time.monotonic()
        series.write_equity(impatient, may, None, curve(10))
        assert time.monotonic() - started < 15
        other.execute("rollback")
        assert relations(other, "equity_curves_p201905") == []
        assert other.execute("select count(*) from equity_curves_default").fetchone() == (10,)
        # The next write makes the month, and the rows DEFAULT took move in.
        series.write_equity(impatient, may, None, curve(5, start=datetime(2030, 1, 1, tzinfo=UTC)))
    assert relations(other, "equity_curves_p201905") == ["equity_curves_p201905"]
    assert other.execute("select count(*) from equity_curves_p201905").fetchone() == (15,)
    assert other.execute("select count(*) from equity_curves_default").fetchone() == (0,)
