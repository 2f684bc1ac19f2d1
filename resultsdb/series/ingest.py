"""Bulk writes of equity curves and trade logs: binary COPY, one transaction, once.

:func:`write_equity` and :func:`write_trades` take a DataFrame, an Arrow table, a
mapping of arrays or an iterable of records (see :mod:`resultsdb.series.sources`),
check it (:mod:`resultsdb.series.validate`), encode it with numpy
(:mod:`resultsdb.series.copybin`) and stream it through ``COPY ... FROM STDIN
(FORMAT BINARY)`` chunk by chunk, so memory stays bounded whatever the size.

**Atomic.** The rows and their ``series_batches`` row are one transaction: all of a
call is stored or none of it.

**Once.** Every write has a batch key: the caller's, or ``sha256:<checksum>`` of the
content. A call whose key is already stored returns that batch (``written=False``)
and writes nothing, so a retry after a lost connection never duplicates rows. When
the connection breaks during COMMIT the outcome is looked up by key: a committed
write is reported as written, an uncommitted one is retried when the input can be
read again, else :class:`~resultsdb.errors.DatabaseUnavailable` asks the caller to
retry. A key reused for different content is refused (AlreadyExists).

**One foreign-key check, not one per row.** Each row of a series refers to the same
run and model, and PostgreSQL's per-row foreign-key triggers were most of the cost
of a bulk load. When the session may set ``session_replication_role`` (a superuser,
or a role granted SET on it) the write locks the run and model rows ``FOR KEY
SHARE`` once - exactly what each per-row check would take - and copies with the
triggers off for that transaction only; otherwise the triggers run as usual. The
series tables have no triggers but those foreign keys (a test keeps it so).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from resultsdb.connection import Connection
from resultsdb.db import Database
from resultsdb.errors import (
    AlreadyExists,
    CommitOutcomeUnknown,
    DatabaseUnavailable,
    InvalidInput,
    ReferenceNotFound,
)
from resultsdb.fields import shown, text_problem
from resultsdb.inputs import ref_id
from resultsdb.records import Model, Run, SeriesBatch
from resultsdb.repositories import series as series_repo
from resultsdb.series import partitions
from resultsdb.series.copybin import HEADER, TRAILER, encode
from resultsdb.series.sources import Chunk, Source, source
from resultsdb.series.validate import Batch, EquityBatch, TradeBatch

log = logging.getLogger(__name__)

_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FOREIGN_KEY_BYPASS: weakref.WeakKeyDictionary[Database, bool] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class WriteResult:
    """The stored batch, and whether this call wrote it (False: it was there already)."""

    batch: SeriesBatch
    written: bool

    @property
    def row_count(self) -> int:
        return self.batch.row_count


def write_equity(db: Database, run: Any, model: Any, data: Any, *,
                 batch_key: str | None = None) -> WriteResult:
    """Store points (ts, portfolio_value[, benchmark_value, drawdown]) of a run's curve.

    ``model`` is the model whose curve it is, or None for the run's own. ``drawdown``
    is computed from portfolio_value's running peak (continuing from the curve's
    stored points before the first ts) where not given, and checked where given.
    Tuples are (ts, portfolio_value[, benchmark_value[, drawdown]]).
    """
    return _Write(db, EquityBatch, run, model, data, batch_key).run()


def write_trades(db: Database, run: Any, model: Any, data: Any, *,
                 batch_key: str | None = None) -> WriteResult:
    """Store trades (seq, ts, asset, action, price, quantity[, pnl, fee, slippage, metadata])
    of a run's log.

    ``seq`` is assigned when not given, continuing after the log's last one. ``fee`` and
    ``slippage`` are the trade's costs (finite, >= 0, or missing). Tuples are
    (ts, asset, action, price, quantity[, pnl[, metadata[, fee[, slippage]]]]).
    """
    return _Write(db, TradeBatch, run, model, data, batch_key).run()


def batches(db: Database, run: Any) -> list[SeriesBatch]:
    """Every batch written to a run's series, oldest first."""
    run_id = ref_id(run, field="run_id", table="series_batches", kind=Run)
    return db.read(lambda c: series_repo.batches_of_run(c, run_id))


def _batch_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not isinstance(key, str) or not 1 <= len(key) <= 255:
        raise InvalidInput(f"series_batches.batch_key: must be 1 to 255 characters, got {shown(key)}",
                           field="batch_key", table="series_batches")
    problem = text_problem(key)
    if problem is not None:
        raise InvalidInput(f"series_batches.batch_key: {problem}", field="batch_key",
                           table="series_batches")
    return key


def _timestamp(unix_us: int | None) -> datetime | None:
    return None if unix_us is None else _UNIX_EPOCH + timedelta(microseconds=unix_us)


class _AlreadyStored(Exception):
    """Raised inside the transaction to roll the copy back: the key was taken meanwhile."""


class _Write:
    def __init__(self, db: Database, batch_type: type[Batch], run: Any, model: Any, data: Any,
                 batch_key: str | None) -> None:
        self.db = db
        self.batch_type = batch_type
        self.table = batch_type.layout.table
        self.run_id = ref_id(run, field="run_id", table=self.table, kind=Run)
        self.model_id = (None if model is None
                         else ref_id(model, field="model_id", table=self.table, kind=Model))
        self.key = _batch_key(batch_key)
        self.source: Source = source(data, batch_type.layout)
        self.batch: Batch = batch_type()
        self.pending: Iterator[Chunk] = iter(())

    # -- the outcome ----------------------------------------------------------------------

    def run(self) -> WriteResult:
        partitions.ensure_for_run(self.db, self.run_id)
        if self.source.replayable:
            # Check everything, and know the key, before the server sees a byte.
            whole = self.batch_type()
            for chunk in self.source.chunks():
                whole.check(chunk)
            checksum = whole.hash.hexdigest()
            key = self.key or f"sha256:{checksum}"
            if (stored := self._stored(key)) is not None:
                return self._same(stored, checksum, written=False)
            return self._commit(lambda: self.db.write(lambda c: self._copy(c, checksum)))
        if self.key is not None and (stored := self._stored(self.key)) is not None:
            self._drain()
            return self._same(stored, self.batch.hash.hexdigest(), written=False)

        def once() -> SeriesBatch:
            with self.db.transaction() as conn:
                return self._copy(conn, None)

        return self._commit(once)

    def _commit(self, attempt: Callable[[], SeriesBatch]) -> WriteResult:
        cut_off = 0
        while True:
            try:
                return WriteResult(attempt(), written=True)
            except _AlreadyStored:
                return self._known_outcome(written=False)
            except AlreadyExists:
                # Rows of this batch are stored already (an earlier attempt committed): the
                # key says whether it is this batch or a genuine overlap.
                self._drain()
                stored = self._stored(self._key())
                if stored is None:
                    raise
                return self._same(stored, self.batch.hash.hexdigest(), written=False)
            except CommitOutcomeUnknown:
                self._drain()
                if (stored := self._stored(self._key())) is not None:
                    log.warning("%s: COMMIT was cut off but the batch is stored", self.table)
                    return self._same(stored, self.batch.hash.hexdigest(), written=True)
                cut_off += 1
                if not self.source.replayable or cut_off >= self.db.settings.retry_attempts:
                    raise DatabaseUnavailable(
                        f"{self.table}: the connection broke during COMMIT and the batch is not "
                        "stored; the input was consumed, so call again with it (a retry never "
                        "duplicates rows)") from None
                log.warning("%s: COMMIT was cut off and nothing is stored; writing again", self.table)

    def _known_outcome(self, *, written: bool) -> WriteResult:
        stored = self._stored(self._key())
        if stored is None:  # pragma: no cover - the key was taken inside our transaction
            raise DatabaseUnavailable(f"{self.table}: batch {self._key()!r} vanished")
        return self._same(stored, self.batch.hash.hexdigest(), written=written)

    def _key(self) -> str:
        return self.key or f"sha256:{self.batch.hash.hexdigest()}"

    def _stored(self, key: str) -> SeriesBatch | None:
        return self.db.read(lambda c: series_repo.batch_by_key(
            c, self.run_id, self.model_id, self.batch_type.kind, key))

    def _same(self, stored: SeriesBatch, checksum: str, *, written: bool) -> WriteResult:
        if stored.checksum != checksum:
            raise AlreadyExists(
                f"series_batches: batch {stored.batch_key!r} of this {self.table} series was "
                f"written with other content (checksum {stored.checksum[:12]}..., this batch "
                f"{checksum[:12]}...): use another batch key",
                constraint="series_batches_key", table="series_batches", field="batch_key",
                columns=("run_id", "model_id", "kind", "batch_key"))
        return WriteResult(stored, written=written)

    def _drain(self) -> None:
        """Read what is left of the input into the checksum (a stream cut off mid-copy)."""
        for chunk in self.pending:
            self.batch.check(chunk)
        self.pending = iter(())
        if not self.source.replayable and self.batch.rows == 0:
            for chunk in self.source.chunks():
                self.batch.check(chunk)

    # -- one transaction ------------------------------------------------------------------

    def _copy(self, conn: Connection, checksum: str | None) -> SeriesBatch:
        self.batch = batch = self.batch_type()
        self.pending = chunks = self.source.chunks()
        previous_role = self._lock_parents(conn)
        if isinstance(batch, TradeBatch):
            series_repo.lock_writer(conn, batch.kind, self.run_id, self.model_id)
            batch.next_seq = series_repo.next_trade_seq(conn, self.run_id, self.model_id)
        # The first chunk is checked before COPY starts: its first ts says where the curve's
        # running peak stands, and no query can run once the COPY has begun.
        first = next(chunks, None)
        checked_first = batch.check(first) if first is not None else None
        if isinstance(batch, EquityBatch) and checked_first is not None and checked_first.n:
            batch.peak = series_repo.equity_peak_before(conn, self.run_id, self.model_id,
                                                        _timestamp(batch.first_ts))
        if checked_first is not None:
            # A thread sends each chunk while the next is read, checked and encoded: the
            # server's work overlaps the client's, and no more than two chunks are in memory.
            with series_repo.copy_in(conn, batch.kind) as copy, \
                    ThreadPoolExecutor(1, thread_name_prefix="resultsdb-copy") as sender:
                copy.write(HEADER)
                checked = checked_first
                sent: Future[None] | None = None
                while True:
                    body = encode(batch.fields(checked, self.run_id, self.model_id), checked.n)
                    if sent is not None:
                        sent.result()  # the chunk before is with the server (or its error raised)
                    sent = sender.submit(copy.write, body.data)
                    chunk = next(chunks, None)
                    if chunk is None:
                        break
                    checked = batch.check(chunk)
                sent.result()
                copy.write(TRAILER)
        if previous_role is not None:
            series_repo.set_replication_role(conn, previous_role)
        digest = batch.hash.hexdigest()
        if checksum is not None and digest != checksum:
            raise InvalidInput(f"{self.table}: the input changed while it was being written "
                               "(its checksum differs from the first read)", table=self.table)
        inserted = series_repo.insert_batch(
            conn, run_id=self.run_id, model_id=self.model_id, kind=batch.kind,
            batch_key=self.key or f"sha256:{digest}", row_count=batch.rows,
            first_ts=_timestamp(batch.first_ts), last_ts=_timestamp(batch.last_ts), checksum=digest)
        if inserted is None:
            raise _AlreadyStored
        return inserted

    def _lock_parents(self, conn: Connection) -> str | None:
        """Check and lock the run and model; the session_replication_role to restore, if changed."""
        if not series_repo.lock_run(conn, self.run_id):
            raise ReferenceNotFound(f"{self.table}.run_id: refers to a run that does not exist "
                                    f"({self.run_id})", table=self.table, field="run_id",
                                    columns=("run_id",))
        if self.model_id is not None and not series_repo.lock_model(conn, self.model_id):
            raise ReferenceNotFound(f"{self.table}.model_id: refers to a model that does not exist "
                                    f"({self.model_id})", table=self.table, field="model_id",
                                    columns=("model_id",))
        if not may_skip_foreign_keys(self.db, conn):
            return None
        previous = series_repo.replication_role(conn)
        series_repo.set_replication_role(conn, "replica")
        return previous


def may_skip_foreign_keys(db: Database, conn: Connection) -> bool:
    """Whether bulk writes on ``db`` check the run and model once instead of once per row."""
    allowed = _FOREIGN_KEY_BYPASS.get(db)
    if allowed is None:
        allowed = series_repo.may_skip_foreign_keys(conn)
        _FOREIGN_KEY_BYPASS[db] = allowed
    return allowed
