"""DDL under a lock_timeout: a statement that cannot get its lock gives up instead of queueing.

PostgreSQL grants a table's locks in the order they were asked for. A DDL statement waiting
behind a long query (for an ACCESS EXCLUSIVE lock, say) makes every query that comes after
it wait too, readers included, for as long as it waits. Partition maintenance, archive,
restore and migrations therefore run with ``lock_timeout`` set to
``RESULTSDB_DDL_LOCK_TIMEOUT_MS``: past it their transaction rolls back, the queue behind
them moves on, and the caller gets :class:`~resultsdb.errors.Timeout`. It is not retried
automatically (a retry would queue for as long again); the message says to try later.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from psycopg import errors as pgerrors

from resultsdb.connection import Connection
from resultsdb.db import Database
from resultsdb.errors import Timeout
from resultsdb.repositories import catalog


def setting(ms: int) -> str:
    """The lock_timeout value for ``ms`` milliseconds (0: no limit)."""
    return f"{ms}ms" if ms else "0"


def timed_out(what: str, ms: int) -> Timeout:
    return Timeout(
        f"{what}: gave up waiting for a lock after {ms} ms (RESULTSDB_DDL_LOCK_TIMEOUT_MS): "
        "another session holds a conflicting lock (a long query or an open transaction on "
        "the table); it was rolled back, try again once that has finished")


@contextmanager
def lock_timeout(db: Database, conn: Connection, what: str) -> Iterator[None]:
    """The block's statements wait at most ``ddl_lock_timeout_ms`` for each lock.

    Set for the transaction (SET LOCAL); inside a caller's transaction the value it had is
    put back after the block. A lock not granted in time raises Timeout naming ``what``.
    """
    ms = db.settings.ddl_lock_timeout_ms
    before = catalog.lock_timeout(conn)
    catalog.set_local_lock_timeout(conn, setting(ms))
    try:
        yield
    except pgerrors.LockNotAvailable as exc:
        raise timed_out(what, ms) from exc
    catalog.set_local_lock_timeout(conn, before)
