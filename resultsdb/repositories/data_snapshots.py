"""Data snapshots: the data range and feature set a run used."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from resultsdb.inputs import DataSnapshotCreate, DataSnapshotUpdate, as_id, validate
from resultsdb.records import DataSnapshot
from resultsdb.repositories._base import (
    Connection,
    IdLike,
    delete_row,
    get_row,
    page,
    queries,
    update_row,
)

TABLE = "data_snapshots"
UPDATABLE = frozenset({"storage_path", "content_hash", "size_bytes"})


def get(conn: Connection, id: IdLike) -> DataSnapshot:
    """The snapshot with this id; NotFound when there is none."""
    return cast(DataSnapshot, get_row(conn, "data_snapshot_by_id", id, table=TABLE))


def list_page(conn: Connection, *, limit: int = 100,
              after: IdLike | None = None) -> list[DataSnapshot]:
    """Up to ``limit`` snapshots after the id ``after``, oldest first."""
    return page(conn, "data_snapshots_page", limit=limit, after=after)


def by_run(conn: Connection, run_id: IdLike) -> list[DataSnapshot]:
    """The snapshots a run used, oldest first."""
    run = as_id(run_id, field="run_id", table=TABLE)
    return cast(list[DataSnapshot], queries().many(conn, "data_snapshots_of_run", run_id=run))


def create(conn: Connection, data: DataSnapshotCreate | Mapping[str, Any]) -> DataSnapshot:
    """Record the data a run used; ReferenceNotFound when the run does not exist."""
    row = validate(DataSnapshotCreate, data, table=TABLE)
    return cast(DataSnapshot, queries().one(conn, "insert_data_snapshot", **row.model_dump()))


def update(conn: Connection, id: IdLike, /, **changes: Any) -> DataSnapshot:
    """Fill in or move the stored copy: storage_path, content_hash, size_bytes."""
    return cast(DataSnapshot, update_row(
        conn, query="update_data_snapshot", get_query="data_snapshot_by_id", table=TABLE,
        model=DataSnapshotUpdate, updatable=UPDATABLE, id=id, changes=changes))


def delete(conn: Connection, id: IdLike) -> None:
    """Delete a snapshot row (not any stored copy)."""
    delete_row(conn, "delete_data_snapshot", id, table=TABLE)
