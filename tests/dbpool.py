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
3. then the rows of the other tables go, in one transaction, and the sequences that moved
   are set back and the activity counters zeroed (autovacuum would otherwise vacuum or
   analyze, mid-test, tables an earlier test filled).

Rows go by DELETE, with triggers and foreign key checks off: ~4 ms where TRUNCATE of every
table (foreign keys allow no fewer) takes ~50 ms, as it makes a new file for each of the
~110 tables, partitions and indexes. The dead rows stay in the files, which is invisible to
a test but for two things: the planner sizes tables by their files, and a query reads the
dead rows. So the tables are truncated instead (their files start empty, as a clone's do)
once their files pass :data:`TRUNCATE_ABOVE`, and before the database goes to a test marked
``plans`` (one that asserts a plan or a table's size; tests/conftest.py marks each module
that says EXPLAIN).

A database that fails 2 (a test migrated, archived a partition, granted a role, ran
ANALYZE ...) is dropped and a new clone takes its place; so is one whose planner statistics
changed while it waited (autovacuum analyzing a table the last test filled). Either way the
next test gets a database indistinguishable from a fresh clone to anything but the tuple
counters of pg_stat and, unless it asked for empty files, the size of its tables' files.
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

# Bytes of table files (live rows and dead ones) above which a database given back is
# truncated rather than emptied by DELETE: 1 MiB of dead rows costs a later test's scan ~0.1 ms.
TRUNCATE_ABOVE = 1 << 20


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
        self._empty_files: set[str] = set()  # free databases whose tables' files are empty
        # The connection that reset a free database, kept for the check when it is taken
        # (closed then: a test sees no session of the pool's).
        self._waiting: dict[str, Connection] = {}
        self.reused = self.recreated = 0
        probe = self.take()
        with self._connect(probe) as conn:
            self._fingerprint = self._q.run(conn, "schema_fingerprint")
            tables = self._q.run(conn, "schema_tables")
            digests = {t: self._q.run(conn, "table_digest", identifiers={"table": t}) for t in tables}
            self._sequences = self._q.run(conn, "sequence_values")
            self._planner[probe] = self._q.run(conn, "planner_statistics")
            # Triggers and foreign keys can be switched off for the DELETE by a superuser only.
            self._can_delete = self._q.run(conn, "is_superuser")
            nothing = hashlib.md5(b"").hexdigest()  # noqa: S324 - what md5('') gives in SQL
            self._filled = {t: d for t, d in digests.items() if d != nothing}
            self._emptied = [t for t in tables if t not in self._filled]
            # yoyo's lock table holds a page in a clone (migrate took and released its lock):
            # a table like it is emptied by DELETE only, so its file stays as the clone's.
            self._clone_files = self._q.run(conn, "table_file_bytes", tables=self._emptied)
        self._truncated = [t for t in self._emptied if t not in self._clone_files]
        self._free.append(probe)
        self._empty_files.add(probe)

    def _connect(self, name: str) -> Connection:
        return Connection.connect(make_conninfo(self._admin, dbname=name), autocommit=True)

    def take(self, *, empty_files: bool = False) -> str:
        """A database as the template left it (its name); with ``empty_files``, one whose
        tables' files are empty too, as a fresh clone's are (for a test that asserts plans)."""
        while self._free:
            name = self._pick(empty_files)
            # Checked again as it is handed out: autovacuum may have analyzed a table of it
            # since (the inserts of the test before asked for that), which changes plans.
            # Nothing else touches a free database, so its planner statistics are enough.
            with self._waiting.pop(name, None) or self._connect(name) as conn:
                if self._q.run(conn, "planner_statistics") == self._planner.pop(name, None):
                    if empty_files and name not in self._empty_files:
                        self._empty(conn, truncate=True)
                        self._planner.pop(name)
                    self._empty_files.discard(name)
                    return name
            self.recreated += 1
            self._dropped(name)
        name = self._new_name()
        self._create(name)
        self._made.add(name)
        return name

    def _pick(self, empty_files: bool) -> str:
        """The free database that fits best: one with empty files when they are wanted, else
        one without (keeping those for the tests that want them)."""
        for i in range(len(self._free) - 1, -1, -1):
            if (self._free[i] in self._empty_files) == empty_files:
                return self._free.pop(i)
        return self._free.pop()

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
        self._empty_files.discard(name)
        if (waiting := self._waiting.pop(name, None)) is not None:
            waiting.close()
        self._drop(name)

    def _reset(self, name: str) -> bool:
        conn = self._connect(name)
        reused = False
        try:
            self._q.run(conn, "terminate_other_sessions")
            if self._q.run(conn, "schema_fingerprint") != self._fingerprint:
                return False
            for table, digest in self._filled.items():
                if self._q.run(conn, "table_digest", identifiers={"table": table}) != digest:
                    return False
            self._empty(conn, truncate=not self._can_delete)
            self._waiting[name] = conn
            reused = True
            return True
        finally:
            if not reused:
                conn.close()

    def _empty(self, conn: Connection, *, truncate: bool) -> None:
        """Remove every row a test wrote and set back the sequences it moved, in one
        transaction that does not wait for the WAL flush (a test database needs no
        durability; on a durable server the sync cost most of a test's time); then zero
        the activity counters and note the planner statistics the database is given with."""
        files = self._q.run(conn, "table_file_bytes", tables=self._emptied)
        written = files != self._clone_files
        truncate = truncate or sum(files.values()) > TRUNCATE_ABOVE
        now = self._q.run(conn, "sequence_values")
        moved = [s for s in self._sequences if s not in now]
        with conn.transaction():
            self._q.run(conn, "commit_without_flush")
            if written and truncate:
                conn.execute(sql.SQL("truncate {}").format(
                    sql.SQL(", ").join(map(sql.Identifier, self._truncated))))
            if written:
                self._q.run(conn, "skip_triggers")
                for table in self._emptied if not truncate else self._clone_files:
                    self._q.run(conn, "delete_all_rows", identifiers={"table": table})
            for seq, value, called in moved:
                self._q.run(conn, "set_sequence", name=seq, value=value, is_called=called)
        self._q.run(conn, "reset_statistics")
        name = conn.info.dbname
        self._planner[name] = self._q.run(conn, "planner_statistics")
        if truncate or not written:
            self._empty_files.add(name)
        else:
            self._empty_files.discard(name)

    def close(self) -> None:
        """Drop every database the pool made: the free ones and any still handed out."""
        self._free.clear()
        for name in sorted(self._made):
            with contextlib.suppress(Exception):
                self._dropped(name)
