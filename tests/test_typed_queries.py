"""The one typed path into the database: generated handles, repositories as the only
callers, one registry (with the Database's settings) behind every statement."""

from __future__ import annotations

import ast
import inspect
import typing
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

import resultsdb
from resultsdb import codegen, records, registry
from resultsdb.connection import Connection
from resultsdb.db import Database
from resultsdb.errors import NotFound, QueryRegistryError
from resultsdb.queries import Queries
from resultsdb.registry import BoundQueries, Registry, default_registry
from resultsdb.sqlfiles import SCALAR_TYPES, Returns

PACKAGE = Path(resultsdb.__file__).parent
SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "queries.py")


def test_the_generated_handles_are_current() -> None:
    assert codegen.generate(Registry.load()) == codegen.TARGET.read_text(encoding="utf-8"), (
        "resultsdb/queries.py is stale: run `make queries`")


def test_a_stale_handle_file_is_refused_at_load(monkeypatch: pytest.MonkeyPatch) -> None:
    import resultsdb.queries

    monkeypatch.setattr(registry, "_default", None)
    monkeypatch.setattr(resultsdb.queries, "SIGNATURE", "0" * 16)
    with pytest.raises(QueryRegistryError, match="run `make queries`"):
        default_registry()


def test_signature_changes_with_an_interface_not_with_a_body(tmp_path: Path) -> None:
    def signature(text: str) -> str:
        (tmp_path / "q.sql").write_text(text, encoding="utf-8")
        return Registry.load(tmp_path).signature()

    base = signature("-- name: q\n-- returns: scalar\n-- type: int\nselect :a;\n")
    assert signature("-- name: q\n-- returns: scalar\n-- type: int\n-- doc\nselect 1 + :a;\n") == base
    assert signature("-- name: q\n-- returns: scalar\n-- type: int\nselect :b;\n") != base
    assert signature("-- name: q\n-- returns: scalar\n-- type: int?\nselect :a;\n") != base


def _return_type(query_name: str) -> Any:
    return typing.get_type_hints(getattr(Queries, query_name))["return"]


@pytest.mark.parametrize("name", sorted(default_registry().queries))
def test_each_query_has_a_handle_returning_its_declared_type(name: str) -> None:
    query = default_registry()[name]
    method = getattr(Queries, name)
    params = inspect.signature(method).parameters
    assert [p for p in params if p != "self"] == [*query.params, *query.identifiers, *query.literals]
    assert all(params[p].kind is inspect.Parameter.KEYWORD_ONLY for p in params if p != "self")
    returns = _return_type(name)
    expected: Any = {
        Returns.ONE: query.record, Returns.ONE_OR_NONE: query.record | None if query.record else None,
        Returns.MANY: list[query.record] if query.record else None,  # type: ignore[name-defined]
        Returns.ROWCOUNT: int, Returns.NONE: type(None),
    }.get(query.returns)
    if query.returns is Returns.SCALAR:
        declared = SCALAR_TYPES[query.scalar_type or ""]
        expected = Any if declared is None else (declared | None if query.nullable else declared)
    if query.returns is Returns.COPY:
        assert typing.get_origin(returns) is not None  # a context manager of psycopg.Copy
    else:
        assert returns == expected, (name, returns, expected)


# -- calling: kinds ---------------------------------------------------------------------------

@pytest.fixture
def probe(tmp_path: Path, conn: Connection) -> Iterator[BoundQueries]:
    (tmp_path / "p.sql").write_text(
        "-- name: one_row\n-- returns: one\n-- record: PartitionName\n-- table: pg_class\n"
        "select relname::text as name from pg_class where relname = :name;\n\n"
        "-- name: maybe_row\n-- returns: one_or_none\n-- record: PartitionName\n"
        "select relname::text as name from pg_class where relname = :name;\n\n"
        "-- name: a_number\n-- returns: scalar\n-- type: int\n-- table: pg_class\n"
        "select relpages from pg_class where relname = :name;\n\n"
        "-- name: not_a_number\n-- returns: scalar\n-- type: int\nselect 'seven'::text;\n",
        encoding="utf-8")
    yield BoundQueries(Registry.load(tmp_path), conn)


def test_one_is_notfound_naming_table_and_key_one_or_none_is_none(probe: BoundQueries) -> None:
    assert probe._one("one_row", records.PartitionName, {"name": "pg_class"}).name == "pg_class"
    with pytest.raises(NotFound, match=r"^pg_class: no row with name=nope$") as info:
        probe._one("one_row", records.PartitionName, {"name": "nope"})
    assert info.value.table == "pg_class" and info.value.key == {"name": "nope"}
    assert probe._one_or_none("maybe_row", records.PartitionName, {"name": "nope"}) is None


def test_a_scalar_is_checked_against_its_declared_type(probe: BoundQueries) -> None:
    assert isinstance(probe._scalar("a_number", int, {"name": "pg_class"}), int)
    with pytest.raises(NotFound, match="pg_class: no row with name=nope"):
        probe._scalar("a_number", int, {"name": "nope"})
    assert probe._scalar_or_none("a_number", int, {"name": "nope"}) is None
    with pytest.raises(QueryRegistryError, match="returned a str, not its declared int"):
        probe._scalar("not_a_number", int, {})


# -- one path: who may call what ---------------------------------------------------------------

def _trees() -> Iterator[tuple[Path, ast.Module]]:
    for path in SOURCES:
        yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _module(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)


def test_only_repositories_call_queries() -> None:
    allowed = {"resultsdb.connection", "resultsdb.registry", "resultsdb.codegen"}
    offenders = []
    for path, tree in _trees():
        module = _module(path)
        if module.startswith("resultsdb.repositories.") or module in allowed:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("q", "run", "registry") and (
                    node.attr == "q" or _is_registry(node.value)):
                offenders.append(f"{module}:{node.lineno} .{node.attr}")
            # db and connecting hand a Database's registry to the connections they open.
            if isinstance(node, ast.ImportFrom) and node.module in (
                    "resultsdb.queries", "resultsdb.registry") and module not in (
                    "resultsdb.db", "resultsdb.connecting"):
                offenders.append(f"{module}:{node.lineno} imports {node.module}")
    assert not offenders, "only repositories run queries: " + ", ".join(offenders)


def _is_registry(node: ast.expr) -> bool:
    return isinstance(node, ast.Name | ast.Attribute) and "registry" in ast.unparse(node).lower()


def test_no_module_imports_another_packages_private_names() -> None:
    offenders = []
    for path, tree in _trees():
        package = _module(path).rsplit(".", 1)[0]
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith("resultsdb"):
                continue
            target, names = node.module, [a.name for a in node.names]
            home = target.rsplit(".", 1)[0]  # the package the module imported from is in
            private_module = target.rsplit(".", 1)[-1].startswith("_")
            private_names = any(n.startswith("_") for n in names)
            if (private_module and home != package) or (
                    private_names and package not in (home, target)):
                offenders.append(f"{_module(path)}:{node.lineno} from {target} import {names}")
    assert not offenders, offenders


def test_library_code_needs_no_typing_cast() -> None:
    casts = [f"{_module(p)}:{n.lineno}" for p, tree in _trees() for n in ast.walk(tree)
             if isinstance(n, ast.ImportFrom) and n.module == "typing"
             and any(a.name == "cast" for a in n.names)]
    assert not casts, casts


def test_every_query_is_called_by_a_repository() -> None:
    called: set[str] = set()
    for path, tree in _trees():
        if _module(path).startswith("resultsdb.repositories."):
            called |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
                       and isinstance(n.value, ast.Attribute) and n.value.attr == "q"}
    # BoundQueries' own methods (composed: a search's statement) are not named queries.
    unknown = called - set(default_registry().queries) - {"composed"}
    dead = set(default_registry().queries) - called
    assert not unknown, f"repositories call queries that do not exist: {sorted(unknown)}"
    assert not dead, f"queries no repository calls (dead, or test-only: tests/sql): {sorted(dead)}"


# -- one registry per Database, behind every statement -----------------------------------------

def test_the_databases_slow_query_setting_reaches_every_statement(
        db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[tuple[str, float]] = []
    execute = Registry.execute

    def spy(self: Registry, cur: psycopg.Cursor[Any], query: Any, *args: Any, **kw: Any) -> None:
        seen.append((query.name, self.slow_query_ms))
        execute(self, cur, query, *args, **kw)

    monkeypatch.setattr(Registry, "execute", spy)
    from resultsdb import ResultsDB, Settings
    from resultsdb.artifacts import ArtifactStore

    settings = Settings(url=db_url, slow_query_ms=12345.0)  # type: ignore[call-arg]
    with ResultsDB(settings, artifact_store=ArtifactStore(tmp_path.as_uri())) as rdb:
        exp = rdb.start_experiment(f"reach-{uuid.uuid4().hex[:6]}")
        with rdb.run(exp, "search", run_type="hyperparameter_tuning") as run:
            config = rdb.save_config(run, "model", "model", {"lr": 0.1})
            trial = rdb.start_trial(run, {"lr": 0.1})
            rdb.finish_trial(trial, 1.0)
            rdb.log_summary_metrics(run, {"sharpe": 1.0})
            rdb.write_equity(run, [(datetime(2024, 1, i, tzinfo=UTC), 100.0 + i) for i in range(1, 4)])
            rdb.read_equity(run)
            rdb.run_stats(run)
            saved = rdb.save_model(run, b"weights", "dqn", config)
        rdb.promote(saved.version, "production")
        rdb.leaderboard(exp, "sharpe")
        rdb.lineage(saved.version)
        rdb.runs(exp)
    names = {name for name, _ in seen}
    assert len(names) >= 20, sorted(names)
    assert {ms for _, ms in seen} == {12345.0}, [s for s in seen if s[1] != 12345.0]


def test_a_database_gives_its_registry_to_every_connection_it_opens(db_url: str) -> None:
    with Database(url=db_url) as db:
        assert db.registry is not default_registry()
        with db.connection() as conn:
            assert conn.registry is db.registry
        with db.connect() as conn:
            assert conn.registry is db.registry
        assert db.read(lambda c: c.q._registry) is db.registry
