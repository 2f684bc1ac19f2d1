"""The named-query registry: every query prepares, records match their SQL, the loader refuses
malformed files with file:line, placeholders convert, identifiers are composed safely."""

from __future__ import annotations

import logging
import re
import types
import typing
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg import sql
from pydantic import AwareDatetime, ValidationError

from resultsdb import records
from resultsdb.errors import QueryRegistryError
from resultsdb.registry import Registry, default_registry
from resultsdb.sqlfiles import SCALAR_TYPES, Query, Returns, convert_placeholders

# Queries that PostgreSQL cannot PREPARE, each with the reason. Keep it short: a query
# belongs here only when the protocol itself refuses it (utility statements parse).
_COPY_OUT = ("COPY takes no bind parameters: psycopg merges its :params client-side, so PREPARE "
             "sees none (tests/series/test_read.py plans the SELECT inside it)")
UNPREPARABLE: dict[str, str] = {
    "copy_equity_out": _COPY_OUT,
    "copy_equity_out_downsampled": _COPY_OUT,
    "copy_trades_out": _COPY_OUT,
}

# A valid value for every free {identifier}: parsing does not look the name up.
PROBE_IDENTIFIER = "rdb_prepare_probe"


@pytest.fixture(scope="module")
def schema_conn(pg_server: Any, template_db: str) -> Iterator[psycopg.Connection[Any]]:
    """One migrated database for the whole module: preparing a statement changes nothing."""
    name = f"rdb_reg_{uuid.uuid4().hex[:12]}"
    conninfo = pg_server.create_database(name, template=template_db)
    try:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            yield conn
    finally:
        pg_server.drop_database(name)


def identifiers_for(query: Query) -> dict[str, str]:
    return {name: sorted(allowed)[0] if allowed else PROBE_IDENTIFIER
            for name, allowed in query.identifiers.items()}


def as_text(statement: sql.Composed | str, conn: psycopg.Connection[Any]) -> str:
    return statement if isinstance(statement, str) else statement.as_string(conn)


# -- every registered query against the migrated schema ---------------------------------

# The PostgreSQL types a record field of each Python type may come from (strict records:
# no coercion, so e.g. numeric -> float or timestamp -> aware datetime would fail).
_TYPES: dict[Any, set[str]] = {
    UUID: {"uuid"},
    str: {"text", "varchar", "name", "bpchar"},
    int: {"int2", "int4", "int8"},
    float: {"float4", "float8", "int2", "int4", "int8"},
    bool: {"bool"},
    datetime: {"timestamptz"},
    AwareDatetime: {"timestamptz"},
    dict: {"jsonb", "json"},
    list: {"_text", "_varchar", "_name"},
}


def allowed_types(annotation: Any) -> set[str]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return allowed_types(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return set().union(*(allowed_types(a) for a in typing.get_args(annotation)
                             if a is not type(None)))
    if origin is typing.Literal:
        return set().union(*(allowed_types(type(a)) for a in typing.get_args(annotation)))
    if origin is dict or annotation is dict:
        return _TYPES[dict]
    if origin is list:
        (item,) = typing.get_args(annotation) or (Any,)
        # A list of JSON objects comes from a jsonb array; a list of names from text[].
        item_origin = typing.get_origin(item)
        if item is dict or item_origin is dict:
            return _TYPES[dict]
        return _TYPES[list]
    if annotation in _TYPES:
        return _TYPES[annotation]
    for python_type, names in _TYPES.items():
        if isinstance(annotation, type) and issubclass(annotation, python_type):
            return names
    raise AssertionError(f"no PostgreSQL types known for {annotation!r}")


def test_the_default_registry_loads_every_query_file() -> None:
    registry = default_registry()
    assert len(registry) > 0
    assert len(UNPREPARABLE) <= 3, "UNPREPARABLE is for the odd DDL statement only"
    assert set(UNPREPARABLE) <= set(registry.queries), "UNPREPARABLE names an unknown query"
    files = {q.source.split(":")[0] for q in registry}
    assert "catalog.sql" in files


@pytest.mark.parametrize("name", sorted(set(default_registry().queries) - set(UNPREPARABLE)))
def test_query_prepares_and_returns_its_records_fields(
        name: str, schema_conn: psycopg.Connection[Any]) -> None:
    # UNPREPARABLE's queries are left out, each with its reason and its own test.
    check_query(default_registry()[name], schema_conn)


def check_query(query: Query, conn: psycopg.Connection[Any]) -> None:
    """PREPARE the query; rows must carry exactly its record's fields, in types that fit."""
    literals = {k: 10 if words is None else sorted(words)[0] for k, words in query.literals.items()}
    text = as_text(query.compose(identifiers_for(query), positional=True, literals=literals), conn)
    prepared = conn.pgconn.prepare(b"", text.encode())
    assert prepared.status == psycopg.pq.ExecStatus.COMMAND_OK, (
        f"{query.source}: {query.name} does not prepare: "
        f"{prepared.error_message.decode().strip()} (a parameter of unknown type needs a cast)")
    described = conn.pgconn.describe_prepared(b"")
    assert described.status == psycopg.pq.ExecStatus.COMMAND_OK
    assert described.nparams == len(query.params), (query.params, described.nparams)

    columns = [described.fname(i).decode() for i in range(described.nfields)]
    if query.returns in (Returns.ONE, Returns.ONE_OR_NONE, Returns.MANY):
        assert query.record is not None
        fields = query.record.model_fields
        assert len(columns) == len(set(columns)), f"{query.name}: duplicate columns {columns}"
        assert set(columns) == set(fields), (
            f"{query.source}: {query.name} returns {sorted(columns)}; record "
            f"{query.record.__name__} has {sorted(fields)} (missing "
            f"{sorted(set(fields) - set(columns))}, extra {sorted(set(columns) - set(fields))})")
        oids = [described.ftype(i) for i in range(described.nfields)]
        typnames = dict(conn.execute(
            "select oid::int, typname::text from pg_type where oid = any(%s)", (oids,)).fetchall())
        wrong = {
            column: typnames[oid] for column, oid in zip(columns, oids, strict=True)
            if typnames[oid] not in allowed_types(fields[column].annotation)
        }
        assert not wrong, f"{query.source}: {query.name}: column types do not fit the record: {wrong}"
    elif query.returns is Returns.SCALAR:
        assert columns, f"{query.name} returns scalar but selects no column"
        typname = conn.execute("select typname::text from pg_type where oid = %s",
                               (described.ftype(0),)).fetchone()[0]
        declared = SCALAR_TYPES[query.scalar_type or ""]
        allowed = {"jsonb", "json"} if declared is None else allowed_types(declared)
        assert typname in allowed, (
            f"{query.source}: {query.name} declares type {query.scalar_type}; its column is {typname}")


@pytest.mark.parametrize(("body", "complaint"), [
    ("select relname as name, relkind as kind from pg_class", "extra ['kind']"),
    ("select relname as title from pg_class", "missing ['name']"),
    ("select 1::numeric as name", "column types do not fit the record: {'name': 'numeric'}"),
    ("select relname as name from pg_clas", 'relation "pg_clas" does not exist'),
    ("select now()::timestamp as migration_hash, 'x' as migration_id, "
     "now()::timestamp as applied_at", "'applied_at': 'timestamp'"),
])
def test_the_query_check_catches_drift(body: str, complaint: str, tmp_path: Path,
                                       schema_conn: psycopg.Connection[Any]) -> None:
    record = "AppliedMigration" if "applied_at" in body else "PartitionName"
    (tmp_path / "q.sql").write_text(
        f"-- name: drifted\n-- returns: many\n-- record: {record}\n{body}\n", encoding="utf-8")
    with pytest.raises(AssertionError) as info:
        check_query(Registry.load(tmp_path)["drifted"], schema_conn)
    assert complaint in str(info.value)


# -- loader failures ---------------------------------------------------------------------

GOOD = "-- name: ok\n-- returns: scalar\n-- type: int\nselect 1;\n"


def load(tmp_path: Path, *files: str) -> Registry:
    for i, text in enumerate(files):
        (tmp_path / f"f{i}.sql").write_text(text, encoding="utf-8")
    return Registry.load(tmp_path)


@pytest.mark.parametrize(("files", "where", "message"), [
    pytest.param(
        (GOOD + "\n-- name: ok\n-- returns: scalar\n-- type: int\nselect 2;\n",),
        "f0.sql:6", r"query ok already defined at f0.sql:1", id="duplicate-in-file"),
    pytest.param(
        (GOOD, "-- first\n" + GOOD),
        "f1.sql:2", r"query ok already defined at f0.sql:1", id="duplicate-across-files"),
    pytest.param(
        ("-- name: r\n-- returns: many\n-- record: NoSuchRecord\nselect 1;\n",),
        "f0.sql:1", r"unknown record 'NoSuchRecord'", id="unknown-record"),
    pytest.param(
        ("-- name: r\n-- returns: lots\nselect 1;\n",),
        "f0.sql:1", r"'returns' must be one of one, one_or_none, many, scalar", id="malformed-returns"),
    pytest.param(
        ("-- name: r\nselect 1;\n",),
        "f0.sql:1", r"'returns' must be one of", id="missing-returns"),
    pytest.param(
        ("-- name: r\n-- returns: one\nselect 1;\n",),
        "f0.sql:1", r"returns rows but names no record", id="rows-without-record"),
    pytest.param(
        ("-- name: r\n-- returns: one\n-- record: PartitionName\nselect 'x' as name;\n",),
        "f0.sql:1", r"returns one row: name its 'table'", id="one-without-table"),
    pytest.param(
        ("-- name: r\n-- returns: scalar\nselect 1;\n",),
        "f0.sql:1", r"'type' must be one of bool, int", id="scalar-without-type"),
    pytest.param(
        ("-- name: r\n-- returns: scalar\n-- type: integer\nselect 1;\n",),
        "f0.sql:1", r"'type' must be one of", id="scalar-unknown-type"),
    pytest.param(
        ("-- name: r\n-- returns: none\n-- type: int\nselect 1;\n",),
        "f0.sql:1", r"returns none but names a type", id="type-without-scalar"),
    pytest.param(
        ("-- name: r\n-- returns: none\n-- table: no-such\nselect 1;\n",),
        "f0.sql:1", r"bad table name", id="bad-table"),
    pytest.param(
        ("-- name: r\n-- returns: scalar\n-- record: PartitionName\nselect 1;\n",),
        "f0.sql:1", r"returns scalar but names a record", id="scalar-with-record"),
    pytest.param(
        ("-- about this file\n\nselect 1;\n" + GOOD,),
        "f0.sql:3", r"SQL before the first '-- name:' header", id="sql-before-header"),
    pytest.param(
        ("-- name: r\n-- returns: none\n-- identifier: col\nselect 1;\n",),
        "f0.sql:1", r"identifier \{col\} unused in r", id="unused-identifier"),
    pytest.param(
        ("-- name: r\n-- returns: none\n-- identifier: col = a | b-c\nselect {col};\n",),
        "f0.sql:1", r"identifier col allows bad values", id="bad-allowed-identifier"),
    pytest.param(
        ("-- name: Bad-Name\n-- returns: none\nselect 1;\n",),
        "f0.sql:1", r"must be lower_snake_case", id="bad-name"),
    pytest.param(
        (GOOD + "\n-- name: empty\n-- returns: none\n;\n",),
        "f0.sql:6", r"query empty has no SQL", id="no-sql"),
    pytest.param(
        ("-- name: r\n-- returns: none\n-- returns: scalar\nselect 1;\n",),
        "f0.sql:1", r"'returns' given twice", id="header-twice"),
])
def test_loader_refuses_malformed_files_with_file_and_line(
        tmp_path: Path, files: tuple[str, ...], where: str, message: str) -> None:
    with pytest.raises(QueryRegistryError) as info:
        load(tmp_path, *files)
    text = str(info.value)
    assert text.startswith(f"{where}:"), text
    assert re.search(message, text), text


def test_loader_refuses_an_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(QueryRegistryError, match="no query files"):
        Registry.load(tmp_path)


def test_loader_reads_headers_doc_and_body(tmp_path: Path) -> None:
    registry = load(tmp_path, (
        "-- Queries about nothing.\n\n"
        "-- name: first\n-- returns: many\n-- record: PartitionName\n"
        "-- The partitions, by name.\n-- Second line of the doc.\n"
        "select relname as name from pg_class where relname like :pattern;\n\n"
        "-- name: second\n-- returns: rowcount\nupdate t set a = :a where b = :b and a <> :a;\n"
    ))
    first, second = registry["first"], registry["second"]
    assert first.returns is Returns.MANY and first.record is records.PartitionName
    assert first.doc == "The partitions, by name. Second line of the doc."
    assert first.source == "f0.sql:3" and second.source == "f0.sql:10"
    assert first.text.endswith(":pattern") and first.params == ("pattern",)
    assert second.params == ("a", "b") and second.positional_text.endswith("a <> $1")
    with pytest.raises(QueryRegistryError, match="no query named 'third'"):
        registry["third"]


# -- placeholder conversion ----------------------------------------------------------------


@pytest.mark.parametrize(("text", "named", "positional", "params"), [
    pytest.param("select :a::int, x::text from t where b = :b",
                 "select %(a)s::int, x::text from t where b = %(b)s",
                 "select $1::int, x::text from t where b = $2", ("a", "b"), id="casts"),
    pytest.param("select ':not_a_param', 'it''s :x', \"col:y\" from t where a = :a",
                 "select ':not_a_param', 'it''s :x', \"col:y\" from t where a = %(a)s",
                 "select ':not_a_param', 'it''s :x', \"col:y\" from t where a = $1", ("a",),
                 id="strings-with-colons"),
    pytest.param("select E'it\\'s :x', :a", "select E'it\\'s :x', %(a)s", "select E'it\\'s :x', $1",
                 ("a",), id="escape-string"),
    pytest.param("select 5 % 2, 'a%' where name like :p || '%'",
                 "select 5 %% 2, 'a%%' where name like %(p)s || '%%'",
                 "select 5 % 2, 'a%' where name like $1 || '%'", ("p",), id="percent"),
    pytest.param("select 1 -- :no, it's a comment\n, /* :nor /* nested :x */ this */ :yes",
                 "select 1 -- :no, it's a comment\n, /* :nor /* nested :x */ this */ %(yes)s",
                 "select 1 -- :no, it's a comment\n, /* :nor /* nested :x */ this */ $1",
                 ("yes",), id="comments"),
    pytest.param("select $$ :a $$, $body$ :b 'x $body$, :c, $1",
                 "select $$ :a $$, $body$ :b 'x $body$, %(c)s, $1",
                 "select $$ :a $$, $body$ :b 'x $body$, $1, $1", ("c",), id="dollar-quotes"),
    pytest.param("select a$b$c, :d", "select a$b$c, %(d)s", "select a$b$c, $1", ("d",),
                 id="dollar-inside-identifier"),
    pytest.param("select :id, :other, :id", "select %(id)s, %(other)s, %(id)s",
                 "select $1, $2, $1", ("id", "other"), id="repeated"),
    pytest.param("select arr[1:2], f(x := 1), t.a::int[]", "select arr[1:2], f(x := 1), t.a::int[]",
                 "select arr[1:2], f(x := 1), t.a::int[]", (), id="slices-and-named-args"),
])
def test_convert_placeholders(text: str, named: str, positional: str,
                              params: tuple[str, ...]) -> None:
    assert convert_placeholders(text) == (named, positional, params)


def test_queries_with_percent_and_braces_run_as_written(
        conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    registry = load(tmp_path, (
        "-- name: no_params\n-- returns: scalar\n-- type: str\nselect '100%' || (7 % 4)::text;\n\n"
        "-- name: with_param\n-- returns: scalar\n-- type: str\nselect '100%' || :x;\n\n"
        "-- name: braces\n-- returns: scalar\n-- type: str\n-- identifier: col\n"
        "select ('{}'::jsonb || :j::jsonb)::text as {col};\n"
    ))
    assert registry.run(conn, "no_params") == "100%3"
    assert registry.run(conn, "with_param", x="!") == "100%!"
    assert registry.run(conn, "braces", identifiers={"col": "x%y"}, j={"a": 1}) == '{"a": 1}'


# -- calling queries -------------------------------------------------------------------------


def test_missing_or_extra_parameters_are_refused(conn: psycopg.Connection[Any]) -> None:
    registry = default_registry()
    with pytest.raises(QueryRegistryError, match=r"missing parameters \['name'\]"):
        registry.run(conn, "database_exists")
    with pytest.raises(QueryRegistryError, match=r"unexpected \['nme'\]"):
        registry.run(conn, "database_exists", name="postgres", nme="x")
    assert registry.run(conn, "database_exists", name="postgres") is True


@pytest.fixture
def sortable(tmp_path: Path) -> Registry:
    return load(tmp_path, (
        "-- name: sorted_names\n-- returns: many\n-- record: PartitionName\n"
        "-- identifier: col = relname | oid\n"
        "select relname::text as name from pg_class where relname like :p order by {col} limit 3;\n\n"
        "-- name: any_name\n-- returns: scalar\n-- type: int\n-- identifier: name\nselect 1 as {name};\n"
    ))


def test_allowlisted_identifier_refuses_other_values(
        sortable: Registry, conn: psycopg.Connection[Any]) -> None:
    query = sortable["sorted_names"]
    for evil in ("name; drop table x", "relname desc", 'relname"', "RELNAME", ""):
        with pytest.raises(QueryRegistryError, match="not allowed") as info:
            sortable.run(conn, "sorted_names", identifiers={"col": evil}, p="pg_%")
        assert "choose one of oid, relname" in str(info.value)
    with pytest.raises(QueryRegistryError, match="takes identifiers"):
        query.compose({})
    with pytest.raises(QueryRegistryError, match="takes identifiers"):
        query.compose({"col": "oid", "other": "x"})

    composed = query.compose({"col": "relname"})
    assert 'order by "relname" limit 3' in as_text(composed, conn)
    names = [r.name for r in sortable.run(conn, "sorted_names", identifiers={"col": "relname"},
                                          p="pg_%")]
    assert names == sorted(names) and len(names) == 3


def test_free_identifier_is_quoted_never_spliced(
        sortable: Registry, conn: psycopg.Connection[Any]) -> None:
    evil = 'x"; drop table t; --'
    text = as_text(sortable["any_name"].compose({"name": evil}), conn)
    assert text == 'select 1 as "x""; drop table t; --"'
    with conn.cursor() as cur:
        cur.execute(sortable["any_name"].compose({"name": evil}))
        assert cur.description is not None and cur.description[0].name == evil


def test_literal_is_an_integer_written_into_the_statement(
        tmp_path: Path, conn: psycopg.Connection[Any]) -> None:
    reg = load(tmp_path, (
        "-- name: first_names\n-- returns: many\n-- record: PartitionName\n-- literal: n\n"
        "select relname::text as name from pg_class where relname like :p order by relname\n"
        " limit {n};\n"
    ))
    query = reg["first_names"]
    assert set(query.literals) == {"n"} and query.params == ("p",)
    # Passed like a parameter, written in: the same text for the same value.
    assert len(reg.run(conn, "first_names", p="pg_%", n=2)) == 2
    assert as_text(query.compose({}, literals={"n": 2}), conn).endswith("limit 2")
    assert query.compose({}, literals={"n": 2}) is query.compose({}, literals={"n": 2})
    for bad in ("2; drop table x", 2.0, True, None):
        with pytest.raises(QueryRegistryError, match="takes an integer"):
            reg.run(conn, "first_names", p="pg_%", n=bad)
    with pytest.raises(QueryRegistryError, match="takes literals"):
        reg.run(conn, "first_names", p="pg_%")


def test_word_literal_is_one_of_its_words_or_null(
        tmp_path: Path, conn: psycopg.Connection[Any]) -> None:
    reg = load(tmp_path, (
        "-- name: kinds\n-- returns: scalar\n-- type: int\n-- literal: kind = r | i\n"
        "select count(*) from pg_class where ({kind} is null or relkind = {kind});\n"
    ))
    query = reg["kinds"]
    assert as_text(query.compose({}, literals={"kind": "r"}), conn).endswith("relkind = 'r')")
    assert as_text(query.compose({}, literals={"kind": None}), conn).startswith(
        "select count(*) from pg_class where (NULL is null")
    everything = reg.run(conn, "kinds", kind=None)
    assert 0 < reg.run(conn, "kinds", kind="r") < everything
    for bad in ("v", "r' or 'x'='x", 1):
        with pytest.raises(QueryRegistryError, match="not allowed"):
            reg.run(conn, "kinds", kind=bad)


def test_literal_must_be_used_and_not_also_a_parameter(tmp_path: Path) -> None:
    with pytest.raises(QueryRegistryError, match="unused"):
        load(tmp_path, "-- name: q\n-- returns: none\n-- literal: n\nselect 1;\n")
    with pytest.raises(QueryRegistryError, match="also a parameter"):
        load(tmp_path, "-- name: q\n-- returns: none\n-- literal: n\nselect {n}, :n;\n")


# -- slow query log ---------------------------------------------------------------------------


def test_slow_queries_are_logged_by_name_never_with_values(
        conn: psycopg.Connection[Any], caplog: pytest.LogCaptureFixture) -> None:
    secret = "s3cret-parameter-value"
    registry = default_registry().configured(slow_query_ms=1e9)
    with caplog.at_level(logging.DEBUG, logger="resultsdb.queries"):
        registry.run(conn, "database_exists", name=secret)
    assert not caplog.records

    registry = registry.configured(slow_query_ms=0)
    with caplog.at_level(logging.DEBUG, logger="resultsdb.queries"):
        assert registry.run(conn, "database_exists", name=secret) is False
    [record] = caplog.records
    message = record.getMessage()
    assert record.levelno == logging.WARNING
    assert re.fullmatch(r"slow query database_exists took \d+\.\d ms", message), message
    assert secret not in caplog.text and secret not in repr(record.args)


def test_slow_failing_query_is_logged_too(
        conn: psycopg.Connection[Any], caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    registry = load(tmp_path, "-- name: fails\n-- returns: scalar\n-- type: int\nselect 1 / :zero;\n")
    registry = registry.configured(slow_query_ms=0)
    with caplog.at_level(logging.WARNING, logger="resultsdb.queries"), \
            pytest.raises(psycopg.errors.DivisionByZero):
        registry.run(conn, "fails", zero=0)
    assert [r.getMessage().split(" took ")[0] for r in caplog.records] == ["slow query fails"]



# -- rows into records ------------------------------------------------------------------------

EXPERIMENT_ROW = (
    "-- name: experiment_row\n-- returns: one\n-- record: Experiment\n-- table: experiments\n"
    "select '0190a000-0000-7000-8000-000000000001'::uuid as id, :name::text as name,\n"
    "       null::text as description, '{\"k\": [1, 2]}'::jsonb as tags, 'active' as status,\n"
    "       timestamptz '2026-03-01 12:00:00+00' as created_at,\n"
    "       timestamptz '2026-03-01 13:00:00+00' as updated_at;\n"
)


@pytest.mark.parametrize("check", [False, True])
def test_a_record_is_built_in_its_field_order_and_equals_its_strict_validation(
        conn: psycopg.Connection[Any], tmp_path: Path, check: bool) -> None:
    conn.execute("set timezone to 'UTC'")
    registry = load(tmp_path, EXPERIMENT_ROW).configured(slow_query_ms=1e9, check_rows=check)
    row = registry.run(conn, "experiment_row", name="e")
    strict = records.Experiment.model_validate(row.model_dump())
    assert row == strict and row.model_dump() == strict.model_dump()
    assert list(row.model_dump()) == list(records.Experiment.model_fields)
    assert row.model_dump_json() == strict.model_dump_json()
    assert row.created_at.tzinfo is UTC and row.tags == {"k": [1, 2]}
    with pytest.raises(ValidationError, match="frozen"):
        row.name = "other"  # type: ignore[misc]


def test_a_query_whose_columns_are_not_its_records_fields_is_refused(
        conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute("set timezone to 'UTC'")
    registry = load(tmp_path, "-- name: q\n-- returns: many\n-- record: PartitionName\n"
                              "select relname::text as name, oid from pg_class limit 1;\n")
    with pytest.raises(QueryRegistryError, match=r"PartitionName record: the query returns "
                                                 r"columns \['name', 'oid'\]"):
        registry.run(conn, "q")


def test_checked_rows_catch_a_value_its_record_refuses(
        conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute("set timezone to 'UTC'")
    text = "-- name: q\n-- returns: many\n-- record: PartitionName\nselect 42 as name;\n"
    with pytest.raises(QueryRegistryError,
                       match=r"(?s)PartitionName record: .*Input should be a valid string"):
        load(tmp_path, text).configured(slow_query_ms=1e9, check_rows=True).run(conn, "q")


def test_a_session_in_another_time_zone_gets_validated_utc_records(
        conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute("set timezone to 'America/New_York'")
    row = load(tmp_path, EXPERIMENT_ROW).run(conn, "experiment_row", name="e")
    assert row.created_at.tzinfo is UTC
    assert row.created_at == datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_json_loads_exactly_and_never_fails_on_a_stored_value(conn: psycopg.Connection[Any]) -> None:
    big = 123456789012345678901234567890
    value = conn.execute("select %s::jsonb, '\"\\ud800x\"'::json, '[1e400, 0.1, -0.0]'::json",
                         (f'{{"n": {big}}}',)).fetchone()
    assert value == ({"n": big}, "\ud800x", [float("inf"), 0.1, -0.0])
