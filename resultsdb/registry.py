"""The query registry: the named queries of ``sql/queries`` and the one way to run them.

The file format is :mod:`resultsdb.sqlfiles`'s. Code calls a query through its typed
handle, a method of :class:`resultsdb.queries.Queries` generated from the headers
(``make queries``): ``conn.q.run_by_id(id=run_id)`` returns a ``Run``, and a typo is an
error for mypy and at the call, not a string looked up at run time. The handles run on
:class:`BoundQueries`, which maps rows into records with psycopg's ``class_row``, checks
scalars against their declared type, raises NotFound for a missing ``one`` row, and logs
queries slower than the registry's threshold (one registry per Database: its settings).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cache
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from psycopg.rows import BaseRowFactory, RowMaker
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ValidationError

from resultsdb import _paths, records
from resultsdb.errors import NotFound, QueryRegistryError
from resultsdb.sqlfiles import Query, Returns, parse_file, parse_fragments

log = logging.getLogger("resultsdb.queries")

R = TypeVar("R", bound=BaseModel)
T = TypeVar("T")
Literals = Mapping[str, int | str | None]


@dataclass(frozen=True)
class Registry:
    """Every named query, and what applies to running them (the slow-query threshold)."""

    queries: Mapping[str, Query] = field(default_factory=dict)
    slow_query_ms: float = 500.0
    check_rows: bool = False

    @classmethod
    def load(cls, *directories: Path,
             record_types: Mapping[str, type[BaseModel]] | None = None) -> Registry:
        """The queries of every ``*.sql`` file in ``directories`` (default: the package's)."""
        types = record_types if record_types is not None else records.RECORD_TYPES
        queries: dict[str, Query] = {}
        for directory in directories or (_paths.sql_dir() / "queries",):
            files = sorted(directory.glob("*.sql"))
            if not files:
                raise QueryRegistryError(f"no query files in {directory}")
            for path in files:
                for query in parse_file(path, types):
                    if query.name in queries:
                        raise QueryRegistryError(f"{query.source}: query {query.name} already "
                                                 f"defined at {queries[query.name].source}")
                    queries[query.name] = query
        return cls(queries)

    def configured(self, *, slow_query_ms: float, check_rows: bool = False) -> Registry:
        """The same queries with this Database's settings."""
        return replace(self, slow_query_ms=slow_query_ms, check_rows=check_rows)

    def __getitem__(self, name: str) -> Query:
        try:
            return self.queries[name]
        except KeyError:
            raise QueryRegistryError(f"no query named {name!r}") from None

    def __iter__(self) -> Iterator[Query]:
        return iter(self.queries.values())

    def __len__(self) -> int:
        return len(self.queries)

    def signature(self) -> str:
        """A digest of every query's interface (name, kind, result type, parameters,
        identifiers, literals): what the generated handles depend on, SQL bodies aside."""
        parts = []
        for q in sorted(self, key=lambda q: q.name):
            parts.append(repr((
                q.name, q.returns.value, q.record.__name__ if q.record else None, q.scalar_type,
                q.nullable, q.table, q.params,
                sorted((k, sorted(v) if v else None) for k, v in q.identifiers.items()),
                sorted((k, sorted(v) if v else None) for k, v in q.literals.items()))))
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]

    def execute(self, cur: psycopg.Cursor[Any], query: Query, params: Mapping[str, Any],
                identifiers: Mapping[str, str] | None = None, literals: Literals | None = None) -> None:
        """Send ``query`` on ``cur``; log it (name and duration only) when slow."""
        values = {k: Jsonb(v) if isinstance(v, dict) else v for k, v in params.items()}
        # Without parameters psycopg sends the statement as it is, so it must not hold the
        # '%%' that psycopg_text has for a literal '%': that is the positional text then.
        statement = query.compose(identifiers or {}, positional=not query.params, literals=literals)
        self.send(cur, query.name, statement, values)

    def send(self, cur: psycopg.Cursor[Any], name: str, statement: str | sql.Composed,
             params: Mapping[str, Any], *, prepare: bool | None = None) -> None:
        """Send a statement on ``cur``: a named query's, or one composed from
        ``sql/fragments`` (a search); log it (``name`` and duration only) when slow.
        ``prepare``: psycopg's (None: prepared once it repeats)."""
        started = time.perf_counter()
        try:
            cur.execute(statement, params or None, prepare=prepare)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            if elapsed_ms >= self.slow_query_ms:
                # Name and duration only: parameter values may be sensitive.
                log.warning("slow query %s took %.1f ms", name, elapsed_ms)

    def run(self, conn: psycopg.Connection[Any], name: str, /, *,
            identifiers: Mapping[str, str] | None = None, **params: Any) -> Any:
        """Run a query by name, its literals among ``params``: for tests and tools that
        take query names as data. Library code calls the typed handles instead."""
        query = self[name]
        literals = {k: params.pop(k) for k in query.literals if k in params}
        if params.keys() != query.param_names:
            missing = [p for p in query.params if p not in params]
            extra = [p for p in params if p not in query.params]
            raise QueryRegistryError(
                f"query {query.name}: missing parameters {missing}, unexpected {extra}")
        bound = BoundQueries(self, conn)
        kind = query.returns
        if kind is Returns.COPY:
            return bound._copy(name, params, identifiers)
        if kind in (Returns.ONE, Returns.ONE_OR_NONE, Returns.MANY):
            assert query.record is not None
            method = {Returns.ONE: bound._one, Returns.ONE_OR_NONE: bound._one_or_none,
                      Returns.MANY: bound._many}[kind]
            return method(name, query.record, params, identifiers, literals)
        if kind is Returns.SCALAR:
            scalar = bound._scalar_or_none if query.nullable else bound._scalar
            return scalar(name, object, params, identifiers, literals)
        if kind is Returns.ROWCOUNT:
            return bound._rowcount(name, params, identifiers, literals)
        return bound._execute(name, params, identifiers, literals)


@cache
def record_row(record: type[R], *, check: bool = False) -> BaseRowFactory[R]:
    """psycopg's ``class_row`` for our records, built from the row as the schema typed it.

    Rows of our own queries need no second validation: each column's type, NOT NULL and
    CHECK constraints already hold what the record's field declares, and the session's
    TimeZone is UTC, so every timestamp arrives UTC-aware. The factory checks, once per
    statement, that the columns are exactly the record's fields (no unknown field, none
    missing) and builds each record without validating it - about 6x less work per row
    than pydantic's strict validation, which was most of a page's time. A session in
    another TimeZone (a connection opened outside a Database and SET otherwise) gets
    validated rows, which converts its timestamps to UTC.

    ``check=True`` (``RESULTSDB_CHECK_ROWS``, which the test suite turns on) validates every
    row strictly as well and raises QueryRegistryError where the two differ: a schema
    change that a record did not follow shows up in the first test that reads the row.
    """
    validate = record.model_validate
    fields = tuple(record.model_fields)
    build = _builder(record)

    def factory(cursor: Any) -> RowMaker[R]:  # any psycopg cursor
        names = [c.name for c in cursor.description or ()]
        if sorted(names) != sorted(fields):
            raise QueryRegistryError(
                f"{record.__name__} record: the query returns columns {names}, not its fields "
                f"{list(fields)}")
        if cursor.connection.info.parameter_status("TimeZone") not in _UTC_ZONES:
            return lambda values: validate(dict(zip(names, values, strict=True)))
        order = [names.index(f) for f in fields]
        # itemgetter of one index returns the value, not a 1-tuple
        pick = itemgetter(*order) if len(order) > 1 else lambda values: (values[order[0]],)

        def make(values: Sequence[Any]) -> R:
            return build(dict(zip(fields, pick(values), strict=True)))

        if not check:
            return make

        def make_checked(values: Sequence[Any]) -> R:
            row = make(values)
            try:
                strict = validate(dict(zip(names, values, strict=True)))
            except ValidationError as exc:
                raise QueryRegistryError(f"{record.__name__} record: {exc}") from None
            if row != strict:  # pydantic compares every field's value
                diff = [f for f in fields if getattr(row, f) != getattr(strict, f)]
                raise QueryRegistryError(f"{record.__name__} record: the row's {diff} differ "
                                         "from their strict validation")
            return row
        return make_checked
    return factory


_UTC_ZONES = frozenset(("UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Zulu"))


def _builder(record: type[R]) -> Callable[[dict[str, Any]], R]:
    """A record from a mapping of its fields, unvalidated: what pydantic's
    ``model_construct`` does with every field given, without its per-field work (the
    instance dict and the documented ``__pydantic_*__`` slots set directly)."""
    fields_set = frozenset(record.model_fields)
    new = record.__new__
    setattr_ = object.__setattr__

    def build(values: dict[str, Any]) -> R:
        row = new(record)
        setattr_(row, "__dict__", values)
        setattr_(row, "__pydantic_fields_set__", set(fields_set))
        setattr_(row, "__pydantic_extra__", None)
        setattr_(row, "__pydantic_private__", None)
        return row
    return build


class BoundQueries:
    """Queries of a registry bound to one connection: what the generated handles call."""

    __slots__ = ("_conn", "_registry")

    def __init__(self, registry: Registry, conn: psycopg.Connection[Any]) -> None:
        self._registry = registry
        self._conn = conn

    @property
    def conn(self) -> psycopg.Connection[Any]:
        return self._conn

    def _many(self, name: str, record: type[R], params: Mapping[str, Any],
              identifiers: Mapping[str, str] | None = None,
              literals: Literals | None = None) -> list[R]:
        reg = self._registry
        with self._conn.cursor(row_factory=record_row(record, check=reg.check_rows)) as cur:
            reg.execute(cur, reg.queries[name], params, identifiers, literals)
            return cur.fetchall()

    def composed(self, name: str, record: type[R], statement: sql.Composed,
                 params: Mapping[str, Any]) -> list[R]:
        """The rows, as ``record``, of a statement composed from ``sql/fragments`` pieces
        (values bound in ``params``): what a search runs, with the registry's row mapping
        and slow-query log under ``name``."""
        reg = self._registry
        with self._conn.cursor(row_factory=record_row(record, check=reg.check_rows)) as cur:
            # Never prepared: a search's selectivity is in its values (a key, a threshold),
            # and PostgreSQL's generic plan for a prepared statement cannot see them - it
            # walked a million runs in 19 ms where the plan for the values takes 2.
            reg.send(cur, name, statement, params, prepare=False)
            return cur.fetchall()

    def _one_or_none(self, name: str, record: type[R], params: Mapping[str, Any],
                     identifiers: Mapping[str, str] | None = None,
                     literals: Literals | None = None) -> R | None:
        reg = self._registry
        with self._conn.cursor(row_factory=record_row(record, check=reg.check_rows)) as cur:
            reg.execute(cur, reg.queries[name], params, identifiers, literals)
            return cur.fetchone()

    def _one(self, name: str, record: type[R], params: Mapping[str, Any],
             identifiers: Mapping[str, str] | None = None,
             literals: Literals | None = None) -> R:
        row = self._one_or_none(name, record, params, identifiers, literals)
        if row is None:
            raise _not_found(self._registry.queries[name], params)
        return row

    def _scalar_or_none(self, name: str, kind: type[T], params: Mapping[str, Any],
                        identifiers: Mapping[str, str] | None = None,
                        literals: Literals | None = None) -> T | None:
        reg = self._registry
        query = reg.queries[name]
        with self._conn.cursor() as cur:
            reg.execute(cur, query, params, identifiers, literals)
            row = cur.fetchone()
        value = None if row is None else row[0]
        if value is None or isinstance(value, kind):
            return value
        raise QueryRegistryError(f"query {name} ({query.source}) returned a "
                                 f"{type(value).__name__}, not its declared {query.scalar_type}")

    def _scalar(self, name: str, kind: type[T], params: Mapping[str, Any],
                identifiers: Mapping[str, str] | None = None,
                literals: Literals | None = None) -> T:
        value = self._scalar_or_none(name, kind, params, identifiers, literals)
        if value is None:
            raise _not_found(self._registry.queries[name], params)
        return value

    def _json(self, name: str, params: Mapping[str, Any],
              identifiers: Mapping[str, str] | None = None, literals: Literals | None = None) -> Any:
        return self._scalar_or_none(name, object, params, identifiers, literals)

    def _rowcount(self, name: str, params: Mapping[str, Any],
                  identifiers: Mapping[str, str] | None = None,
                  literals: Literals | None = None) -> int:
        reg = self._registry
        with self._conn.cursor() as cur:
            reg.execute(cur, reg.queries[name], params, identifiers, literals)
            return cur.rowcount

    def _execute(self, name: str, params: Mapping[str, Any],
                 identifiers: Mapping[str, str] | None = None,
                 literals: Literals | None = None) -> None:
        reg = self._registry
        with self._conn.cursor() as cur:
            reg.execute(cur, reg.queries[name], params, identifiers, literals)

    @contextmanager
    def _copy(self, name: str, params: Mapping[str, Any],
              identifiers: Mapping[str, str] | None = None) -> Iterator[psycopg.Copy]:
        query = self._registry.queries[name]
        statement = query.compose(identifiers or {}, positional=not query.params)
        # The cursor is left open (the garbage collector closes it): a caller reads the
        # rows COPY moved from copy.cursor.rowcount after the block, which close() clears.
        cur = self._conn.cursor()
        with cur.copy(statement, params or None) as copy:
            yield copy


def _not_found(query: Query, params: Mapping[str, Any]) -> NotFound:
    """NotFound naming the query's table and the keys it looked for: its id and name
    parameters that were given, else every plain parameter."""
    plain = {k: v for k, v in params.items() if v is not None and not isinstance(v, dict | list)}
    key = {k: v for k, v in plain.items() if k in ("id", "name") or k.endswith("_id")} or plain
    table = query.table or "row"
    keys = ", ".join(f"{k}={v}" for k, v in key.items())
    return NotFound(f"{table}: no row with {keys}" if keys else f"{table}: no row ({query.name})",
                    table=query.table, key=key)


@cache
def fragments(name: str) -> Mapping[str, str]:
    """The pieces of ``sql/fragments/<name>.sql`` that a composer (a search) puts together."""
    return parse_fragments(_paths.sql_dir() / "fragments" / f"{name}.sql")


_default: Registry | None = None


def default_registry() -> Registry:
    """The package's own queries (loaded once), checked against the generated handles."""
    global _default
    if _default is None:
        from resultsdb.queries import SIGNATURE  # late: queries.py imports this module

        registry = Registry.load()
        if registry.signature() != SIGNATURE:
            raise QueryRegistryError(
                "sql/queries changed since resultsdb/queries.py was generated: run `make queries`")
        _default = registry
    return _default
