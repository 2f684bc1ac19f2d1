"""What the repository modules share: running a query for one row, pages, updates, deletes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

import psycopg
from pydantic import BaseModel

from resultsdb.errors import NotFound, ReferenceNotFound
from resultsdb.inputs import as_id, as_limit, validate_changes
from resultsdb.registry import Registry, default_registry

Connection = psycopg.Connection[Any]
IdLike = UUID | str


def queries() -> Registry:
    return default_registry()


def not_found(table: str, key: Mapping[str, Any]) -> NotFound:
    keys = ", ".join(f"{k}={v}" for k, v in key.items())
    return NotFound(f"{table}: no row with {keys}", table=table, key=dict(key))


def fetch_one(conn: Connection, query: str, *, table: str, key: Mapping[str, Any],
              **params: Any) -> Any:
    """The single row of a ``one`` query, with a NotFound that names ``table`` and ``key``.

    The registry guesses the table from the first FROM, which for UPDATE and
    CTE statements is the wrong one; the caller knows better.
    """
    try:
        return queries().one(conn, query, **params)
    except ReferenceNotFound:
        raise  # a foreign key of the row written: its message names the column at fault
    except NotFound:
        raise not_found(table, key) from None


def get_row(conn: Connection, query: str, id: IdLike, *, table: str) -> Any:
    row_id = as_id(id, table=table)
    return fetch_one(conn, query, table=table, key={"id": row_id}, id=row_id)


def page(conn: Connection, query: str, *, limit: int, after: IdLike | None,
         **params: Any) -> list[Any]:
    """A keyset page: up to ``limit`` rows whose id sorts after ``after``."""
    after_id = None if after is None else as_id(after, field="after")
    return queries().many(conn, query, limit=as_limit(limit), after=after_id, **params)


def update_row(conn: Connection, *, query: str, get_query: str, table: str,
               model: type[BaseModel], updatable: frozenset[str], id: IdLike,
               changes: Mapping[str, Any]) -> Any:
    """Apply ``changes`` (validated against ``model``, keys against ``updatable``) to one row."""
    row_id = as_id(id, table=table)
    patch = validate_changes(model, changes, table=table, updatable=updatable)
    if not patch:
        return fetch_one(conn, get_query, table=table, key={"id": row_id}, id=row_id)
    return fetch_one(conn, query, table=table, key={"id": row_id}, id=row_id, patch=patch)


def delete_row(conn: Connection, query: str, id: IdLike, *, table: str) -> None:
    row_id = as_id(id, table=table)
    if queries().scalar(conn, query, id=row_id) is None:
        raise not_found(table, {"id": row_id})
