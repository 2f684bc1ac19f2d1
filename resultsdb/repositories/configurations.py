"""Configurations: parameter sets, versioned per name, with the parent they derive from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from resultsdb.errors import InvalidInput
from resultsdb.inputs import ConfigurationCreate, ConfigurationUpdate, as_id, as_limit, validate
from resultsdb.records import Configuration
from resultsdb.repositories.common import Connection, IdLike, after_id, update_row

TABLE = "configurations"
UPDATABLE = frozenset({"config_type", "parent_id"})


def get(conn: Connection, id: IdLike) -> Configuration:
    """The configuration with this id; NotFound when there is none."""
    return conn.q.configuration_by_id(id=as_id(id, table=TABLE))


def list_page(conn: Connection, *, limit: int = 100,
              after: IdLike | None = None) -> list[Configuration]:
    """Up to ``limit`` configurations after the id ``after``, oldest first."""
    return conn.q.configurations_page(limit=as_limit(limit), after=after_id(after))


def by_run(conn: Connection, run_id: IdLike) -> list[Configuration]:
    """The configurations a run uses, oldest first."""
    run = as_id(run_id, field="run_id", table=TABLE)
    return conn.q.configurations_of_run(run_id=run)


def versions(conn: Connection, name: str) -> list[Configuration]:
    """Every version of the configuration called ``name``, version 1 first."""
    return conn.q.configuration_versions(name=name)


def latest(conn: Connection, name: str) -> Configuration:
    """The highest version of ``name``; NotFound when there is none."""
    return conn.q.latest_configuration(name=name)


def lineage(conn: Connection, id: IdLike) -> list[Configuration]:
    """The chain root first, ending with the configuration itself (empty when ``id`` does not exist)."""
    return conn.q.configuration_lineage(id=as_id(id, table=TABLE))


def create(conn: Connection, data: ConfigurationCreate | Mapping[str, Any]) -> Configuration:
    """Insert the next version of a configuration name (1 for a new name).

    Numbering is race-free: an advisory lock on the name is held until the
    transaction ends, so the insert's snapshot sees every earlier version.
    """
    row = validate(ConfigurationCreate, data, table=TABLE)
    # A transaction of its own when the caller has none: the lock must outlive
    # the lock statement and cover the insert.
    with conn.transaction():
        conn.q.lock_configuration_name(name=row.name)
        return conn.q.insert_configuration(**row.model_dump())


def update(conn: Connection, id: IdLike, /, **changes: Any) -> Configuration:
    """Change config_type or parent_id. Name, version and parameters never change.

    InvalidInput when the new parent would make the configuration its own ancestor.
    """
    row_id = as_id(id, table=TABLE)
    with conn.transaction():
        parent = changes.get("parent_id")
        if parent is not None:
            parent_id = as_id(parent, field="parent_id", table=TABLE)
            if any(c.id == row_id for c in lineage(conn, parent_id)):
                raise InvalidInput(
                    f"{TABLE}.parent_id: {parent_id} descends from {row_id}; "
                    "a configuration cannot be its own ancestor",
                    field="parent_id", table=TABLE)
        return update_row(changes, model=ConfigurationUpdate, updatable=UPDATABLE, table=TABLE,
                          apply=lambda patch: conn.q.update_configuration(id=row_id, patch=patch),
                          current=lambda: conn.q.configuration_by_id(id=row_id))


def delete(conn: Connection, id: IdLike) -> None:
    """Delete a configuration; StillReferenced while a child, model or version refers to it."""
    conn.q.delete_configuration(id=as_id(id, table=TABLE))
