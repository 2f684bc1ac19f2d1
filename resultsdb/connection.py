"""The connection every query runs on: psycopg's, carrying its Database's named queries."""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

import psycopg
import pydantic_core
from psycopg.rows import TupleRow
from psycopg.types.json import set_json_loads

from resultsdb.queries import Queries
from resultsdb.registry import Registry, default_registry


class Connection(psycopg.Connection[TupleRow]):
    """A psycopg connection that carries its Database's queries: ``conn.q.run_by_id(id=...)``.

    The Database that opens it sets ``registry`` (its slow-query threshold with it). One
    opened outside a Database - an admin connection, a test's - runs the package's queries
    with default settings.
    """

    registry: Registry | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_json_loads(load_json, self)

    @cached_property
    def q(self) -> Queries:
        """The named queries, bound to this connection."""
        return Queries(self.registry or default_registry(), self)


def load_json(data: str | bytes) -> Any:
    """JSON from the server, parsed by pydantic-core's parser (8x the standard library's
    on a page of runs' metrics and tags, the same values: floats round alike, big
    integers stay exact). What it refuses - a lone surrogate escape, which a ``json``
    column may hold - goes to the standard library's parser, so no stored value fails
    to load."""
    try:
        return pydantic_core.from_json(data)
    except ValueError:
        return json.loads(data)
