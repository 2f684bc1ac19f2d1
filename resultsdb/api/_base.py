"""What every part of the API shares: the database, and turning "a thing" into an id.

Public functions accept a record of the expected kind, a UUID, or its string form;
experiments and models may also be named. A reference that names no row is
NotFound (ReferenceNotFound when the database's foreign key finds it missing on a
write), whatever the function: one that would return an empty list checks, after an
empty result only, that what it was asked about exists.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel

from resultsdb.db import Connection, Database
from resultsdb.errors import InvalidInput, NotFound
from resultsdb.fields import Name
from resultsdb.inputs import as_ref_id, validate_value
from resultsdb.records import Experiment, Model, Record

T = TypeVar("T")
Ref = Record | UUID | str


def ref_id(value: Ref, *, field: str, kind: type[BaseModel], table: str | None = None) -> UUID:
    """The id of a ``kind`` record, UUID or UUID string; InvalidInput naming ``field`` otherwise
    (a record of another kind included)."""
    return as_ref_id(value, field=field, table=table, kind=kind)


def is_uuid(value: object) -> bool:
    if isinstance(value, UUID):
        return True
    try:
        UUID(str(value))
    except ValueError:
        return False
    return True


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
    if not isinstance(cursor, str):
        raise InvalidInput(f"cursor: must be the next_cursor string of a page, not "
                           f"{type(cursor).__name__}", field="cursor")
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if payload["k"] != kind:
            raise ValueError(f"made for {payload['k']}, not {kind}")
        value = datetime.fromisoformat(payload["v"]) if payload["t"] == "dt" else payload["v"]
        return value, UUID(payload["id"])
    except (ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"cursor: not a valid cursor for this list ({exc})", field="cursor") from None


class Base:
    """The part of ResultsDB every subject mixin relies on."""

    db: Database

    def _q(self) -> Any:
        return self.db.registry

    def _experiment_id(self, conn: Connection, experiment: Ref) -> UUID:
        """Id of an experiment given as record, id, or the name of a live experiment."""
        if isinstance(experiment, str) and not is_uuid(experiment):
            validate_value("experiment", experiment, Name, table="experiments")
            rows = self._q().many(conn, "live_experiment_by_name", name=experiment)
            if not rows:
                raise NotFound(f"experiments: no live experiment named {experiment!r}",
                               table="experiments", key={"name": experiment})
            return UUID(str(rows[0].id))
        return ref_id(experiment, field="experiment", table="experiments", kind=Experiment)

    def _model_id(self, conn: Connection, model: Ref) -> UUID:
        """Id of a model given as record, id, or name."""
        if isinstance(model, str) and not is_uuid(model):
            validate_value("model", model, Name, table="models")
            return UUID(str(self._q().one(conn, "model_by_name", name=model).id))
        return ref_id(model, field="model", table="models", kind=Model)
