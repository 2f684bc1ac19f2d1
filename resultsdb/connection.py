"""The connection every query runs on: psycopg's, carrying its Database's named queries."""

from __future__ import annotations

from functools import cached_property

import psycopg
from psycopg.rows import TupleRow

from resultsdb.queries import Queries
from resultsdb.registry import Registry, default_registry


class Connection(psycopg.Connection[TupleRow]):
    """A psycopg connection that carries its Database's queries: ``conn.q.run_by_id(id=...)``.

    The Database that opens it sets ``registry`` (its slow-query threshold with it). One
    opened outside a Database - an admin connection, a test's - runs the package's queries
    with default settings.
    """

    registry: Registry | None = None

    @cached_property
    def q(self) -> Queries:
        """The named queries, bound to this connection."""
        return Queries(self.registry or default_registry(), self)
