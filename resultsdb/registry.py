"""Named SQL queries loaded from ``sql/queries/*.sql``.

A file holds several queries, each introduced by a header::

    -- name: experiment_by_id
    -- returns: one
    -- record: Experiment
    -- The experiment with this id (NotFound when there is none).
    select * from experiments where id = :id;

``returns`` is one of ``one`` (exactly one row, else NotFound), ``many``,
``scalar`` (first column of the first row), ``rowcount``, ``none`` or ``copy``;
``one`` and ``many`` name a ``record`` (a class in :mod:`resultsdb.records`) and the
rows become those records through a psycopg row factory. A ``copy`` query is a COPY
statement, started with :meth:`Registry.copy`; COPY takes no bind parameters, so its
``:name`` values are merged into the statement by psycopg, client-side, as literals.

Parameters are written ``:name`` (as aiosql, PugSQL and psql do). Identifiers
that vary - a sort column, a database name - are written ``{name}`` and
declared with ``-- identifier: name`` (any identifier, quoted through
``psycopg.sql.Identifier``) or ``-- identifier: name = a | b | c`` (only those).
A ``{name}`` declared with ``-- literal: name`` takes an integer, and with
``-- literal: name = a | b | c`` one of those words or None (NULL): passed like a
parameter, but written into the statement. For a LIMIT or a status filter: as bind
parameters, PostgreSQL's generic plan has to guess them (10% of the rows; any
status), costs more than a custom one, and so every call is planned afresh;
written in, the prepared statement's cached plan is the index range scan.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from resultsdb import _paths, records
from resultsdb.errors import NotFound, QueryRegistryError

log = logging.getLogger("resultsdb.queries")

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_HEADER = re.compile(r"^--\s*([a-z-]+):\s*(.*?)\s*$")


class Returns(StrEnum):
    ONE = "one"
    MANY = "many"
    SCALAR = "scalar"
    ROWCOUNT = "rowcount"
    NONE = "none"
    COPY = "copy"


@dataclass(frozen=True)
class Query:
    name: str
    returns: Returns
    record: type[BaseModel] | None
    text: str  # as written in the file
    psycopg_text: str  # :name -> %(name)s, % -> %%
    positional_text: str  # :name -> $n (for PREPARE / describe in tests)
    params: tuple[str, ...]
    identifiers: Mapping[str, frozenset[str] | None]
    doc: str
    source: str  # file:line
    # {name}s written in as literals: None = an integer, else one of these words (or NULL).
    literals: Mapping[str, frozenset[str] | None] = field(default_factory=dict)
    # compose()'s statements by (identifiers, literals, positional): building one costs
    # more than the rest of a call. Bounded, as identifiers may be any name.
    _composed: dict[tuple[Any, ...], str] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def param_names(self) -> frozenset[str]:
        return frozenset(self.params)

    def compose(self, identifiers: Mapping[str, str], *, positional: bool = False,
                literals: Mapping[str, int | str | None] | None = None) -> sql.Composed | str:
        """The statement to run, with ``{name}`` identifiers quoted in and ``{name}``
        literals (integers) written in.

        ``positional`` gives the ``$n`` form: for PREPARE (as the tests do), and for a
        query without parameters, which psycopg sends as it is (no ``%%`` doubling).
        """
        text = self.positional_text if positional else self.psycopg_text
        if not identifiers and not literals and not self.identifiers and not self.literals:
            return text  # nothing to check or write in: the common case, on every call
        literals = literals or {}
        if set(identifiers) != set(self.identifiers):
            raise QueryRegistryError(
                f"query {self.name} takes identifiers {sorted(self.identifiers)}, "
                f"got {sorted(identifiers)}"
            )
        if set(literals) != set(self.literals):
            raise QueryRegistryError(
                f"query {self.name} takes literals {sorted(self.literals)}, got {sorted(literals)}"
            )
        for key, value in literals.items():
            words = self.literals[key]
            if words is None and (isinstance(value, bool) or not isinstance(value, int)):
                raise QueryRegistryError(
                    f"{key}: query {self.name} takes an integer, got {value!r}")
            if words is not None and value is not None and value not in words:
                raise QueryRegistryError(
                    f"{key}: {value!r} is not allowed for query {self.name}; "
                    f"choose one of {', '.join(sorted(words))} or None")
        key_ = (tuple(sorted(identifiers.items())), tuple(sorted(literals.items())), positional)
        cached = self._composed.get(key_)
        if cached is not None:
            return cached
        # Integers and allowlisted words (lower_snake_case: nothing to escape) only.
        parts: dict[str, sql.Composable] = {
            k: sql.SQL("null" if v is None else str(int(v)) if isinstance(v, int) else f"'{v}'")
            for k, v in literals.items()}
        for key, value in identifiers.items():
            allowed = self.identifiers[key]
            if allowed is not None and value not in allowed:
                raise QueryRegistryError(
                    f"{key}: {value!r} is not allowed for query {self.name}; "
                    f"choose one of {', '.join(sorted(allowed))}"
                )
            ident = sql.Identifier(value)
            # With parameters psycopg reads any '%' in the statement, a quoted name's too.
            parts[key] = ident if positional else sql.SQL(ident.as_string().replace("%", "%%"))
        # Only the declared {name}s are placeholders: any other brace (a '{}' jsonb or
        # array literal) is escaped so that format() leaves it as it is.
        template = re.sub(r"[{}]", lambda m: m.group(0) * 2, text)
        names = "|".join(re.escape(k) for k in [*self.identifiers, *self.literals])
        template = re.sub(r"\{\{(" + names + r")\}\}", r"{\1}", template)
        composed = sql.SQL(template).format(**parts)
        if len(self._composed) >= 256:
            return composed
        statement = composed.as_string()
        self._composed[key_] = statement
        return statement


def convert_placeholders(text: str) -> tuple[str, str, tuple[str, ...]]:
    """Rewrite ``:name`` parameters for psycopg (``%(name)s``) and for PREPARE (``$n``).

    String literals (with E'' backslash escapes), quoted identifiers, comments (nested
    block comments too), dollar-quoted bodies and ``::type`` casts are left alone; a
    literal ``%`` is doubled for psycopg.
    """
    out_named: list[str] = []
    out_pos: list[str] = []
    names: list[str] = []
    i, n = 0, len(text)

    def emit(chunk: str, *, percent_safe: bool = False) -> None:
        out_named.append(chunk if percent_safe else chunk.replace("%", "%%"))
        out_pos.append(chunk)

    while i < n:
        c = text[i]
        after_word = i > 0 and (text[i - 1].isalnum() or text[i - 1] in "_$")
        if c in "'\"":
            # E'...' strings take backslash escapes: E'it\'s' is one literal.
            backslash = c == "'" and i > 0 and text[i - 1] in "eE" and not (
                i > 1 and (text[i - 2].isalnum() or text[i - 2] in "_$"))
            j = i + 1
            while j < n:
                if backslash and text[j] == "\\":
                    j += 2
                    continue
                if text[j] == c:
                    if j + 1 < n and text[j + 1] == c:  # doubled quote
                        j += 2
                        continue
                    break
                j += 1
            emit(text[i : j + 1])
            i = j + 1
        elif text.startswith("--", i):
            j = text.find("\n", i)
            j = n if j == -1 else j
            emit(text[i:j])
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2  # PostgreSQL block comments nest
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            emit(text[i:j])
            i = j
        elif c == "$" and not after_word and (m := re.match(r"\$([A-Za-z_]\w*)?\$", text[i:])):
            tag = m.group(0)
            j = text.find(tag, i + len(tag))
            j = n if j == -1 else j + len(tag)
            emit(text[i:j])
            i = j
        elif c == ":" and text.startswith("::", i):
            emit("::")
            i += 2
        elif c == ":" and (m := re.match(r":([A-Za-z_]\w*)", text[i:])) and (
            i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "_:")
        ):
            name = m.group(1)
            if name not in names:
                names.append(name)
            out_named.append(f"%({name})s")
            out_pos.append(f"${names.index(name) + 1}")
            i += len(m.group(0))
        else:
            emit(c)
            i += 1
    return "".join(out_named), "".join(out_pos), tuple(names)


def _parse_identifier(spec: str, where: str) -> tuple[str, frozenset[str] | None]:
    name, _, allowed = spec.partition("=")
    name = name.strip()
    if not _NAME.match(name):
        raise QueryRegistryError(f"{where}: bad identifier name {name!r}")
    if not allowed.strip():
        return name, None
    values = frozenset(v.strip() for v in allowed.split("|") if v.strip())
    bad = [v for v in values if not _NAME.match(v)]
    if bad:
        raise QueryRegistryError(f"{where}: identifier {name} allows bad values {bad}")
    return name, values


def parse_file(path: Path, record_types: Mapping[str, type[BaseModel]]) -> list[Query]:
    """Parse one ``.sql`` file of named queries; raise QueryRegistryError when malformed."""
    lines = path.read_text(encoding="utf-8").splitlines()
    queries: list[Query] = []
    i = 0
    # Text before the first "-- name:" is the file's own comment.
    while i < len(lines) and not lines[i].startswith("-- name:"):
        if lines[i].strip() and not lines[i].lstrip().startswith("--"):
            raise QueryRegistryError(f"{path.name}:{i + 1}: SQL before the first '-- name:' header")
        i += 1
    while i < len(lines):
        start = i
        where = f"{path.name}:{start + 1}"
        headers: dict[str, str] = {}
        identifiers: dict[str, frozenset[str] | None] = {}
        literals: dict[str, frozenset[str] | None] = {}
        doc: list[str] = []
        while i < len(lines) and lines[i].startswith("--"):
            m = _HEADER.match(lines[i])
            if m and m.group(1) in ("name", "returns", "record", "identifier", "literal") and not doc:
                key, value = m.groups()
                if key == "identifier":
                    ident, allowed = _parse_identifier(value, where)
                    identifiers[ident] = allowed
                elif key == "literal":
                    literal, words = _parse_identifier(value, where)
                    if literal in identifiers:
                        raise QueryRegistryError(f"{where}: bad literal name {literal!r}")
                    literals[literal] = words
                elif key in headers:
                    raise QueryRegistryError(f"{where}: '{key}' given twice")
                else:
                    headers[key] = value
            else:
                doc.append(lines[i][2:].strip())
            i += 1
        body_lines: list[str] = []
        while i < len(lines) and not lines[i].startswith("-- name:"):
            body_lines.append(lines[i])
            i += 1
        name = headers.get("name", "")
        if not _NAME.match(name):
            raise QueryRegistryError(f"{where}: query name {name!r} must be lower_snake_case")
        try:
            returns = Returns(headers.get("returns", ""))
        except ValueError:
            raise QueryRegistryError(
                f"{where}: query {name}: 'returns' must be one of "
                f"{', '.join(r.value for r in Returns)}"
            ) from None
        record: type[BaseModel] | None = None
        record_name = headers.get("record")
        if returns in (Returns.ONE, Returns.MANY):
            if not record_name:
                raise QueryRegistryError(f"{where}: query {name} returns rows but names no record")
            if record_name not in record_types:
                raise QueryRegistryError(f"{where}: query {name}: unknown record {record_name!r}")
            record = record_types[record_name]
        elif record_name:
            raise QueryRegistryError(f"{where}: query {name} returns {returns} but names a record")
        text = "\n".join(body_lines).strip().rstrip(";").strip()
        if not text:
            raise QueryRegistryError(f"{where}: query {name} has no SQL")
        named, positional, params = convert_placeholders(text)
        for ident in identifiers:
            if "{" + ident + "}" not in text:
                raise QueryRegistryError(f"{where}: identifier {{{ident}}} unused in {name}")
        for literal in literals:
            if "{" + literal + "}" not in text or literal in params or literal in identifiers:
                raise QueryRegistryError(
                    f"{where}: literal {{{literal}}} unused in {name}, or also a parameter")
        queries.append(
            Query(
                name=name, returns=returns, record=record, text=text, psycopg_text=named,
                positional_text=positional, params=params, identifiers=identifiers,
                doc=" ".join(d for d in doc if d), source=where, literals=literals,
            )
        )
    return queries


@dataclass
class Registry:
    """All named queries, with helpers that run them on a psycopg connection."""

    queries: dict[str, Query] = field(default_factory=dict)
    slow_query_ms: float = 500.0

    @classmethod
    def load(cls, directory: Path | None = None,
             record_types: Mapping[str, type[BaseModel]] | None = None) -> Registry:
        directory = directory or _paths.sql_dir() / "queries"
        types = record_types if record_types is not None else records.RECORD_TYPES
        registry = cls()
        files = sorted(directory.glob("*.sql"))
        if not files:
            raise QueryRegistryError(f"no query files in {directory}")
        for path in files:
            for query in parse_file(path, types):
                if query.name in registry.queries:
                    raise QueryRegistryError(
                        f"{query.source}: query {query.name} already defined at "
                        f"{registry.queries[query.name].source}"
                    )
                registry.queries[query.name] = query
        return registry

    def __getitem__(self, name: str) -> Query:
        try:
            return self.queries[name]
        except KeyError:
            raise QueryRegistryError(f"no query named {name!r}") from None

    def __iter__(self) -> Iterator[Query]:
        return iter(self.queries.values())

    def __len__(self) -> int:
        return len(self.queries)

    # -- running queries -------------------------------------------------------------

    def _execute(self, cur: psycopg.Cursor[Any], query: Query,
                 identifiers: Mapping[str, str] | None, params: dict[str, Any]) -> None:
        literals = {k: params.pop(k) for k in query.literals if k in params}
        if params.keys() != query.param_names:
            missing = [p for p in query.params if p not in params]
            extra = [p for p in params if p not in query.params]
            raise QueryRegistryError(
                f"query {query.name}: missing parameters {missing}, unexpected {extra}"
            )
        values = {k: Jsonb(v) if isinstance(v, dict) else v for k, v in params.items()}
        # Without parameters psycopg sends the statement as it is, so it must not hold the
        # '%%' that psycopg_text has for a literal '%': that is the positional text then.
        statement = query.compose(identifiers or {}, positional=not query.params,
                                  literals=literals)
        started = time.perf_counter()
        try:
            cur.execute(statement, values or None)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            if elapsed_ms >= self.slow_query_ms:
                # Name and duration only: parameter values may be sensitive.
                log.warning("slow query %s took %.1f ms", query.name, elapsed_ms)

    def one(self, conn: psycopg.Connection[Any], name: str, /, *,
            identifiers: Mapping[str, str] | None = None, **params: Any) -> Any:
        query = self._expect(name, Returns.ONE)
        assert query.record is not None
        with conn.cursor(row_factory=class_row(query.record)) as cur:
            self._execute(cur, query, identifiers, params)
            row = cur.fetchone()
        if row is None:
            raise NotFound(_not_found_message(query, params), table=_table_of(query), key=params)
        return row

    def many(self, conn: psycopg.Connection[Any], name: str, /, *,
             identifiers: Mapping[str, str] | None = None, **params: Any) -> list[Any]:
        query = self._expect(name, Returns.MANY)
        assert query.record is not None
        with conn.cursor(row_factory=class_row(query.record)) as cur:
            self._execute(cur, query, identifiers, params)
            return cur.fetchall()

    def scalar(self, conn: psycopg.Connection[Any], name: str, /, *,
               identifiers: Mapping[str, str] | None = None, **params: Any) -> Any:
        query = self._expect(name, Returns.SCALAR)
        with conn.cursor() as cur:
            self._execute(cur, query, identifiers, params)
            row = cur.fetchone()
        return None if row is None else row[0]

    def rowcount(self, conn: psycopg.Connection[Any], name: str, /, *,
                 identifiers: Mapping[str, str] | None = None, **params: Any) -> int:
        query = self._expect(name, Returns.ROWCOUNT)
        with conn.cursor() as cur:
            self._execute(cur, query, identifiers, params)
            return cur.rowcount

    def execute(self, conn: psycopg.Connection[Any], name: str, /, *,
                identifiers: Mapping[str, str] | None = None, **params: Any) -> None:
        query = self._expect(name, Returns.NONE)
        with conn.cursor() as cur:
            self._execute(cur, query, identifiers, params)

    def copy(self, cur: psycopg.Cursor[Any], name: str, /, *,
             identifiers: Mapping[str, str] | None = None,
             **params: Any) -> AbstractContextManager[psycopg.Copy]:
        """Start the COPY statement ``name`` on ``cur``: use the result in a ``with`` block."""
        query = self._expect(name, Returns.COPY)
        missing = [p for p in query.params if p not in params]
        extra = [p for p in params if p not in query.params]
        if missing or extra:
            raise QueryRegistryError(
                f"query {query.name}: missing parameters {missing}, unexpected {extra}"
            )
        statement = query.compose(identifiers or {}, positional=not query.params)
        return cur.copy(statement, params or None)

    def _expect(self, name: str, returns: Returns) -> Query:
        query = self[name]
        if query.returns is not returns:
            raise QueryRegistryError(f"query {name} returns {query.returns}, not {returns}")
        return query


_WRITE_TARGET = re.compile(r"\b(?:update|insert\s+into|delete\s+from)\s+([a-z_][a-z0-9_]*)", re.IGNORECASE)
_READ_SOURCE = re.compile(r"\bfrom\s+([a-z_][a-z0-9_]*)", re.IGNORECASE)


def _table_of(query: Query) -> str | None:
    """The table a query is about, for NotFound messages: the write target, else the first FROM."""
    m = _WRITE_TARGET.search(query.text) or _READ_SOURCE.search(query.text)
    return m.group(1) if m else None


def _not_found_message(query: Query, params: Mapping[str, Any]) -> str:
    table = _table_of(query) or "row"
    keys = ", ".join(f"{k}={v}" for k, v in params.items() if not isinstance(v, dict))
    return f"{table}: no row with {keys}" if keys else f"{table}: no row ({query.name})"


_default: Registry | None = None


def default_registry() -> Registry:
    """The registry of the package's own ``sql/queries`` (loaded once)."""
    global _default
    if _default is None:
        _default = Registry.load()
    return _default
