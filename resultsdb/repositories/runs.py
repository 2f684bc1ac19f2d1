"""Runs: one execution (training, backtest, search ...) inside an experiment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from resultsdb.inputs import RunCreate, RunUpdate, as_id, as_limit, validate
from resultsdb.records import Run, RunStatus
from resultsdb.repositories._base import (
    Connection,
    IdLike,
    delete_row,
    get_row,
    page,
    queries,
    update_row,
)

TABLE = "runs"
UPDATABLE = frozenset({
    "name", "status", "start_time", "end_time", "summary_metrics", "tags",
    "error_type", "error_message",
})


def get(conn: Connection, id: IdLike) -> Run:
    """The run with this id; NotFound when there is none."""
    return cast(Run, get_row(conn, "run_by_id", id, table=TABLE))


def list_page(conn: Connection, *, limit: int = 100, after: IdLike | None = None) -> list[Run]:
    """Up to ``limit`` runs after the id ``after``, oldest first (keyset pagination)."""
    return page(conn, "runs_page", limit=limit, after=after)


def by_experiment(conn: Connection, experiment_id: IdLike, *, status: RunStatus | None = None,
                  limit: int = 100, after: IdLike | None = None) -> list[Run]:
    """An experiment's runs (only those in ``status`` if given), oldest first, a page at a time."""
    experiment = as_id(experiment_id, field="experiment_id", table=TABLE)
    if status is not None:
        validate(RunUpdate, {"status": status}, table=TABLE)
    return page(conn, "runs_of_experiment", limit=limit, after=after,
                experiment_id=experiment, status=status)


def most_recent(conn: Connection, limit: int = 10) -> list[Run]:
    """The ``limit`` runs that started last, newest first (scheduled runs have not started)."""
    return cast(list[Run], queries().many(conn, "most_recent_runs", limit=as_limit(limit)))


def create(conn: Connection, data: RunCreate | Mapping[str, Any]) -> Run:
    """Insert a run; ReferenceNotFound when its experiment (or parent run) does not exist."""
    row = validate(RunCreate, data, table=TABLE)
    return cast(Run, queries().one(conn, "insert_run", **row.model_dump()))


def update(conn: Connection, id: IdLike, /, **changes: Any) -> Run:
    """Change a run. Ending it (status completed/failed/killed) stamps end_time if not given."""
    return cast(Run, update_row(
        conn, query="update_run", get_query="run_by_id", table=TABLE, model=RunUpdate,
        updatable=UPDATABLE, id=id, changes=changes))


def delete(conn: Connection, id: IdLike) -> None:
    """Delete a run with its configurations, snapshots, trials and series.

    StillReferenced when a model or model version was produced by it.
    """
    delete_row(conn, "delete_run", id, table=TABLE)
