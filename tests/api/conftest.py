"""Fixtures for the API tests: a ResultsDB per test, small factories, row counting.

Row counts are read through the raw ``conn`` fixture (not through the API under
test), so "nothing was written" is checked independently of the code it checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from resultsdb.api import ResultsDB
from resultsdb.artifacts import ArtifactStore
from resultsdb.records import Experiment, Run

MISSING_ID = "01900000-0000-7000-8000-000000000000"
T0 = datetime(2024, 1, 1, tzinfo=UTC)
SHA = "ab" * 32

Counter = Callable[[], dict[str, int]]


@pytest.fixture
def rdb(db_url: str) -> Iterator[ResultsDB]:
    with ResultsDB(url=db_url) as r:
        yield r


@pytest.fixture
def mdb(db_url: str, tmp_path: Path) -> Iterator[ResultsDB]:
    """A ResultsDB with a local artifact store under tmp_path/store (for save_model)."""
    store_root = tmp_path / "store"
    store_root.mkdir()
    with ResultsDB(url=db_url, artifact_store=ArtifactStore(store_root.as_uri())) as r:
        yield r


def _tables(conn: psycopg.Connection) -> list[str]:
    # Every table of the schema (partitioned parents, not their partitions), yoyo's excepted.
    rows = conn.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = current_schema() and c.relkind in ('r', 'p') "
        "and not c.relispartition and c.relname !~ 'yoyo' order by 1").fetchall()
    return [r[0] for r in rows]


@pytest.fixture
def counts(conn: psycopg.Connection) -> Counter:
    """Rows per table, now (read on the raw connection)."""
    tables = _tables(conn)

    def count() -> dict[str, int]:
        return {t: conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(t)))
                .fetchone()[0] for t in tables}
    return count


@pytest.fixture
def unchanged(counts: Counter) -> Callable[[], AbstractContextManager[None]]:
    """``with unchanged(): ...`` asserts the block changed no table's row count."""

    @contextmanager
    def check() -> Iterator[None]:
        before = counts()
        assert before["experiments"] >= 0
        yield
        assert counts() == before

    return check


@pytest.fixture
def exp(rdb: ResultsDB) -> Experiment:
    return rdb.start_experiment("momentum", "MA crossover", tags={"asset": "btc", "freq": "1d"})


@pytest.fixture
def run(rdb: ResultsDB, exp: Experiment) -> Run:
    return rdb.start_run(exp, "search", run_type="hyperparameter_tuning")


def raw_one(conn: psycopg.Connection, query: str, *params: Any) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0] if len(row) == 1 else row
