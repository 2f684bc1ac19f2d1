"""The test database pool: a database given back is reused only when it is its template
again, and then it is indistinguishable from a fresh clone."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from resultsdb import ResultsDB
from resultsdb.db import Database
from resultsdb.seed import seed
from tests.conftest import TEST_QUERIES, Server, unique_name
from tests.dbpool import TRUNCATE_ABOVE, DatabasePool


@pytest.fixture
def pool(pg_server: Server, template_db: str) -> Iterator[DatabasePool]:
    made: list[str] = []

    def create(name: str) -> str:
        made.append(name)
        return pg_server.create_database(name, template=template_db)

    pool = DatabasePool(TEST_QUERIES, pg_server.admin, template_db, create=create,
                        drop=pg_server.drop_database, new_name=lambda: unique_name("rdb_p"))
    yield pool
    pool.close()


def state(pg_server: Server, name: str) -> dict[str, Any]:
    """What a test could see: every table's rows, and the schema's fingerprint."""
    with psycopg.connect(pg_server.conninfo(name), autocommit=True) as conn:
        tables = TEST_QUERIES.run(conn, "schema_tables")
        return {"fingerprint": TEST_QUERIES.run(conn, "schema_fingerprint"),
                **{t: TEST_QUERIES.run(conn, "table_digest", identifiers={"table": t})
                   for t in tables}}


def test_a_database_with_rows_comes_back_as_a_fresh_clone(pg_server: Server,
                                                          template_db: str,
                                                          pool: DatabasePool) -> None:
    fresh = pool.take()
    before = state(pg_server, fresh)
    with Database(url=pg_server.conninfo(fresh)) as db:
        seed(db)  # rows in every kind of table, series and audit trail included
    assert state(pg_server, fresh) != before
    leaked = psycopg.connect(pg_server.conninfo(fresh))  # a session left open, mid-transaction
    leaked.execute("select 1")
    pool.give_back(fresh)
    with pytest.raises(psycopg.OperationalError):  # ended by the pool
        leaked.execute("select 1")
    leaked.close()
    again = pool.take()
    assert (again, pool.reused, pool.recreated) == (fresh, 1, 0)
    assert state(pg_server, again) == before


CHANGES: list[tuple[str, Callable[[psycopg.Connection[Any]], object]]] = [
    ("a table", lambda c: c.execute("create table stray (x int)")),
    ("an index", lambda c: c.execute("create index stray_idx on experiments (description)")),
    ("a setting", lambda c: c.execute(f"alter database {c.info.dbname} set work_mem = '8MB'")),
    ("statistics", lambda c: c.execute("analyze runs")),
    ("a grant", lambda c: c.execute("grant select on runs to public")),
    ("a disabled trigger", lambda c: c.execute(
        "alter table runs disable trigger runs_status_transition")),
    ("a template row", lambda c: c.execute("delete from status_transitions where true")),
]


@pytest.mark.parametrize(("what", "change"), CHANGES, ids=[c[0] for c in CHANGES])
def test_a_database_whose_schema_changed_is_dropped(pg_server: Server, pool: DatabasePool,
                                                   what: str, change: Callable[[Any], object]
                                                   ) -> None:
    taken = pool.take()
    fresh = state(pg_server, taken)
    with psycopg.connect(pg_server.conninfo(taken), autocommit=True) as conn:
        change(conn)
    pool.give_back(taken)
    assert (pool.reused, pool.recreated) == (0, 1), what
    replacement = pool.take()
    assert replacement != taken
    assert state(pg_server, replacement) == fresh


def test_a_free_database_that_autovacuum_analyzed_while_it_waited_is_dropped(
        pg_server: Server, pool: DatabasePool) -> None:
    taken = pool.take()
    fresh = state(pg_server, taken)
    with Database(url=pg_server.conninfo(taken)) as db:
        seed(db)
    pool.give_back(taken)
    assert (pool.reused, pool.recreated) == (1, 0)
    with psycopg.connect(pg_server.conninfo(taken), autocommit=True) as conn:
        conn.execute("analyze runs")  # as autovacuum would, while nobody holds it
    replacement = pool.take()
    assert replacement != taken and pool.recreated == 1
    assert state(pg_server, replacement) == fresh


def file_bytes(pg_server: Server, name: str) -> dict[str, int]:
    """The tables (and partitions) whose files hold a page, with their sizes."""
    with psycopg.connect(pg_server.conninfo(name), autocommit=True) as conn:
        tables = TEST_QUERIES.run(conn, "schema_tables")
        return TEST_QUERIES.run(conn, "table_file_bytes", tables=tables)


def test_rows_are_deleted_and_files_emptied_only_for_a_test_that_asks(pg_server: Server,
                                                                       pool: DatabasePool) -> None:
    fresh = pool.take()
    before, clone_files = state(pg_server, fresh), file_bytes(pg_server, fresh)
    with ResultsDB(url=pg_server.conninfo(fresh)) as rdb:
        with rdb.run(rdb.start_experiment("e"), "r") as run:
            rdb.log_summary_metrics(run, {"sharpe": 1.0})
    pool.give_back(fresh)
    again = pool.take()
    assert again == fresh and state(pg_server, again) == before  # no row, same schema
    dead = set(file_bytes(pg_server, again)) - set(clone_files)  # files holding dead rows
    assert {"experiments", "runs", "run_metrics"} <= dead
    pool.give_back(again)
    emptied = pool.take(empty_files=True)
    assert emptied == fresh and (pool.reused, pool.recreated) == (2, 0)
    assert file_bytes(pg_server, emptied) == clone_files
    assert state(pg_server, emptied) == before


def test_a_database_with_more_than_the_limit_in_its_files_is_truncated(pg_server: Server,
                                                                        pool: DatabasePool) -> None:
    taken = pool.take()
    clone_files = file_bytes(pg_server, taken)
    with ResultsDB(url=pg_server.conninfo(taken)) as rdb:
        with rdb.run(rdb.start_experiment("e"), "r") as run:
            rdb.log_summary_metrics(run, {f"metric_{j}": float(j) for j in range(20_000)})
    assert sum(file_bytes(pg_server, taken).values()) > TRUNCATE_ABOVE
    pool.give_back(taken)
    again = pool.take()
    assert again == taken and file_bytes(pg_server, again) == clone_files
