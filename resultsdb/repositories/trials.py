"""Hyperparameter search trials (table hyperparameter_results), numbered 1, 2, 3 ... per run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from resultsdb.errors import InvalidInput
from resultsdb.inputs import TrialCreate, TrialUpdate, as_id, as_limit, validate
from resultsdb.records import Trial
from resultsdb.repositories._base import (
    Connection,
    IdLike,
    delete_row,
    fetch_one,
    get_row,
    page,
    queries,
    update_row,
)

TABLE = "hyperparameter_results"
UPDATABLE = frozenset({"trial_run_id", "objective_value", "metrics", "status"})


def get(conn: Connection, id: IdLike) -> Trial:
    """The trial with this id; NotFound when there is none."""
    return cast(Trial, get_row(conn, "trial_by_id", id, table=TABLE))


def list_page(conn: Connection, *, limit: int = 100, after: IdLike | None = None) -> list[Trial]:
    """Up to ``limit`` trials of any run after the id ``after``, oldest first."""
    return page(conn, "trials_page", limit=limit, after=after)


def by_run(conn: Connection, run_id: IdLike, *, limit: int = 100,
           after_number: int = 0) -> list[Trial]:
    """A run's trials numbered after ``after_number``, in trial order (keyset on the number)."""
    run = as_id(run_id, field="run_id", table=TABLE)
    if isinstance(after_number, bool) or not isinstance(after_number, int) or after_number < 0:
        raise InvalidInput(f"{TABLE}.after_number: must be an integer >= 0, got {after_number!r}",
                           field="after_number", table=TABLE)
    return cast(list[Trial], queries().many(conn, "trials_of_run", run_id=run,
                                            after_number=after_number, limit=as_limit(limit)))


def create(conn: Connection, data: TrialCreate | Mapping[str, Any], *,
           wait_for_flush: bool = True) -> Trial:
    """Insert the run's next trial (number from runs.trial_count); NotFound when the run is missing.

    ``wait_for_flush=False`` commits the statement with ``synchronous_commit = off``:
    only for a running trial whose finish will flush it, and only when the statement
    is its own transaction (the setting lasts to the end of the enclosing one).
    """
    row = validate(TrialCreate, data, table=TABLE)
    return cast(Trial, fetch_one(conn, "insert_trial", table="runs", key={"id": row.run_id},
                                 synchronous_commit=None if wait_for_flush else "off",
                                 **row.model_dump()))


def update(conn: Connection, id: IdLike, /, **changes: Any) -> Trial:
    """Record a trial's outcome: status, objective_value, metrics, trial_run_id.

    Ending a trial stamps finished_at; a completed trial needs an objective_value.
    """
    return cast(Trial, update_row(
        conn, query="update_trial", get_query="trial_by_id", table=TABLE, model=TrialUpdate,
        updatable=UPDATABLE, id=id, changes=changes))


def delete(conn: Connection, id: IdLike) -> None:
    """Delete a trial; its number is not reused."""
    delete_row(conn, "delete_trial", id, table=TABLE)
