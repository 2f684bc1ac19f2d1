"""What every part of the API shares: the database, references, pages and their cursors.

Public functions accept a record of the expected kind, a UUID, or its string form
(``Ref``); experiments and models may also be named (resolved by
``repositories.experiments.resolve`` and ``repositories.models.resolve``). A reference
that names no row is NotFound (ReferenceNotFound when the database's foreign key finds it
missing on a write), whatever the function: one that would return an empty list checks,
after an empty result only, that what it was asked about exists.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from resultsdb.db import Database
from resultsdb.errors import InvalidInput
from resultsdb.records import Record

T = TypeVar("T")
Ref = Record | UUID | str


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, and the cursor for the next (None when this is the last)."""

    items: list[T]
    next_cursor: str | None

    def __iter__(self) -> Any:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def encode_cursor(kind: str, value: Any, row_id: UUID) -> str:
    payload = {"k": kind, "v": value.isoformat() if isinstance(value, datetime) else value,
               "t": "dt" if isinstance(value, datetime) else "s", "id": str(row_id)}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def decode_cursor(cursor: str, kind: str) -> tuple[Any, UUID]:
    """(after_value, after_id) of a cursor made for ``kind``; InvalidInput when it is not one."""
    def read(payload: dict[str, Any]) -> tuple[Any, UUID]:
        value = datetime.fromisoformat(payload["v"]) if payload["t"] == "dt" else payload["v"]
        return value, UUID(payload["id"])
    return _decoded(cursor, kind, read)


def _decoded(cursor: object, kind: str, read: Callable[[dict[str, Any]], T],
             mismatch: str | None = None) -> T:
    """``read`` of the payload of a cursor made for ``kind``; InvalidInput naming cursor when
    it is not a string, was made for another list (``mismatch`` says so), or is damaged."""
    if not isinstance(cursor, str):
        raise InvalidInput(f"cursor: must be the next_cursor string of a page, not "
                           f"{type(cursor).__name__}", field="cursor")
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if payload["k"] != kind:
            raise ValueError(mismatch or f"made for {payload['k']}, not {kind}")
        return read(payload)
    except (ValueError, KeyError, TypeError, IndexError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"cursor: not a valid cursor for this list ({exc})", field="cursor") from None


# A keyset cursor's values by type tag: how each is written to JSON and read back exactly
# (a float through its repr, which round-trips; a time with its offset).
_TAGS: dict[str, tuple[type, Any, Any]] = {
    "f": (float, repr, float), "i": (int, int, int), "s": (str, str, str),
    "t": (datetime, datetime.isoformat, datetime.fromisoformat), "u": (UUID, str, UUID),
}


def encode_keyset(kind: str, values: list[Any], row_id: UUID) -> str:
    """A cursor holding several order values (each None, float, int, str, datetime or
    UUID) and the last row's id, for a list made by ``kind``."""
    typed: list[Any] = []
    for value in values:
        if value is None:
            typed.append(None)
            continue
        tag = next(t for t, (cls, _, _) in _TAGS.items()
                   if isinstance(value, cls) and not isinstance(value, bool))
        typed.append([tag, _TAGS[tag][1](value)])
    payload = {"k": kind, "v": typed, "id": str(row_id)}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def decode_keyset(cursor: str, kind: str, count: int) -> tuple[list[Any], UUID]:
    """(values, id) of a cursor that ``encode_keyset`` made for ``kind``; InvalidInput
    when it is not one (another list's, another search's, or damaged)."""
    def read(payload: dict[str, Any]) -> tuple[list[Any], UUID]:
        values = [None if v is None else _TAGS[v[0]][2](v[1]) for v in payload["v"]]
        if len(values) != count:
            raise ValueError(f"holds {len(values)} values, not {count}")
        return values, UUID(payload["id"])
    return _decoded(cursor, kind, read,
                    "made for another search (its filter, order or experiments differ)")


class Base:
    """The part of ResultsDB every subject mixin relies on."""

    db: Database
