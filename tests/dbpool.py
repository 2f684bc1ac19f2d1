"""Test databases, reused when a test leaves nothing behind but rows.

Each test gets a migrated database of its own. Cloning the template and dropping the
clone cost more than most tests themselves (CREATE DATABASE copies and, on a durable
server, syncs every file; DROP removes them), so a database a test has finished with is
made its template again instead, when that is cheap and certain:

1. every other session on it is ended (as DROP DATABASE ... WITH (FORCE) does);
2. its schema fingerprint - relations with their planner statistics, owners and grants,
   columns, constraints, indexes, triggers, functions, schemas, database settings - and
   the rows of the tables the template filled (yoyo's log, the status machines) must
   equal the template's;
3. then, when a row reached any of the other tables, they are all truncated (foreign keys
   allow no fewer; their files start empty, as a clone's do, so the planner sees the same
   sizes) and the sequences that moved set back, in one transaction, and
   the activity counters zeroed (autovacuum would otherwise analyze, mid-test, tables an
   earlier test filled).

A database that fails 2 (a test migrated, archived a partition, granted a role, ran
ANALYZE ...) is dropped and a new clone takes its place; so is one whose fingerprint
changed while it waited (autovacuum analyzing a table the last test filled). Either way the next test gets
a database indistinguishable from a fresh clone to anything but the tuple counters of
pg_stat.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Callable

from psycopg import sql
from psycopg.conninfo import make_conninfo

from resultsdb.connection import Connection
from resultsdb.registry import Registry

log = logging.getLogger(__name__)


class DatabasePool:
    """Clones of ``template`` on a server, handed out one per test and taken back."""

    def __init__(self, queries: Registry, admin: str, template: str,
                 create: Callable[[str], str], drop: Callable[[str], None],
                 new_name: Callable[[], str]) -> None:
        self._q = queries
        self._admin = admin
        self._create, self._drop, self._new_name = create, drop, new_name
        self._free: list[str] = []
        self._made: set[str] = set()  # every database this pool created and has not dropped
        self._planner: dict[str, str] = {}  # a free database's planner statistics when freed
        self.reused = self.recreated = 0
        probe = self.take()
        with self._connect(probe) as conn:
            self._fingerprint = self._q.run(conn, "schema_fingerprint")
            tables = self._q.run(conn, "schema_tables")
            digests = {t: self._q.run(conn, "table_digest", identifiers={"table": t}) for t in tables}
            self._sequences = self._q.run(conn, "sequence_values")
            self._planner[probe] = self._q.run(conn, "planner_statistics")
        nothing = hashlib.md5(b"").hexdigest()  # noqa: S324 - what md5('') gives in SQL
        self._filled = {t: d for t, d in digests.items() if d != nothing}
        self._emptied = [t for t in tables if t not in self._filled]
        self._free.append(probe)

    def _connect(self, name: str) -> Connection:
        return Connection.connect(make_conninfo(self._admin, dbname=name), autocommit=True)

    def take(self) -> str:
        """A database as the template left it (its name)."""
        while self._free:
            name = self._free.pop()
            # Checked again as it is handed out: autovacuum may have analyzed a table of it
            # since (the inserts of the test before asked for that), which changes plans.
            # Nothing else touches a free database, so its planner statistics are enough.
            with self._connect(name) as conn:
                if self._q.run(conn, "planner_statistics") == self._planner.pop(name, None):
                    return name
            self.recreated += 1
            self._dropped(name)
        name = self._new_name()
        self._create(name)
        self._made.add(name)
        return name

    def give_back(self, name: str) -> None:
        """Make ``name`` the template again, or drop it when that is not certain."""
        try:
            if os.environ.get("RESULTSDB_TEST_REUSE", "1") != "0" and self._reset(name):
                self._free.append(name)
                self.reused += 1
                return
        except Exception as exc:  # noqa: BLE001 - any doubt: the database goes
            log.info("test database %s is dropped, not reused: %s", name, exc)
        self.recreated += 1
        self._dropped(name)

    def _dropped(self, name: str) -> None:
        self._made.discard(name)
        self._planner.pop(name, None)
        self._drop(name)

    def _reset(self, name: str) -> bool:
        with self._connect(name) as conn:
            self._q.run(conn, "terminate_other_sessions")
            if self._q.run(conn, "schema_fingerprint") != self._fingerprint:
                return False
            for table, digest in self._filled.items():
                if self._q.run(conn, "table_digest", identifiers={"table": table}) != digest:
                    return False
            # TRUNCATE, not DELETE: the files start empty again, as a clone's do, so the
            # planner sees the same sizes (a test that asserts a plan depends on them).
            # Every table, as foreign keys require, but only when a row reached one of
            # them, and without waiting for the WAL flush (a test database needs no
            # durability): the new files' sync cost most of a test's time on a durable server.
            written = self._q.run(conn, "tables_with_pages", tables=self._emptied)
            now = self._q.run(conn, "sequence_values")
            moved = [s for s in self._sequences if s not in now]
            with conn.transaction():
                self._q.run(conn, "commit_without_flush")
                if written:
                    conn.execute(sql.SQL("truncate {}").format(
                        sql.SQL(", ").join(map(sql.Identifier, self._emptied))))
                for seq, value, called in moved:
                    self._q.run(conn, "set_sequence", name=seq, value=value, is_called=called)
            self._q.run(conn, "reset_statistics")
            self._planner[name] = self._q.run(conn, "planner_statistics")
        return True

    def close(self) -> None:
        """Drop every database the pool made: the free ones and any still handed out."""
        self._free.clear()
        for name in sorted(self._made):
            with contextlib.suppress(Exception):
                self._dropped(name)
