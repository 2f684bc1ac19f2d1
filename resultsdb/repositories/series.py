"""Series of a run: equity curves and trade logs, their batches and month partitions.

The rows travel by binary COPY (:mod:`resultsdb.series` encodes and decodes them); this
module starts those COPY statements and runs the small queries around them: locks, the
batch ledger, partition maintenance.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from uuid import UUID

import psycopg

from resultsdb.records import PartitionName, SeriesBatch, SeriesPartition
from resultsdb.records import SeriesKind as Kind
from resultsdb.records import SeriesTable as Parent
from resultsdb.repositories.common import Connection

# -- COPY in and out -------------------------------------------------------------------

def copy_in(conn: Connection, kind: Kind) -> AbstractContextManager[psycopg.Copy]:
    """COPY FROM STDIN (binary) into equity_curves or trade_logs."""
    return conn.q.copy_equity_in() if kind == "equity" else conn.q.copy_trades_in()


def copy_equity_out(conn: Connection, run_id: UUID, model_id: UUID | None, start: datetime | None,
                    end: datetime | None) -> AbstractContextManager[psycopg.Copy]:
    """COPY TO STDOUT (binary) of one curve in time order, within [start, end)."""
    return conn.q.copy_equity_out(run_id=run_id, model_id=model_id, start=start, end=end)


def copy_equity_out_downsampled(conn: Connection, run_id: UUID, model_id: UUID | None,
                                start: datetime | None, end: datetime | None, every: timedelta,
                                origin: datetime) -> AbstractContextManager[psycopg.Copy]:
    """COPY TO STDOUT of one curve, M4-downsampled to buckets of ``every`` from ``origin``."""
    return conn.q.copy_equity_out_downsampled(run_id=run_id, model_id=model_id, start=start,
                                              end=end, every=every, origin=origin)


def copy_trades_out(conn: Connection, run_id: UUID, model_id: UUID | None, start: datetime | None,
                    end: datetime | None) -> AbstractContextManager[psycopg.Copy]:
    """COPY TO STDOUT (binary) of one trade log in seq order, trades within [start, end)."""
    return conn.q.copy_trades_out(run_id=run_id, model_id=model_id, start=start, end=end)


def copy_partition_out(conn: Connection, parent: Parent,
                       partition: str) -> AbstractContextManager[psycopg.Copy]:
    """COPY TO STDOUT of every row of one month partition, as stored (archive)."""
    if parent == "equity_curves":
        return conn.q.copy_equity_partition_out(partition=partition)
    return conn.q.copy_trades_partition_out(partition=partition)


def copy_partition_in(conn: Connection, parent: Parent,
                      partition: str) -> AbstractContextManager[psycopg.Copy]:
    """COPY FROM STDIN into one month partition (restore)."""
    if parent == "equity_curves":
        return conn.q.copy_equity_partition_in(partition=partition)
    return conn.q.copy_trades_partition_in(partition=partition)


# -- one write -------------------------------------------------------------------------

def lock_run(conn: Connection, run_id: UUID) -> bool:
    """Lock the run FOR KEY SHARE, as a foreign-key check would; False when it does not exist."""
    return conn.q.lock_series_run(run_id=run_id) is not None


def lock_model(conn: Connection, model_id: UUID) -> bool:
    """Lock the model FOR KEY SHARE; False when it does not exist."""
    return conn.q.lock_series_model(model_id=model_id) is not None


def lock_writer(conn: Connection, kind: Kind, run_id: UUID, model_id: UUID | None) -> None:
    """Serialise writers of one series until the transaction ends."""
    conn.q.lock_series_writer(kind=kind, run_id=run_id, model_id=model_id)


def may_skip_foreign_keys(conn: Connection) -> bool:
    """Whether this session may set session_replication_role."""
    return conn.q.may_skip_series_foreign_keys()


def replication_role(conn: Connection) -> str:
    return conn.q.session_replication_role()


def set_replication_role(conn: Connection, role: str) -> None:
    """Set session_replication_role until the transaction (or savepoint) ends."""
    conn.q.set_session_replication_role(role=role)


def next_trade_seq(conn: Connection, run_id: UUID, model_id: UUID | None) -> int:
    """The seq after the last one of a trade log (0 for an empty log)."""
    return conn.q.next_trade_seq(run_id=run_id, model_id=model_id)


def equity_peak_before(conn: Connection, run_id: UUID, model_id: UUID | None,
                       before: datetime | None) -> float | None:
    """The highest portfolio_value of a curve before ``before`` (None: no earlier point)."""
    return conn.q.equity_peak_before(run_id=run_id, model_id=model_id, before=before)


# -- the batch ledger ------------------------------------------------------------------

def batch_by_key(conn: Connection, run_id: UUID, model_id: UUID | None, kind: Kind,
                 batch_key: str) -> SeriesBatch | None:
    """The batch of this series stored under ``batch_key``, if any."""
    return conn.q.series_batch_by_key(run_id=run_id, model_id=model_id, kind=kind,
                                      batch_key=batch_key)


def insert_batch(conn: Connection, *, run_id: UUID, model_id: UUID | None, kind: Kind,
                 batch_key: str, row_count: int, first_ts: datetime | None,
                 last_ts: datetime | None, checksum: str) -> SeriesBatch | None:
    """Record a written batch; None when the key is taken (the write must roll back)."""
    return conn.q.insert_series_batch(
        run_id=run_id, model_id=model_id, kind=kind, batch_key=batch_key, row_count=row_count,
        first_ts=first_ts, last_ts=last_ts, checksum=checksum)


def batches_of_run(conn: Connection, run_id: UUID) -> list[SeriesBatch]:
    """Every batch written to a run's series, oldest first."""
    return conn.q.series_batches_of_run(run_id=run_id)


# -- month partitions ------------------------------------------------------------------

def ensure_run_partition(conn: Connection, run_id: UUID) -> list[PartitionName]:
    """Create the series partitions of the month the run was created in; those created."""
    return conn.q.ensure_run_series_partition(run_id=run_id)


def ensure_month_partition(conn: Connection, month: datetime) -> list[PartitionName]:
    """Create the series partitions of the month holding ``month``; those created."""
    return conn.q.ensure_month_series_partition(month=month)


def month_partitions(conn: Connection, before: datetime) -> list[SeriesPartition]:
    """The month partitions holding only runs created before ``before``."""
    return conn.q.series_month_partitions(before=before)


def partition_by_name(conn: Connection, name: str) -> SeriesPartition | None:
    """The attached month partition called ``name``, if any."""
    return conn.q.series_partition_by_name(name=name)


def lock_partition_for_archive(conn: Connection, partition: str) -> None:
    """Block writes to the partition, not reads, until the transaction ends."""
    conn.q.lock_partition_for_archive(partition=partition)


def drop_partition(conn: Connection, partition: str) -> None:
    """Drop an archived month partition (directly: DETACH would lock runs and models)."""
    conn.q.drop_series_partition(partition=partition)
