"""What the repository modules share: keyset pages and validated updates."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel

from resultsdb.connection import Connection
from resultsdb.errors import InvalidTransition, NotFound
from resultsdb.inputs import as_id, validate_changes

__all__ = ["Connection", "IdLike", "after_id", "end_once", "update_row"]

IdLike = UUID | str
R = TypeVar("R")


def after_id(after: IdLike | None) -> UUID | None:
    """The keyset cursor of a page: rows sort after this id (None: the first page)."""
    return None if after is None else as_id(after, field="after")


def update_row(changes: Mapping[str, Any], *, model: type[BaseModel], updatable: frozenset[str],
               table: str, apply: Callable[[dict[str, Any]], R], current: Callable[[], R]) -> R:
    """``apply`` the validated patch of ``changes`` (keys against ``updatable``, values
    against ``model``), or return the ``current`` row when there is nothing to change."""
    patch = validate_changes(model, changes, table=table, updatable=updatable)
    return apply(patch) if patch else current()


def end_once(table: str, id: UUID, status: str, *, end: Callable[[], R],
             current_status: Callable[[], str]) -> R:
    """``end`` a row (a run, a trial) with one statement that matches it only while it has
    not ended. No match: InvalidTransition from the status it ended in, or NotFound when
    there is no such row (``current_status`` only explains the miss)."""
    try:
        return end()
    except NotFound:
        was = current_status()
        raise InvalidTransition(
            f"{table} {id}: status cannot change from {was} to {status}: it has already ended",
            table=table, from_status=was, to_status=status) from None
