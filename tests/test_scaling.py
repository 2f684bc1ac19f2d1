"""docs/scaling.md, checked: the large tables can be distributed by run_id (every key holds
it), and RESULTSDB_READ_URL sends opted-in reads to a second server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from resultsdb import ops
from resultsdb.config import Settings
from resultsdb.db import Database

# The tables that grow with every run (docs/scaling.md, "Distribution on Citus").
LARGE_TABLES = ("equity_curves", "trade_logs", "series_batches", "run_metrics",
                "hyperparameter_results")
# Keys known to lack run_id, each with why it is still there. A fix makes the set
# smaller and this test fails until the entry goes: the list cannot go stale.
KNOWN_GAPS: dict[str, set[str]] = {}


def unique_keys(conn: Any, table: str) -> dict[str, list[str]]:
    """Every primary key, unique constraint and unique index of a table, with its columns."""
    rows = conn.execute(
        """select i.relname::text,
                  array(select a.attname::text
                          from unnest(x.indkey::int2[]) as k(attnum)
                          join pg_attribute a on a.attrelid = x.indrelid and a.attnum = k.attnum)
             from pg_index x
             join pg_class i on i.oid = x.indexrelid
            where x.indrelid = to_regclass(%s) and x.indisunique""", [table]).fetchall()
    return dict(rows)


@pytest.mark.parametrize("table", LARGE_TABLES)
def test_every_unique_key_of_a_large_table_contains_run_id(conn: Any, table: str) -> None:
    if conn.execute("select to_regclass(%s)", [table]).fetchone()[0] is None:
        pytest.skip(f"{table} does not exist in this schema")
    keys = unique_keys(conn, table)
    assert keys, f"{table} has no unique key at all"
    lacking = {name for name, columns in keys.items() if "run_id" not in columns}
    assert lacking == KNOWN_GAPS.get(table, set()), keys


def test_hyperparameter_results_primary_key_contains_run_id(conn: Any) -> None:
    assert "run_id" in unique_keys(conn, "hyperparameter_results")["hyperparameter_results_pkey"]


def test_unique_keys_also_sees_constraints_and_partial_indexes(conn: Any) -> None:
    conn.execute("create table scaling_probe (run_id uuid, a int, b int, unique (a), "
                 "primary key (run_id, b))")
    conn.execute("create unique index scaling_probe_partial on scaling_probe (b) where a > 0")
    keys = unique_keys(conn, "scaling_probe")
    assert keys == {"scaling_probe_a_key": ["a"], "scaling_probe_pkey": ["run_id", "b"],
                    "scaling_probe_partial": ["b"]}


def test_the_series_tables_are_partitioned_by_run_id(conn: Any) -> None:
    keys = conn.execute(
        """select c.relname::text, pg_get_partkeydef(c.oid)
             from pg_class c
            where c.relkind = 'p' and c.relnamespace = current_schema()::regnamespace
            order by 1""").fetchall()
    assert ("equity_curves", "RANGE (run_id)") in keys and ("trade_logs", "RANGE (run_id)") in keys
    assert all(key == "RANGE (run_id)" for _, key in keys)


# -- RESULTSDB_READ_URL ------------------------------------------------------------------


@pytest.fixture
def replica_url(pg_server: Any, template_db: str) -> Iterator[str]:
    """A second database standing in for a replica (a clone: same schema, its own name)."""
    name = f"rdb_replica_{uuid.uuid4().hex[:12]}"
    yield pg_server.create_database(name, template=template_db)
    pg_server.drop_database(name)


def current_database(conn: psycopg.Connection[Any]) -> str:
    return str(conn.execute("select current_database()").fetchone()[0])


def test_reads_go_to_the_replica_only_when_asked(db_url: str, replica_url: str) -> None:
    primary = psycopg.conninfo.conninfo_to_dict(db_url)["dbname"]
    replica = psycopg.conninfo.conninfo_to_dict(replica_url)["dbname"]
    with Database(Settings(url=db_url, read_url=replica_url)) as db:
        assert db.read(current_database) == primary
        assert db.read(current_database, replica=True) == replica
        with db.transaction():  # a transaction reads what it wrote: the primary
            assert db.read(current_database, replica=True) == primary
        assert db.read_pool is not None and db.read_pool.get_stats()["pool_size"] >= 1
        check = ops.health(db).check("replica")
        assert check.status == "ok" and check.data["in_recovery"] is False
    assert db._read_pool is None  # closed with the Database


def test_without_a_replica_url_replica_reads_use_the_primary(db: Database) -> None:
    assert db.read_pool is None
    assert db.read(current_database, replica=True) == db.read(current_database)
    assert "replica" not in [c.name for c in ops.health(db).checks]


@pytest.mark.slow
def test_an_unreachable_replica_fails_its_check_and_hides_its_password(db_url: str) -> None:
    bad = "postgresql://reader:s3cret-replica-pw@127.0.0.1:1/results"
    settings = Settings(url=db_url, read_url=bad, connect_timeout=1, pool_timeout=1)
    with Database(settings) as db:
        report = ops.health(db)
        check = report.check("replica")
        assert check.status == "fail" and not report.healthy
        assert "s3cret-replica-pw" not in check.detail and "127.0.0.1" in check.detail
