"""Experiments: a line of research that groups runs."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, cast

from resultsdb.errors import InvalidInput
from resultsdb.inputs import ExperimentCreate, ExperimentUpdate, as_labels, as_tags, validate
from resultsdb.records import Experiment
from resultsdb.repositories._base import (
    Connection,
    IdLike,
    delete_row,
    get_row,
    page,
    queries,
    update_row,
)

TABLE = "experiments"
UPDATABLE = frozenset({"name", "description", "tags", "status"})


def get(conn: Connection, id: IdLike) -> Experiment:
    """The experiment with this id; NotFound when there is none."""
    return cast(Experiment, get_row(conn, "experiment_by_id", id, table=TABLE))


def get_by_name(conn: Connection, name: str) -> Experiment | None:
    """The live (not archived) experiment called ``name``, or None."""
    rows = cast(list[Experiment], queries().many(conn, "live_experiment_by_name", name=name))
    return rows[0] if rows else None


def all_named(conn: Connection, name: str) -> list[Experiment]:
    """Every experiment called ``name``, archived ones included, oldest first."""
    return cast(list[Experiment], queries().many(conn, "experiments_named", name=name))


def list_page(conn: Connection, *, limit: int = 100,
              after: IdLike | None = None) -> list[Experiment]:
    """Up to ``limit`` experiments after the id ``after``, oldest first (keyset pagination)."""
    return page(conn, "experiments_page", limit=limit, after=after)


def get_active(conn: Connection, *, limit: int = 100,
               after: IdLike | None = None) -> list[Experiment]:
    """Active experiments, oldest first, a keyset page at a time."""
    return page(conn, "active_experiments_page", limit=limit, after=after)


def find_by_tags(conn: Connection, *, any_of: Collection[str] | str | None = None,
                 contains: Mapping[str, Any] | Collection[str] | None = None,
                 limit: int = 100, after: IdLike | None = None) -> list[Experiment]:
    """Experiments by tag, a keyset page at a time. Give exactly one of:

    ``any_of``: labels; an experiment matches when its tags have any of them as a key.
    ``contains``: a tags object (or labels, meaning ``{label: true}``) the tags must contain.
    """
    if (any_of is None) == (contains is None):
        raise InvalidInput(f"{TABLE}: give exactly one of any_of or contains",
                           field="any_of", table=TABLE)
    if any_of is not None:
        labels = as_labels(any_of, field="any_of", table=TABLE)
        return page(conn, "experiments_with_any_tag", limit=limit, after=after, labels=labels)
    tags = as_tags(contains, field="contains", table=TABLE)
    return page(conn, "experiments_containing_tags", limit=limit, after=after, tags=tags)


def create(conn: Connection, data: ExperimentCreate | Mapping[str, Any]) -> Experiment:
    """Insert an experiment; AlreadyExists when a live experiment has that name."""
    row = validate(ExperimentCreate, data, table=TABLE)
    return cast(Experiment, queries().one(conn, "insert_experiment", **row.model_dump()))


def update(conn: Connection, id: IdLike, /, **changes: Any) -> Experiment:
    """Change name, description, tags or status; InvalidTransition for a disallowed status."""
    return cast(Experiment, update_row(
        conn, query="update_experiment", get_query="experiment_by_id", table=TABLE,
        model=ExperimentUpdate, updatable=UPDATABLE, id=id, changes=changes))


def delete(conn: Connection, id: IdLike) -> None:
    """Delete an experiment and its runs (prefer archiving: status="archived")."""
    delete_row(conn, "delete_experiment", id, table=TABLE)


def lock_name(conn: Connection, name: str) -> None:
    """Hold off other writers of this experiment name until the transaction ends."""
    queries().execute(conn, "lock_experiment_name", name=name)
