"""Fixtures: which PostgreSQL the tests use, and a fresh database per test.

Server, in order: ``RESULTSDB_TEST_URL`` (an admin URL to any database on the
server); a testcontainers PostgreSQL when a Docker engine answers; else the
embedded server in ``.resultsdb/test`` (stopped at the end of the session).
A template database is migrated once per session; every test gets its own
clone of it, so tests are independent and can run in any order.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from resultsdb import migrate
from resultsdb.connection import Connection
from resultsdb.db import Database
from resultsdb.registry import Registry
from resultsdb.repositories import catalog
from tests.dbpool import DatabasePool
from tests.reaper import embedded_server, remove_orphans

ROOT = Path(__file__).resolve().parent.parent
# Queries only the tests (and benchmarks) need: tests/sql, never the package's.
TEST_QUERIES = Registry.load(ROOT / "tests" / "sql")
# Every row a Database reads is validated against its strict record as well as built from
# the schema's types (RESULTSDB_CHECK_ROWS): a record that drifted from its query fails here.
os.environ.setdefault("RESULTSDB_CHECK_ROWS", "1")
# rich fixes a console's width from COLUMNS when it is built (resultsdb.cli._app's, at
# import); pytest-xdist's workers start with COLUMNS=80. The CLI tests set COLUMNS for each
# invocation, which rich reads only when it was unset at construction.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)
TEST_DATA_DIR = Path(os.environ.get("RESULTSDB_TEST_DATA_DIR", ROOT / ".resultsdb" / "test"))


def _docker_answers() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=2)
        client.ping()
        return True
    except Exception:  # noqa: BLE001 - any failure means "no engine"
        return False


class Server:
    """An admin connection string to the test server, and how it was chosen."""

    def __init__(self, admin_conninfo: str, source: str) -> None:
        self.admin = admin_conninfo
        self.source = source
        with psycopg.connect(admin_conninfo, autocommit=True) as conn:
            self.version = TEST_QUERIES.run(conn, "server_version_num")

    def conninfo(self, dbname: str) -> str:
        return make_conninfo(self.admin, dbname=dbname)

    def create_database(self, name: str, template: str | None = None) -> str:
        with Connection.connect(self.admin, autocommit=True) as conn:
            if template:
                TEST_QUERIES.run(conn, "create_database_from_template",
                                 identifiers={"name": name, "template": template})
            else:
                catalog.create_database(conn, name)
        return self.conninfo(name)

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.admin, autocommit=True) as conn:
            TEST_QUERIES.run(conn, "drop_database", identifiers={"name": name})


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    url = os.environ.get("RESULTSDB_TEST_URL")
    if url:
        yield Server(url, "RESULTSDB_TEST_URL")
        return
    if os.environ.get("RESULTSDB_TEST_DOCKER", "auto") != "never" and _docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:17", driver=None) as pg:
            yield Server(pg.get_connection_url(), "testcontainers")
        return
    # A server per test session (initdb takes ~0.5 s), so concurrent pytest runs in
    # one checkout never stop each other's server; a reaper stops it if pytest is killed.
    remove_orphans(TEST_DATA_DIR)
    data_dir = TEST_DATA_DIR / f"session-{os.getpid()}"
    with embedded_server(data_dir) as info:
        # A throwaway server: nothing on it must survive an OS crash, and the durability
        # tests kill processes, not the machine. fsync dominated CREATE DATABASE ... TEMPLATE.
        with psycopg.connect(info.conninfo(), autocommit=True) as admin:
            for setting in ("fsync", "full_page_writes"):
                admin.execute(f"alter system set {setting} = off")
            admin.execute("select pg_reload_conf()")
        yield Server(info.conninfo(), f"embedded ({data_dir})")


def unique_name(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def template_db(pg_server: Server) -> Iterator[str]:
    name = unique_name("rdb_tpl")
    conninfo = pg_server.create_database(name)
    with Database(url=conninfo) as db:
        migrate.migrate(db)
    yield name
    pg_server.drop_database(name)


@pytest.fixture(scope="session")
def database_pool(pg_server: Server, template_db: str) -> Iterator[DatabasePool]:
    pool = DatabasePool(
        TEST_QUERIES, pg_server.admin, template_db,
        create=lambda name: pg_server.create_database(name, template=template_db),
        drop=pg_server.drop_database, new_name=lambda: unique_name("rdb_t"))
    yield pool
    pool.close()


# What a test that depends on table sizes says: these modules' tests are marked "plans".
SIZE_SENSITIVE = re.compile(r"\bexplain\b|relpages|reltuples|seq_scan|idx_scan|relation_size",
                            re.IGNORECASE)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark "plans" every test of a module that asserts a plan or a table's size, so that no
    such test is forgotten: its database's table files are empty, as a fresh clone's are.
    And run the slow tests first: pytest-xdist hands tests out in this order, so a 30 s test
    started last would leave the other workers idle at the end."""
    sensitive: dict[Path, bool] = {}
    for item in items:
        path = item.path
        if path not in sensitive:
            sensitive[path] = bool(SIZE_SENSITIVE.search(path.read_text(encoding="utf-8")))
        if sensitive[path]:
            item.add_marker(pytest.mark.plans)
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable: else as written


@pytest.fixture
def db_url(pg_server: Server, database_pool: DatabasePool, request: pytest.FixtureRequest
           ) -> Iterator[str]:
    """Connection string of a migrated database for this test alone: a clone of the
    template, or one an earlier test left as the template was (tests/dbpool.py), its table
    files empty too when the test is marked "plans"."""
    name = database_pool.take(empty_files=request.node.get_closest_marker("plans") is not None)
    yield pg_server.conninfo(name)
    database_pool.give_back(name)


@pytest.fixture
def empty_db_url(pg_server: Server) -> Iterator[str]:
    """Connection string of a fresh database with nothing in it (for migration tests)."""
    name = unique_name("rdb_e")
    conninfo = pg_server.create_database(name)
    yield conninfo
    pg_server.drop_database(name)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    with Database(url=db_url) as database:
        yield database


@pytest.fixture
def conn(db_url: str) -> Iterator[Connection]:
    """An autocommit connection to the test's database, for setup and checks (repositories
    take it too)."""
    with Connection.connect(db_url, autocommit=True) as c:
        yield c


def pytest_report_header(config: pytest.Config) -> list[str]:
    source = "set" if os.environ.get("RESULTSDB_TEST_URL") else "unset"
    return [f"resultsdb test server: RESULTSDB_TEST_URL={source}"]


@pytest.fixture(scope="session", autouse=True)
def _print_server(pg_server: Server, request: pytest.FixtureRequest) -> None:
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"PostgreSQL {pg_server.version} via {pg_server.source}")


def wait_for_backend(conn: psycopg.Connection, condition: str, timeout: float = 30.0) -> int:
    """The pid of another backend of ``conn``'s database meeting ``condition`` (SQL over
    pg_stat_activity, written by the test), once one does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = conn.execute(
            "select pid from pg_stat_activity where datname = current_database() "
            f"and pid <> pg_backend_pid() and {condition}").fetchone()
        if row:
            return int(row[0])
        time.sleep(0.01)
    raise AssertionError(f"no backend with {condition}")


@pytest.fixture
def commit_waits_for_a_missing_standby(pg_server: Server, db_url: str, conn: psycopg.Connection
                                       ) -> Iterator[None]:
    """COMMITs in this test's database flush locally, then wait for a standby that never comes.

    Other databases on the server are unaffected: their default becomes synchronous_commit
    = local, which without a standby is what 'on' does anyway.

    Order matters. The database-level setting is committed *before* the standby name is
    configured: a backend applies a reload only before its next command, so a commit sent
    just after ``pg_reload_conf()`` may still run with the old ``synchronous_commit = on``
    while the server already knows a synchronous standby, and would wait for it forever.
    After the reload only reads are sent from sessions older than it.
    """
    with psycopg.connect(pg_server.admin, autocommit=True) as admin:
        if not admin.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()[0]:
            pytest.skip("needs a superuser to configure synchronous replication")
        dbname = conninfo_to_dict(db_url)["dbname"]
        conn.execute(f'alter database "{dbname}" set synchronous_commit = on')
        try:
            admin.execute("alter system set synchronous_commit = 'local'")
            admin.execute("alter system set synchronous_standby_names = 'rdb_absent_standby'")
            admin.execute("select pg_reload_conf()")
            deadline = time.monotonic() + 10
            while True:
                with psycopg.connect(db_url) as probe:
                    seen = probe.execute("show synchronous_standby_names").fetchone()[0]
                if seen == "rdb_absent_standby":
                    break
                assert time.monotonic() < deadline, "configuration reload not seen"
                time.sleep(0.05)
            yield
        finally:
            admin.execute("alter system reset synchronous_standby_names")
            admin.execute("alter system reset synchronous_commit")
            admin.execute("select pg_reload_conf()")
