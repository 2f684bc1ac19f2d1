"""Hyperparameter search trials (table hyperparameter_results), numbered 1, 2, 3 ... per run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal
from uuid import UUID

from resultsdb.errors import InvalidInput
from resultsdb.inputs import TrialCreate, TrialUpdate, as_id, as_limit, validate
from resultsdb.records import Trial
from resultsdb.repositories.common import Connection, IdLike, after_id, end_once, update_row

TABLE = "hyperparameter_results"
UPDATABLE = frozenset({"trial_run_id", "objective_value", "metrics", "status"})


def get(conn: Connection, id: IdLike) -> Trial:
    """The trial with this id; NotFound when there is none."""
    return conn.q.trial_by_id(id=as_id(id, table=TABLE))


def list_page(conn: Connection, *, limit: int = 100, after: IdLike | None = None) -> list[Trial]:
    """Up to ``limit`` trials of any run after the id ``after``, oldest first."""
    return conn.q.trials_page(limit=as_limit(limit), after=after_id(after))


def by_run(conn: Connection, run_id: IdLike, *, limit: int = 100,
           after_number: int = 0) -> list[Trial]:
    """A run's trials numbered after ``after_number``, in trial order (keyset on the number)."""
    run = as_id(run_id, field="run_id", table=TABLE)
    if isinstance(after_number, bool) or not isinstance(after_number, int) or after_number < 0:
        raise InvalidInput(f"{TABLE}.after_number: must be an integer >= 0, got {after_number!r}",
                           field="after_number", table=TABLE)
    return conn.q.trials_of_run(run_id=run, after_number=after_number, limit=as_limit(limit))


def all_of_run(conn: Connection, run_id: UUID) -> list[Trial]:
    """Every trial of a run, in number order."""
    return conn.q.all_trials_of_run(run_id=run_id)


def best(conn: Connection, run_id: UUID, direction: Literal["maximize", "minimize"]) -> Trial:
    """The completed trial with the best objective (ties: lowest number); NotFound if none."""
    best_trial = conn.q.best_trial_max if direction == "maximize" else conn.q.best_trial_min
    return best_trial(run_id=run_id)


def create(conn: Connection, data: TrialCreate | Mapping[str, Any], *,
           wait_for_flush: bool = True) -> Trial:
    """Insert the run's next trial (number from runs.trial_count); NotFound when the run is missing.

    ``wait_for_flush=False`` commits the statement with ``synchronous_commit = off``:
    only for a running trial whose finish will flush it, and only when the statement
    is its own transaction (the setting lasts to the end of the enclosing one).
    """
    row = validate(TrialCreate, data, table=TABLE)
    return conn.q.insert_trial(synchronous_commit=None if wait_for_flush else "off",
                               **row.model_dump())


def finish(conn: Connection, id: UUID, status: Literal["completed", "pruned", "failed"], *,
           objective_value: float | None, metrics: Mapping[str, float]) -> Trial:
    """End a running trial in one statement, merging ``metrics``; InvalidTransition if it
    already ended (NotFound when there is no such trial)."""
    return end_once(TABLE, id, status, current_status=lambda: get(conn, id).status,
                    end=lambda: conn.q.finish_trial(id=id, status=status,
                                                    objective_value=objective_value,
                                                    metrics=dict(metrics)))


def update(conn: Connection, id: IdLike, /, **changes: Any) -> Trial:
    """Record a trial's outcome: status, objective_value, metrics, trial_run_id.

    Ending a trial stamps finished_at; a completed trial needs an objective_value.
    """
    row_id = as_id(id, table=TABLE)
    return update_row(changes, model=TrialUpdate, updatable=UPDATABLE, table=TABLE,
                      apply=lambda patch: conn.q.update_trial(id=row_id, patch=patch),
                      current=lambda: conn.q.trial_by_id(id=row_id))


def delete(conn: Connection, id: IdLike) -> None:
    """Delete a trial; its number is not reused."""
    conn.q.delete_trial(id=as_id(id, table=TABLE))
