"""Named SQL queries as written in ``sql/queries/*.sql``: the file format and its parser.

A file holds several queries, each introduced by a header::

    -- name: experiment_by_id
    -- returns: one
    -- record: Experiment
    -- table: experiments
    -- The experiment with this id (NotFound when there is none).
    select * from experiments where id = :id;

``returns`` says what a call gives back:

- ``one``: the row as its ``record`` (a class in :mod:`resultsdb.records`); no row is
  NotFound, worded with ``table`` (required) and the parameters.
- ``one_or_none``: the row as its ``record``, or None.
- ``many``: a list of ``record``.
- ``scalar``: the first column of the one row, of the ``type`` named (``bool``, ``int``,
  ``float``, ``str``, ``uuid``, ``datetime``, ``bytes``, ``json``); ``type: uuid?`` allows
  NULL and no row (None), otherwise no row is NotFound.
- ``rowcount``: the number of rows the statement touched; ``none``: nothing.
- ``copy``: a COPY statement, started as a context manager. COPY takes no bind parameters,
  so psycopg merges its ``:name`` values into the statement, client-side, as literals.

Parameters are written ``:name`` (as aiosql, PugSQL and psql do). Identifiers that vary -
a sort column, a database name - are written ``{name}`` and declared with ``-- identifier:
name`` (any identifier, quoted through ``psycopg.sql.Identifier``) or ``-- identifier: name
= a | b | c`` (only those). A ``{name}`` declared with ``-- literal: name`` takes an integer,
and with ``-- literal: name = a | b | c`` one of those words or None: passed like a
parameter, but written into the statement with ``psycopg.sql.Literal``. For a LIMIT or a
status filter: as bind parameters, PostgreSQL's generic plan has to guess them (10% of the
rows; any status), costs more than a custom one, and so every call is planned afresh;
written in, the prepared statement's cached plan is the index range scan.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from psycopg import sql
from pydantic import BaseModel

from resultsdb.errors import QueryRegistryError

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_HEADER = re.compile(r"^--\s*([a-z_-]+):\s*(.*?)\s*$")
_KEYS = ("name", "returns", "record", "type", "table", "identifier", "literal")


class Returns(StrEnum):
    ONE = "one"
    ONE_OR_NONE = "one_or_none"
    MANY = "many"
    SCALAR = "scalar"
    ROWCOUNT = "rowcount"
    NONE = "none"
    COPY = "copy"


ROW_KINDS = (Returns.ONE, Returns.ONE_OR_NONE, Returns.MANY)

# A scalar query's ``-- type:``: the Python type of its value (``json``: whatever jsonb
# decodes to, so no check).
SCALAR_TYPES: dict[str, type | None] = {
    "bool": bool, "int": int, "float": float, "str": str, "uuid": uuid.UUID,
    "datetime": datetime, "bytes": bytes, "json": None,
}


@dataclass(frozen=True)
class Query:
    name: str
    returns: Returns
    text: str  # as written in the file
    psycopg_text: str  # :name -> %(name)s, % -> %%
    positional_text: str  # :name -> $n (for PREPARE / describe in tests)
    params: tuple[str, ...]
    doc: str
    source: str  # file:line
    record: type[BaseModel] | None = None  # the row type of ONE, ONE_OR_NONE and MANY
    scalar_type: str | None = None  # a SCALAR_TYPES key
    nullable: bool = False  # a scalar that may be NULL or missing
    table: str | None = None  # what NotFound names
    identifiers: Mapping[str, frozenset[str] | None] = field(default_factory=dict)
    # {name}s written in as literals: None = an integer, else one of these words (or NULL).
    literals: Mapping[str, frozenset[str] | None] = field(default_factory=dict)
    # compose()'s statements by (identifiers, literals, positional): building one costs
    # more than the rest of a call. Bounded, as identifiers may be any name.
    _composed: dict[tuple[Any, ...], str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def param_names(self) -> frozenset[str]:
        return frozenset(self.params)

    def compose(self, identifiers: Mapping[str, str], *, positional: bool = False,
                literals: Mapping[str, int | str | None] | None = None) -> sql.Composed | str:
        """The statement to run, with ``{name}`` identifiers quoted in and ``{name}``
        literals written in.

        ``positional`` gives the ``$n`` form: for PREPARE (as the tests do), and for a
        query without parameters, which psycopg sends as it is (no ``%%`` doubling).
        """
        text = self.positional_text if positional else self.psycopg_text
        if not identifiers and not literals and not self.identifiers and not self.literals:
            return text  # nothing to check or write in: the common case, on every call
        literals = literals or {}
        if set(identifiers) != set(self.identifiers):
            raise QueryRegistryError(f"query {self.name} takes identifiers "
                                     f"{sorted(self.identifiers)}, got {sorted(identifiers)}")
        if set(literals) != set(self.literals):
            raise QueryRegistryError(
                f"query {self.name} takes literals {sorted(self.literals)}, got {sorted(literals)}")
        for key, value in literals.items():
            words = self.literals[key]
            if words is None and (isinstance(value, bool) or not isinstance(value, int)):
                raise QueryRegistryError(f"{key}: query {self.name} takes an integer, got {value!r}")
            if words is not None and value is not None and value not in words:
                raise QueryRegistryError(
                    f"{key}: {value!r} is not allowed for query {self.name}; "
                    f"choose one of {', '.join(sorted(words))} or None")
        for key, value in identifiers.items():
            allowed = self.identifiers[key]
            if allowed is not None and value not in allowed:
                raise QueryRegistryError(f"{key}: {value!r} is not allowed for query {self.name}; "
                                         f"choose one of {', '.join(sorted(allowed))}")
        cache_key = (tuple(sorted(identifiers.items())), tuple(sorted(literals.items())), positional)
        cached = self._composed.get(cache_key)
        if cached is not None:
            return cached
        parts: dict[str, sql.Composable] = {k: sql.Literal(v) for k, v in literals.items()}
        parts.update({k: sql.Identifier(v) for k, v in identifiers.items()})
        if not positional:
            # With parameters psycopg reads every '%' of the statement: one in a quoted
            # name must reach the server as it is.
            parts = {k: sql.SQL(v.as_string().replace("%", "%%")) for k, v in parts.items()}
        # Only the declared {name}s are placeholders: any other brace (a '{}' jsonb or
        # array literal) is escaped so that format() leaves it as it is.
        template = re.sub(r"[{}]", lambda m: m.group(0) * 2, text)
        names = "|".join(re.escape(k) for k in [*self.identifiers, *self.literals])
        template = re.sub(r"\{\{(" + names + r")\}\}", r"{\1}", template)
        statement = sql.SQL(template).format(**parts).as_string()
        if len(self._composed) < 256:
            self._composed[cache_key] = statement
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

    def emit(chunk: str) -> None:
        out_named.append(chunk.replace("%", "%%"))
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


def _allowlist(spec: str, where: str) -> tuple[str, frozenset[str] | None]:
    name, _, allowed = spec.partition("=")
    name = name.strip()
    if not NAME.match(name):
        raise QueryRegistryError(f"{where}: bad identifier name {name!r}")
    if not allowed.strip():
        return name, None
    values = frozenset(v.strip() for v in allowed.split("|") if v.strip())
    bad = [v for v in values if not NAME.match(v)]
    if bad:
        raise QueryRegistryError(f"{where}: identifier {name} allows bad values {bad}")
    return name, values


def _result_type(name: str, returns: Returns, headers: Mapping[str, str], where: str,
                 record_types: Mapping[str, type[BaseModel]]) -> dict[str, Any]:
    """The ``record``, ``scalar_type``, ``nullable`` and ``table`` fields of a Query."""
    record_name, type_name, table = (headers.get(k) for k in ("record", "type", "table"))
    out: dict[str, Any] = {"table": table}
    if table is not None and not NAME.match(table):
        raise QueryRegistryError(f"{where}: query {name}: bad table name {table!r}")
    if returns in ROW_KINDS:
        if not record_name:
            raise QueryRegistryError(f"{where}: query {name} returns rows but names no record")
        if record_name not in record_types:
            raise QueryRegistryError(f"{where}: query {name}: unknown record {record_name!r}")
        out["record"] = record_types[record_name]
    elif record_name:
        raise QueryRegistryError(f"{where}: query {name} returns {returns} but names a record")
    if returns is Returns.SCALAR:
        base = (type_name or "").removesuffix("?")
        if base not in SCALAR_TYPES:
            raise QueryRegistryError(f"{where}: query {name}: 'type' must be one of "
                                     f"{', '.join(SCALAR_TYPES)} (with ? when it may be null)")
        out.update(scalar_type=base, nullable=type_name != base)
    elif type_name:
        raise QueryRegistryError(f"{where}: query {name} returns {returns} but names a type")
    if returns is Returns.ONE and not table:
        raise QueryRegistryError(f"{where}: query {name} returns one row: name its 'table' "
                                 "(NotFound says which)")
    return out


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
        where = f"{path.name}:{i + 1}"
        headers: dict[str, str] = {}
        identifiers: dict[str, frozenset[str] | None] = {}
        literals: dict[str, frozenset[str] | None] = {}
        doc: list[str] = []
        while i < len(lines) and lines[i].startswith("--"):
            m = _HEADER.match(lines[i])
            if m and m.group(1) in _KEYS and not doc:
                key, value = m.groups()
                if key in ("identifier", "literal"):
                    item, allowed = _allowlist(value, where)
                    if item in identifiers or item in literals:
                        raise QueryRegistryError(f"{where}: {item!r} declared twice")
                    (identifiers if key == "identifier" else literals)[item] = allowed
                elif key in headers:
                    raise QueryRegistryError(f"{where}: '{key}' given twice")
                else:
                    headers[key] = value
            else:
                doc.append(lines[i][2:].strip())
            i += 1
        body: list[str] = []
        while i < len(lines) and not lines[i].startswith("-- name:"):
            body.append(lines[i])
            i += 1
        name = headers.get("name", "")
        if not NAME.match(name):
            raise QueryRegistryError(f"{where}: query name {name!r} must be lower_snake_case")
        try:
            returns = Returns(headers.get("returns", ""))
        except ValueError:
            raise QueryRegistryError(f"{where}: query {name}: 'returns' must be one of "
                                     f"{', '.join(r.value for r in Returns)}") from None
        result = _result_type(name, returns, headers, where, record_types)
        text = "\n".join(body).strip().rstrip(";").strip()
        if not text:
            raise QueryRegistryError(f"{where}: query {name} has no SQL")
        named, positional, params = convert_placeholders(text)
        for ident in identifiers:
            if "{" + ident + "}" not in text:
                raise QueryRegistryError(f"{where}: identifier {{{ident}}} unused in {name}")
        for literal in literals:
            if "{" + literal + "}" not in text or literal in params:
                raise QueryRegistryError(
                    f"{where}: literal {{{literal}}} unused in {name}, or also a parameter")
        clash = set(params) & set(identifiers)
        if clash:
            raise QueryRegistryError(f"{where}: {sorted(clash)} both parameter and identifier")
        queries.append(Query(
            name=name, returns=returns, text=text, psycopg_text=named, positional_text=positional,
            params=params, doc=" ".join(d for d in doc if d), source=where,
            identifiers=identifiers, literals=literals, **result))
    return queries


_FRAGMENT = re.compile(r"^--\s*fragment:\s*([a-z][a-z0-9_]*)\s*$")


def parse_fragments(path: Path) -> dict[str, str]:
    """The pieces of a ``sql/fragments`` file, by name: each follows a ``-- fragment: name``
    line, up to the next one. Comment lines are left out; ``{slot}`` marks where a
    composer puts a ``psycopg.sql`` part. QueryRegistryError when malformed."""
    fragments: dict[str, str] = {}
    name: str | None = None
    body: list[str] = []

    def close() -> None:
        if name is not None:
            text = "\n".join(body).strip()
            if not text:
                raise QueryRegistryError(f"{path.name}: fragment {name} is empty")
            fragments[name] = text

    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        m = _FRAGMENT.match(line)
        if m:
            close()
            name, body = m.group(1), []
            if name in fragments:
                raise QueryRegistryError(f"{path.name}:{number}: fragment {name} defined twice")
        elif line.lstrip().startswith("--"):
            continue
        elif name is None:
            if line.strip():
                raise QueryRegistryError(f"{path.name}:{number}: SQL before the first fragment")
        else:
            body.append(line)
    close()
    return fragments
