"""Fixtures for the reliability suite: table checksums, and a private server to kill.

``table_state`` reads every table of the schema (partitioned parents, so series rows
count once) as ``{table: (row count, md5 of its rows ordered by key)}``, on its own
connection: "no row changed" is checked independently of the code under test.

``private_server`` is an embedded PostgreSQL of this test alone (its own data folder),
so a test may SIGKILL its postmaster and start it again without touching the session's
server or other tests.
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from resultsdb import embedded, migrate
from resultsdb.db import Database, ensure_database
from tests.reaper import embedded_server

State = dict[str, tuple[int, str]]

_TABLES = """
select c.relname,
       coalesce((select array_agg(a.attname order by k.ord)
                 from pg_index i
                 cross join lateral unnest(i.indkey) with ordinality as k(attnum, ord)
                 join pg_attribute a on a.attrelid = c.oid and a.attnum = k.attnum
                 where i.indrelid = c.oid and i.indisprimary), '{}')
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = current_schema() and c.relkind in ('r', 'p') and not c.relispartition
order by 1
"""


def table_state(conn: psycopg.Connection[Any]) -> State:
    """Row count and md5 of every table's rows (ordered by primary key, else by the row)."""
    state: State = {}
    for table, key in conn.execute(_TABLES).fetchall():
        order = (sql.SQL(", ").join(sql.Identifier(k) for k in key) if key
                 else sql.SQL("t::text"))
        query = sql.SQL(
            "select count(*), md5(coalesce(string_agg(t::text, E'\\n' order by {}), '')) "
            "from {} t").format(order, sql.Identifier(table))
        count, digest = conn.execute(query).fetchone()  # type: ignore[misc]
        state[table] = (int(count), str(digest))
    return state


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[Any]:
    """One of everything (tests/reliability/_world.py), for the bad-input catalogues."""
    from tests.reliability._world import make_world

    with make_world(db_url, tmp_path) as built:
        yield built


@pytest.fixture
def snapshot(db_url: str) -> Iterator[Callable[[], State]]:
    """``snapshot()``: the table state of the test's database, now."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        yield lambda: table_state(conn)


@dataclass
class PrivateServer:
    """An embedded server of one test: kill it, start it again; same socket, same URL."""

    data_dir: Path
    info: embedded.ServerInfo
    dbname: str = "resultsdb"
    kills: int = 0

    @property
    def url(self) -> str:
        return self.info.conninfo(self.dbname)

    def kill(self) -> None:
        """SIGKILL the postmaster: no shutdown, no checkpoint, backends orphaned."""
        os.kill(self.info.pid, signal.SIGKILL)
        self.kills += 1

    def wait_down(self, timeout: float = 30.0) -> None:
        """Until the server refuses connections and its postmaster has exited: a restart
        that still saw the old pid alive would take the dying server for a running one."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                psycopg.connect(self.url, connect_timeout=1).close()
            except psycopg.OperationalError:
                if not embedded.alive(self.info.pid):
                    return
            time.sleep(0.05)
        raise AssertionError("the killed server is still up")

    def restart(self) -> embedded.ServerInfo:
        info = embedded.start(self.data_dir)
        assert info.pid != self.info.pid
        assert info.conninfo(self.dbname) == self.url  # same socket: the pool's URL still holds
        self.info = info
        return info


@pytest.fixture
def private_server() -> Iterator[PrivateServer]:
    # A short folder under /tmp: the server's socket lives in it (107-byte limit).
    data_dir = Path(tempfile.mkdtemp(prefix="rdbkill", dir="/tmp"))
    with embedded_server(data_dir) as info:
        server = PrivateServer(data_dir, info)
        ensure_database(info.conninfo(), server.dbname)
        with Database(url=server.url) as db:
            migrate.migrate(db)
        yield server
