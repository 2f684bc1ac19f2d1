"""Runs: one execution (training, backtest, search ...) inside an experiment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal
from uuid import UUID

from resultsdb.errors import InvalidInput
from resultsdb.inputs import RunCreate, RunUpdate, as_id, as_limit, validate
from resultsdb.records import Run, RunStatus
from resultsdb.repositories.common import Connection, IdLike, after_id, end_once, update_row

TABLE = "runs"
UPDATABLE = frozenset({
    "name", "status", "start_time", "end_time", "summary_metrics", "tags",
    "error_type", "error_message",
})
# The columns runs may be listed by (search's order_by).
SortKey = Literal["created_at", "updated_at", "start_time", "end_time", "status", "run_type"]
SORT_KEYS: tuple[SortKey, ...] = ("created_at", "updated_at", "start_time", "end_time", "status",
                                  "run_type")
_FEW_VALUES = ("status", "run_type")  # sort keys many runs share each value of


def get(conn: Connection, id: IdLike) -> Run:
    """The run with this id; NotFound when there is none."""
    return conn.q.run_by_id(id=as_id(id, table=TABLE))


def list_page(conn: Connection, *, limit: int = 100, after: IdLike | None = None) -> list[Run]:
    """Up to ``limit`` runs after the id ``after``, oldest first (keyset pagination)."""
    return conn.q.runs_page(limit=as_limit(limit), after=after_id(after))


def by_experiment(conn: Connection, experiment_id: IdLike, *, status: RunStatus | None = None,
                  limit: int = 100, after: IdLike | None = None) -> list[Run]:
    """An experiment's runs (only those in ``status`` if given), oldest first, a page at a time."""
    experiment = as_id(experiment_id, field="experiment_id", table=TABLE)
    if status is not None:
        validate(RunUpdate, {"status": status}, table=TABLE)
    return conn.q.runs_of_experiment(experiment_id=experiment, status=status,
                                     limit=as_limit(limit), after=after_id(after))


def most_recent(conn: Connection, limit: int = 10) -> list[Run]:
    """The ``limit`` runs that started last, newest first (scheduled runs have not started)."""
    return conn.q.most_recent_runs(limit=as_limit(limit))


def sort_key(value: object) -> SortKey:
    """``value`` as a column runs may be sorted by; InvalidInput naming order_by otherwise."""
    for key in SORT_KEYS:
        if value == key:
            return key
    raise InvalidInput(f"order_by: {value!r} is not sortable; choose one of {', '.join(SORT_KEYS)}",
                       field="order_by", table=TABLE)


def search(conn: Connection, *, order_by: SortKey, descending: bool, filters: Mapping[str, Any],
           after_value: Any, after: UUID | None, limit: int) -> list[Run]:
    """Runs matching every filter (experiment_id, parent_run_id, status, run_type, tags,
    started_after, started_before; None: no filter), sorted by ``order_by`` then id, after
    the keyset cursor (after_value, after)."""
    if order_by == "end_time" and filters.get("status") in ("scheduled", "running"):
        return []  # such runs have no end_time (runs_end_time_iff_ended): none to list
    search_runs = conn.q.search_runs_desc if descending else conn.q.search_runs_asc
    if order_by not in _FEW_VALUES:
        return search_runs(order_by=order_by, after_value=after_value, after_id=after,
                           limit=limit, **filters)
    # Many runs share each value of these. Past a cursor (value, id), PostgreSQL estimates
    # what is left from the value alone (nothing, in the last group) and may then walk the
    # (value, id) index, filtering on another column, over most of the table. So a page is
    # the rest of the cursor's group by id, then the groups after it: both are estimated
    # from real statistics. A filter that pins the sort column pages by id alone.
    pinned = filters[order_by]
    rows: list[Run] = []
    if pinned is not None or after is not None:
        rows = search_runs(order_by="id", after_value=after, after_id=after, limit=limit,
                           **{**filters, order_by: pinned if pinned is not None else after_value})
    if pinned is None and len(rows) < limit:
        edge = UUID(int=0 if descending else (1 << 128) - 1)  # (value, edge): past the group
        rows += search_runs(order_by=order_by, after_value=after_value,
                            after_id=edge if after is not None else None, limit=limit - len(rows),
                            **filters)
    return rows


def create(conn: Connection, data: RunCreate | Mapping[str, Any]) -> Run:
    """Insert a run; ReferenceNotFound when its experiment (or parent run) does not exist."""
    row = validate(RunCreate, data, table=TABLE)
    return conn.q.insert_run(**row.model_dump())


def update(conn: Connection, id: IdLike, /, **changes: Any) -> Run:
    """Change a run. Ending it (status completed/failed/killed) stamps end_time if not given."""
    row_id = as_id(id, table=TABLE)
    return update_row(changes, model=RunUpdate, updatable=UPDATABLE, table=TABLE,
                      apply=lambda patch: conn.q.update_run(id=row_id, patch=patch),
                      current=lambda: conn.q.run_by_id(id=row_id))


def end(conn: Connection, id: UUID, status: Literal["completed", "failed", "killed"], *,
        error_type: str | None, error_message: str | None) -> Run:
    """End a run that has not ended, in one statement; InvalidTransition if it already had
    (NotFound when there is no such run)."""
    return end_once(TABLE, id, status, current_status=lambda: get(conn, id).status,
                    end=lambda: conn.q.end_run(id=id, status=status, error_type=error_type,
                                               error_message=error_message))


def merge_summary_metrics(conn: Connection, id: UUID, metrics: Mapping[str, float]) -> Run:
    """Merge metrics into summary_metrics in one statement: concurrent merges lose nothing."""
    return conn.q.merge_run_summary_metrics(id=id, metrics=dict(metrics))


def delete(conn: Connection, id: IdLike) -> None:
    """Delete a run with its configurations, snapshots, trials and series.

    StillReferenced when a model or model version was produced by it.
    """
    conn.q.delete_run(id=as_id(id, table=TABLE))
