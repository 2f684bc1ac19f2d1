"""Connections: the pool, transactions and retries (errors are translated by resultsdb.errmap).

One :class:`Database` owns one psycopg_pool ``ConnectionPool``. Connections are
in autocommit mode, so a read is one round trip; writes go through
:meth:`Database.transaction`, which opens a real transaction, and a nested
``transaction()`` in the same context is a savepoint. :meth:`Database.write`
and :meth:`Database.read` run a function in a transaction (or connection) and
retry transient failures with bounded exponential backoff (tenacity). A failure
while COMMIT is in flight is never retried: its outcome is unknown.
:meth:`Database.write_statement` runs a write that is one statement as its own
(autocommit) transaction: the hot paths - starting and finishing trials, runs,
metric merges - then cost one round trip and hold their row locks no longer
than the statement's commit.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
import tenacity
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from resultsdb import _paths, connecting, sqlstate
from resultsdb.config import Settings, mask_url
from resultsdb.connecting import libpq_url, pre_ping
from resultsdb.connection import Connection
from resultsdb.errmap import ErrorMapper, said
from resultsdb.errors import (
    CommitOutcomeUnknown,
    DatabaseUnavailable,
    ResultsDBError,
    Timeout,
)
from resultsdb.records import ConstraintInfo
from resultsdb.registry import Registry, default_registry
from resultsdb.repositories import catalog

# Both lived here once; callers that still import them from here keep working.
from resultsdb.resolve import ensure_database as ensure_database
from resultsdb.resolve import resolve_conninfo as resolve_conninfo

log = logging.getLogger(__name__)
T = TypeVar("T")

_current: contextvars.ContextVar[tuple[Database, Connection] | None] = contextvars.ContextVar(
    "resultsdb_transaction", default=None
)


class Database:
    """A pool of connections to one PostgreSQL database, plus the query registry."""

    def __init__(self, settings: Settings | None = None, *, url: str | None = None,
                 registry: Registry | None = None) -> None:
        if url is not None:  # one Settings built (the environment read once), url checked
            settings = (Settings(url=url) if settings is None
                        else Settings.model_validate({**settings.model_dump(), "url": url}))
        self.settings = settings or Settings()
        # The parsed queries with this Database's settings, given to every connection it opens.
        self.registry = (registry or default_registry()).configured(
            slow_query_ms=self.settings.slow_query_ms, check_rows=self.settings.check_rows)
        self._conninfo: str | None = None
        self._pool: ConnectionPool[Connection] | None = None
        self._read_pool: ConnectionPool[Connection] | None = None  # the replica's, if any
        # Pools open on first use, from whichever thread comes first: one lock, so threads
        # arriving together open one pool, not one each (the others would leak).
        self._pool_lock = threading.Lock()
        self._errors = ErrorMapper(self._constraint_catalog, self._schema_behind)

    def __repr__(self) -> str:
        return f"Database({self.masked_url})"

    @property
    def masked_url(self) -> str:
        if self.settings.url is not None:
            return mask_url(self.settings.url.get_secret_value())
        return f"embedded:{self.settings.data_dir}/pgdata/{self.settings.database}"

    @property
    def conninfo(self) -> str:
        """The connection string (may hold a password: never log it)."""
        if self._conninfo is None:
            self._conninfo = resolve_conninfo(self.settings)
        return self._conninfo

    # -- pool -----------------------------------------------------------------------

    def _connect_kwargs(self, conninfo: str) -> dict[str, Any]:
        """Session settings for a connection to ``conninfo`` (the primary's or the replica's)."""
        s = self.settings
        options = f"-c TimeZone=UTC -c statement_timeout={s.statement_timeout_ms}"
        return {
            "autocommit": True,
            "application_name": s.application_name,
            "connect_timeout": self._connect_timeout(conninfo),
            "options": options,
            "prepare_threshold": s.prepare_threshold,
        }

    def _connect_timeout(self, conninfo: str) -> int:
        """A ``connect_timeout`` the URL gives, else RESULTSDB_CONNECT_TIMEOUT: what a
        person wrote in the URL is not overridden by a default."""
        given = conninfo_to_dict(conninfo).get("connect_timeout")
        try:
            return max(1, int(given)) if given is not None else self.settings.connect_timeout
        except ValueError:
            return self.settings.connect_timeout  # libpq refuses it, with its own message

    @property
    def pool(self) -> ConnectionPool[Connection]:
        if self._pool is None:
            self.open()
        assert self._pool is not None
        return self._pool

    def open(self) -> Database:
        with self._pool_lock:
            if self._pool is None:
                self._pool = self._open_pool(self.conninfo, "resultsdb")
        return self

    def _open_pool(self, conninfo: str, name: str) -> ConnectionPool[Connection]:
        # One direct attempt first: a login or database the server refuses fails here, at
        # once, instead of after the pool has retried it for connect_timeout seconds.
        refused = self._refused(conninfo)
        if refused is not None and not sqlstate.transient(refused):
            raise refused
        s = self.settings
        pool: ConnectionPool[Connection] = ConnectionPool(
            conninfo,
            min_size=s.pool_min_size,
            max_size=s.pool_max_size,
            timeout=s.pool_timeout,
            kwargs=self._connect_kwargs(conninfo),
            connection_class=Connection,
            configure=self._configure,
            check=pre_ping,  # the spec's pre-ping (a round trip only when needed)
            reconnect_timeout=max(60.0, s.pool_timeout),
            name=name,
            open=False,
        )
        try:
            pool.open(wait=s.pool_min_size > 0, timeout=float(self._connect_timeout(conninfo)))
        except PoolTimeout:
            pool.close(timeout=0)
            raise self._unreachable(conninfo) from None
        return pool

    def _configure(self, conn: Connection) -> None:
        conn.registry = self.registry

    def connect(self, conninfo: str | None = None) -> Connection:
        """A new connection outside the pool (for catalog reads, locks held across a
        migration), with this Database's queries and session settings."""
        conninfo = conninfo or self.conninfo
        conn = Connection.connect(conninfo, **self._connect_kwargs(conninfo))
        self._configure(conn)
        return conn

    @property
    def read_conninfo(self) -> str | None:
        """The read replica's connection string (RESULTSDB_READ_URL), or None."""
        if self.settings.read_url is None:
            return None
        return libpq_url(self.settings.read_url.get_secret_value())

    @property
    def read_pool(self) -> ConnectionPool[Connection] | None:
        """The replica's pool (opened on first use); None without RESULTSDB_READ_URL."""
        conninfo = self.read_conninfo
        if conninfo is None:
            return None
        if self._read_pool is None:
            with self._pool_lock:
                if self._read_pool is None:
                    self._read_pool = self._open_pool(conninfo, "resultsdb-read")
        return self._read_pool

    def _unreachable(self, conninfo: str | None = None) -> ResultsDBError:
        """Say why the server cannot be reached, from one direct attempt."""
        conninfo = conninfo or self.conninfo
        return self._refused(conninfo) or DatabaseUnavailable(
            f"cannot connect to {self._where(conninfo)}: connections time out")

    def _refused(self, conninfo: str) -> ResultsDBError | None:
        """One direct connection attempt: None when it connects, else the error saying why
        not, classified by the SQLSTATE the server refused it with (resultsdb.connecting)."""
        try:
            Connection.connect(conninfo, **self._connect_kwargs(conninfo)).close()
        except psycopg.Error as exc:
            return connecting.explain(exc, conninfo, self._connect_kwargs(conninfo),
                                      self._where(conninfo), self.registry)
        return None

    def _where(self, conninfo: str) -> str:
        return self.masked_url if conninfo == self.conninfo else mask_url(conninfo)

    def close(self) -> None:
        with self._pool_lock:
            pools, self._pool, self._read_pool = (self._pool, self._read_pool), None, None
        for pool in pools:
            if pool is not None:
                pool.close()

    def __enter__(self) -> Database:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- connections and transactions ----------------------------------------------

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """An autocommit connection (or the current transaction's); errors mapped."""
        current = _current.get()
        if current is not None and current[0] is self:
            yield current[1]
            return
        with self._mapped_errors(), self._getconn() as conn:
            yield conn

    def _checkout(self, pool: ConnectionPool[Connection]) -> Connection:
        """A connection from ``pool``, or the error that says why there is none.

        getconn/putconn rather than ``pool.connection()``: that block also commits on
        exit, a no-op round of psycopg's wait loop on an autocommit connection, and
        every call here is one (a transaction's block closes itself; the pool rolls
        back and warns about a connection returned mid-transaction).
        """
        try:
            return pool.getconn()
        except PoolTimeout:
            stats = pool.get_stats()
            # Only a pool at its limit timed out for want of a free connection. One below it
            # could not open one (the pool counts a connection it is still trying to open, so
            # a server that went down leaves pool_size at 1 or more, not 0).
            if stats.get("pool_size", 0) < pool.max_size:
                raise self._unreachable(self.read_conninfo if pool is self._read_pool else None
                                        ) from None
            raise Timeout(
                f"no connection free within {self.settings.pool_timeout:g}s "
                f"(pool_max_size={self.settings.pool_max_size})"
            ) from None

    @contextmanager
    def _getconn(self, pool: ConnectionPool[Connection] | None = None) -> Iterator[Connection]:
        pool = pool or self.pool
        conn = self._checkout(pool)
        try:
            yield conn
        finally:
            pool.putconn(conn)

    def _call(self, fn: Callable[[Connection], T], *, replica: bool = False,
              statement: bool = False) -> T:
        """``fn`` on a pooled connection, errors mapped: what ``with _mapped_errors(),
        _getconn(pool)`` does, without its two generator frames. These are the hot
        paths, each call of which is one or two statements. The pool is looked up
        here, inside the caller's retry loop, so a pool that could not open (the
        server down) is tried again on the next attempt.

        ``replica``: the read replica's pool when one is configured.
        ``statement``: ``fn``'s write is its own commit, so a connection that breaks
        under it leaves the outcome unknown (CommitOutcomeUnknown, never retried).
        """
        pool = (self.read_pool if replica else None) or self.pool
        conn = self._checkout(pool)
        try:
            try:
                return fn(conn)
            except psycopg.OperationalError as exc:
                # Asked before putconn: a connection the pool has closed is not "broken".
                if statement and conn.broken:
                    raise CommitOutcomeUnknown(
                        "the connection broke while a statement was committing; it may "
                        f"or may not have been stored ({said(exc)})"
                    ) from exc
                raise
            finally:
                pool.putconn(conn)
        except ResultsDBError:
            raise
        except psycopg.Error as exc:
            raise self.map_error(exc) from exc

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A transaction; inside another one of this database, a savepoint.

        Commits when the block ends, rolls back when it raises. psycopg errors
        leave as :mod:`resultsdb.errors`.
        """
        current = _current.get()
        if current is not None and current[0] is self:
            conn = current[1]
            with self._mapped_errors(), conn.transaction():
                yield conn
            return
        with self._mapped_errors(), self._getconn() as conn:
            token = _current.set((self, conn))
            body_done = False
            try:
                with conn.transaction():
                    yield conn
                    body_done = True
            except psycopg.OperationalError as exc:
                if body_done and conn.broken:
                    raise CommitOutcomeUnknown(
                        "the connection broke during COMMIT; the transaction may or may not "
                        f"have been stored ({said(exc)})"
                    ) from exc
                raise
            finally:
                _current.reset(token)

    def in_transaction(self) -> bool:
        current = _current.get()
        return current is not None and current[0] is self

    def _retrying(self) -> tenacity.Retrying:
        return tenacity.Retrying(
            retry=tenacity.retry_if_exception(sqlstate.transient),
            stop=tenacity.stop_after_attempt(self.settings.retry_attempts),
            wait=tenacity.wait_exponential(multiplier=0.05, max=2.0) + tenacity.wait_random(0, 0.05),
            before_sleep=lambda rs: log.warning(
                "retrying after %s (attempt %d)",
                type(rs.outcome.exception()).__name__ if rs.outcome else "?", rs.attempt_number,
            ),
            reraise=True,
        )

    def _retry(self, attempt: Callable[[], T]) -> T:
        """``attempt()``, retried on transient failures (those resultsdb.sqlstate marks so)
        as :meth:`_retrying` says.

        The first try runs before tenacity is set up: nearly every call succeeds on it,
        and building and driving a Retrying cost more than the rest of our per-call
        code. If it fails transiently, tenacity is handed that failure as its own first
        attempt, so the attempts, waits, log lines and final error are the same.
        """
        try:
            return attempt()
        except sqlstate.TRANSIENT as exc:
            failed: BaseException | None = exc
        for retry in self._retrying():
            with retry:
                if failed is not None:
                    first, failed = failed, None
                    raise first
                return attempt()
        raise AssertionError("unreachable")  # pragma: no cover

    def write(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn(conn)`` in one transaction, retrying transient failures.

        Inside an enclosing transaction it runs once, as a savepoint: retrying
        is then the outermost caller's business.
        """
        if self.in_transaction():
            with self.transaction() as conn:
                return fn(conn)

        def attempt() -> T:
            with self.transaction() as conn:
                return fn(conn)
        return self._retry(attempt)

    def write_statement(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn(conn)``, whose one write is a single statement, as that statement's own
        transaction: on the autocommit connection, with no BEGIN and COMMIT.

        A single statement is atomic on its own, so this is still one transaction - but
        one round trip instead of three, and the row locks the statement takes (the run
        row that numbers trials) are released at its commit, not a client round trip
        later: with several processes starting trials of one run, that lock is the
        queue they all wait in. Reads ``fn`` makes besides (say, to explain a row that
        was not matched) are their own statements, as under READ COMMITTED anyway.

        Transient failures are retried as by :meth:`write`. A connection that breaks
        while ``fn`` runs may have carried the statement's commit, so that raises
        CommitOutcomeUnknown and is never retried (the pool's pre-ping has just checked
        the connection, so a stale one fails there, before anything is sent, and is
        retried). Inside an enclosing transaction it runs once, as a savepoint.
        """
        if self.in_transaction():
            with self.transaction() as conn:
                return fn(conn)

        return self._retry(lambda: self._call(fn, statement=True))

    def read(self, fn: Callable[[Connection], T], *, replica: bool = False) -> T:
        """Run ``fn(conn)`` on an autocommit connection, retrying transient failures.

        ``replica=True`` sends it to the read replica (RESULTSDB_READ_URL) when one is
        configured: for analytics that can be a little behind. Inside a transaction, and
        without a replica, it runs on the primary.
        """
        if self.in_transaction():
            with self.connection() as conn:
                return fn(conn)
        return self._retry(lambda: self._call(fn, replica=replica))

    # -- errors ---------------------------------------------------------------------

    @contextmanager
    def _mapped_errors(self) -> Iterator[None]:
        try:
            yield
        except ResultsDBError:
            raise
        except psycopg.Error as exc:
            raise self.map_error(exc) from exc

    def constraint(self, name: str | None) -> ConstraintInfo | None:
        """Catalog description of a constraint (cached; for error messages)."""
        return self._errors.constraint(name)

    def map_error(self, exc: psycopg.Error) -> ResultsDBError:
        """Translate a psycopg error into the resultsdb hierarchy (resultsdb.errmap)."""
        return self._errors.map(exc)

    def _constraint_catalog(self) -> list[ConstraintInfo]:
        with self.connect() as conn:
            return catalog.constraints(conn)

    def _schema_behind(self) -> bool:
        """Whether a migration shipped with this package is not applied here (asked when a
        table is missing: ours, not migrated yet, or one the caller named wrongly)."""
        with self.connect() as conn:
            applied = {m.migration_id for m in catalog.applied_migrations(conn)}
        return not set(_paths.migration_ids()) <= applied
