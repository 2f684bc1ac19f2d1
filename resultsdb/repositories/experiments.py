"""Experiments: a line of research that groups runs."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from resultsdb.errors import InvalidInput, NotFound
from resultsdb.fields import Name
from resultsdb.inputs import (
    ExperimentCreate,
    ExperimentUpdate,
    as_id,
    as_labels,
    as_limit,
    as_tags,
    is_uuid,
    ref_id,
    validate,
    validate_value,
)
from resultsdb.records import Experiment, ExperimentStatus
from resultsdb.repositories.common import Connection, IdLike, after_id, update_row

TABLE = "experiments"
UPDATABLE = frozenset({"name", "description", "tags", "status"})


def get(conn: Connection, id: IdLike) -> Experiment:
    """The experiment with this id; NotFound when there is none."""
    return conn.q.experiment_by_id(id=as_id(id, table=TABLE))


def get_by_name(conn: Connection, name: str) -> Experiment | None:
    """The live (not archived) experiment called ``name``, or None."""
    return conn.q.live_experiment_by_name(name=name)


def resolve(conn: Connection, experiment: Any, *, field: str = "experiment") -> UUID:
    """The id of an experiment given as a record, an id, or the name of a live experiment."""
    if isinstance(experiment, str) and not is_uuid(experiment):
        validate_value(field, experiment, Name, table=TABLE)
        found = get_by_name(conn, experiment)
        if found is None:
            raise NotFound(f"experiments: no live experiment named {experiment!r}",
                           table=TABLE, key={"name": experiment})
        return found.id
    return ref_id(experiment, field=field, table=TABLE, kind=Experiment)


def all_named(conn: Connection, name: str) -> list[Experiment]:
    """Every experiment called ``name``, archived ones included, oldest first."""
    return conn.q.experiments_named(name=name)


def list_page(conn: Connection, *, limit: int = 100,
              after: IdLike | None = None) -> list[Experiment]:
    """Up to ``limit`` experiments after the id ``after``, oldest first (keyset pagination)."""
    return conn.q.experiments_page(limit=as_limit(limit), after=after_id(after))


def get_active(conn: Connection, *, limit: int = 100,
               after: IdLike | None = None) -> list[Experiment]:
    """Active experiments, oldest first, a keyset page at a time."""
    return conn.q.active_experiments_page(limit=as_limit(limit), after=after_id(after))


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
    page = {"limit": as_limit(limit), "after": after_id(after)}
    if any_of is not None:
        labels = as_labels(any_of, field="any_of", table=TABLE)
        return conn.q.experiments_with_any_tag(labels=labels, **page)
    tags = as_tags(contains, field="contains", table=TABLE)
    return conn.q.experiments_containing_tags(tags=tags, **page)


def search(conn: Connection, *, status: ExperimentStatus | None, tags: dict[str, Any] | None,
           created_after: datetime | None, created_before: datetime | None,
           after: UUID | None, limit: int) -> list[Experiment]:
    """Experiments matching every filter given (None: no filter), oldest first, after ``after``."""
    return conn.q.search_experiments(status=status, tags=tags, created_after=created_after,
                                     created_before=created_before, after_id=after, limit=limit)


def create(conn: Connection, data: ExperimentCreate | Mapping[str, Any]) -> Experiment:
    """Insert an experiment; AlreadyExists when a live experiment has that name."""
    row = validate(ExperimentCreate, data, table=TABLE)
    return conn.q.insert_experiment(**row.model_dump())


def update(conn: Connection, id: IdLike, /, **changes: Any) -> Experiment:
    """Change name, description, tags or status; InvalidTransition for a disallowed status."""
    row_id = as_id(id, table=TABLE)
    return update_row(changes, model=ExperimentUpdate, updatable=UPDATABLE, table=TABLE,
                      apply=lambda patch: conn.q.update_experiment(id=row_id, patch=patch),
                      current=lambda: conn.q.experiment_by_id(id=row_id))


def set_status(conn: Connection, id: UUID, status: ExperimentStatus) -> Experiment:
    """Move an experiment to ``status`` (the transition trigger decides what is allowed)."""
    return conn.q.set_experiment_status(id=id, status=status)


def delete(conn: Connection, id: IdLike) -> None:
    """Delete an experiment and its runs (prefer archiving: status="archived")."""
    conn.q.delete_experiment(id=as_id(id, table=TABLE))


def lock_name(conn: Connection, name: str) -> None:
    """Hold off other writers of this experiment name until the transaction ends."""
    conn.q.lock_experiment_name(name=name)
