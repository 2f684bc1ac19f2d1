"""Data snapshots: the data range and feature set a run used."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from resultsdb.inputs import DataSnapshotCreate, DataSnapshotUpdate, as_id, as_limit, validate
from resultsdb.records import DataSnapshot, Run
from resultsdb.repositories.common import Connection, IdLike, after_id, update_row

TABLE = "data_snapshots"
UPDATABLE = frozenset({"storage_path", "content_hash", "size_bytes"})


def get(conn: Connection, id: IdLike) -> DataSnapshot:
    """The snapshot with this id; NotFound when there is none."""
    return conn.q.data_snapshot_by_id(id=as_id(id, table=TABLE))


def list_page(conn: Connection, *, limit: int = 100,
              after: IdLike | None = None) -> list[DataSnapshot]:
    """Up to ``limit`` snapshots after the id ``after``, oldest first."""
    return conn.q.data_snapshots_page(limit=as_limit(limit), after=after_id(after))


def by_run(conn: Connection, run_id: IdLike) -> list[DataSnapshot]:
    """The snapshots a run used, oldest first."""
    return conn.q.data_snapshots_of_run(run_id=as_id(run_id, field="run_id", table=TABLE))


def runs_using(conn: Connection, snapshot_id: UUID) -> list[Run]:
    """The runs that used the same data as this snapshot (same features, source and range)."""
    return conn.q.runs_using_snapshot(snapshot_id=snapshot_id)


def create(conn: Connection, data: DataSnapshotCreate | Mapping[str, Any]) -> DataSnapshot:
    """Record the data a run used; ReferenceNotFound when the run does not exist."""
    row = validate(DataSnapshotCreate, data, table=TABLE)
    return conn.q.insert_data_snapshot(**row.model_dump())


def update(conn: Connection, id: IdLike, /, **changes: Any) -> DataSnapshot:
    """Fill in or move the stored copy: storage_path, content_hash, size_bytes."""
    row_id = as_id(id, table=TABLE)
    return update_row(changes, model=DataSnapshotUpdate, updatable=UPDATABLE, table=TABLE,
                      apply=lambda patch: conn.q.update_data_snapshot(id=row_id, patch=patch),
                      current=lambda: conn.q.data_snapshot_by_id(id=row_id))


def delete(conn: Connection, id: IdLike) -> None:
    """Delete a snapshot row (not any stored copy)."""
    conn.q.delete_data_snapshot(id=as_id(id, table=TABLE))
