"""Versioned migrations with yoyo, driven through its Python API.

yoyo keeps its own lock as a row (a crashed migrate leaves it behind:
:func:`break_lock`). Around it we hold a PostgreSQL session advisory lock,
which the server releases when the session ends, crash or not: concurrent
``migrate`` processes queue on it and each step is applied exactly once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, urlencode

import psycopg
from psycopg import errors as pgerrors
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from yoyo import exceptions as yoyo_errors
from yoyo import get_backend, read_migrations
from yoyo.backends.base import DatabaseBackend
from yoyo.migrations import MigrationList

from resultsdb import _paths, ddl
from resultsdb.config import Settings
from resultsdb.db import Database
from resultsdb.errors import MigrationError
from resultsdb.records import AppliedMigration, MigrationLogEntry
from resultsdb.repositories import catalog
from resultsdb.resolve import ensure_database, resolve_conninfo

# Arbitrary constant: the advisory lock key "resultsdb migrate".
MIGRATE_LOCK_KEY = 0x7265_7375_6C74_6462 & 0x7FFF_FFFF_FFFF_FFFF

# How long migrate waits for yoyo's lock row once it holds the advisory lock. Every
# resultsdb migrate queues on the advisory lock first, so a row still there is one a
# crashed process left behind (or another yoyo client's).
LOCK_TIMEOUT = 10.0

# A host that yoyo passes to psycopg unchanged: a lower-case name, IPv4 or IPv6 address.
_URL_HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|[0-9a-f.]*:[0-9a-f:.]*")


@dataclass(frozen=True)
class MigrationState:
    id: str
    applied: bool
    applied_at: datetime | None = None


def yoyo_url(conninfo: str) -> str:
    """A yoyo URL for a libpq connection string; the +psycopg scheme selects psycopg 3.

    yoyo gives the URL's parts to ``psycopg.connect`` as keywords: it percent-decodes
    user and password, lower-cases the host and leaves the database name encoded. So
    host, port and database name go in the netloc and path only when that changes
    nothing; otherwise (socket folders, several hosts, names needing quoting) they go
    in the query string, which yoyo decodes and passes on as it is.
    """
    params = {k: str(v) for k, v in conninfo_to_dict(conninfo).items() if v not in (None, "")}
    netloc = ""
    if "user" in params:
        netloc = quote(params.pop("user"), safe="")
        if "password" in params:
            netloc += ":" + quote(params.pop("password"), safe="")
        netloc += "@"
    host, port = params.get("host", ""), params.get("port", "")
    if _URL_HOST.fullmatch(host) and (not port or port.isdigit()):
        netloc += f"[{host}]" if ":" in host else host
        netloc += f":{port}" if port else ""
        params.pop("host")
        params.pop("port", None)
    dbname = params.get("dbname", "")
    path = params.pop("dbname") if dbname and quote(dbname, safe="") == dbname else ""
    query = urlencode(params)
    return f"postgresql+psycopg://{netloc}/{path}" + (f"?{query}" if query else "")


def _migrations(directory: Path | None = None) -> MigrationList:
    return read_migrations(str(directory or _paths.migrations_dir()))


@contextmanager
def _mapped_errors(db: Database, action: str) -> Iterator[None]:
    """psycopg's and yoyo's exceptions leave as MigrationError (passwords scrubbed)."""
    try:
        yield
    except MigrationError:
        raise
    except pgerrors.LockNotAvailable as exc:
        step = ddl.timed_out("the step being applied", db.settings.ddl_lock_timeout_ms)
        raise MigrationError(f"{action} failed: {step} (the steps before it stay applied)") from exc
    except psycopg.Error as exc:
        raise MigrationError(f"{action} failed: {db.map_error(exc)}") from exc
    except yoyo_errors.LockTimeout as exc:
        holder = re.search(r"Process (\d+)", str(exc))
        raise MigrationError(
            f"{action} failed: the migration lock is held"
            + (f" by process {holder.group(1)}" if holder else "")
            + "; if no migrate is running, remove it with `resultsdb break-lock`"
        ) from exc
    except (yoyo_errors.BadMigration, yoyo_errors.MigrationConflict) as exc:
        raise MigrationError(f"{action} failed: bad migration: {exc}") from exc


@contextmanager
def _backend(db: Database) -> Iterator[DatabaseBackend]:
    # yoyo applies each step on a connection it opens for it, where no statement of ours
    # runs first: lock_timeout goes in the connection's options, so every step's DDL waits
    # at most that long for each lock.
    options = conninfo_to_dict(db.conninfo).get("options") or ""
    lock_timeout = f"-c lock_timeout={ddl.setting(db.settings.ddl_lock_timeout_ms)}"
    backend = get_backend(yoyo_url(make_conninfo(db.conninfo, options=f"{options} {lock_timeout}".strip())))
    try:
        yield backend
    finally:
        backend.connection.close()


@contextmanager
def _locked_backend(db: Database, directory: Path | None, lock_timeout: float
                    ) -> Iterator[tuple[DatabaseBackend, MigrationList]]:
    with db.connect() as lock_conn:
        catalog.lock(lock_conn, MIGRATE_LOCK_KEY)
        with _backend(db) as backend:
            migrations = _migrations(directory)
            with backend.lock(timeout=lock_timeout):
                yield backend, migrations


def migrate(db: Database, *, directory: Path | None = None,
            lock_timeout: float = LOCK_TIMEOUT) -> list[str]:
    """Apply every pending migration; return their ids. Then create the series partitions ahead."""
    with _mapped_errors(db, "migrate"), _locked_backend(db, directory, lock_timeout) as (
            backend, migrations):
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
        applied = [m.id for m in pending]
    with db.transaction() as conn:
        if catalog.series_tables_exist(conn):
            with ddl.lock_timeout(db, conn, "creating the series partitions ahead"):
                catalog.ensure_series_partitions(conn, months_ahead=3, months_behind=0)
    return applied


def migrate_if_new(db: Database) -> list[str]:
    """Migrate a database that was never migrated (yoyo has logged nothing there); the
    ids applied. The embedded default's first use: its callers set nothing up.

    A database migrated before is left as it is, even with steps pending or rolled back
    to zero: someone chose that state, and commands say which steps are missing.
    The check waits for a migrate in progress (its advisory lock), so a process that
    arrives while another migrates the new database finds it whole, not half done.
    """
    with _mapped_errors(db, "migrate"), db.connect() as conn:
        applied = {m.migration_id for m in catalog.applied_migrations(conn)}
        if set(_paths.migration_ids()) <= applied:
            return []
        catalog.lock(conn, MIGRATE_LOCK_KEY)
        if catalog.migration_log(conn):
            return []
    # Two processes may both get here: migrate() queues them and applies each step once.
    return migrate(db)


def rollback(db: Database, *, steps: int = 1, directory: Path | None = None,
             lock_timeout: float = LOCK_TIMEOUT) -> list[str]:
    """Roll back the last ``steps`` applied migrations; return their ids."""
    if steps < 1:
        raise MigrationError(f"steps: must be >= 1, got {steps}")
    with _mapped_errors(db, "rollback"), _locked_backend(db, directory, lock_timeout) as (
            backend, migrations):
        targets = backend.to_rollback(migrations)[:steps]
        backend.rollback_migrations(targets)
        return [m.id for m in targets]


def rollback_targets(db: Database, *, steps: int = 1, directory: Path | None = None) -> list[str]:
    """The ids :func:`rollback` with these ``steps`` would roll back, last applied first."""
    if steps < 1:
        raise MigrationError(f"steps: must be >= 1, got {steps}")
    with _mapped_errors(db, "rollback"), _backend(db) as backend:
        return [m.id for m in backend.to_rollback(_migrations(directory))[:steps]]


def status(db: Database, *, directory: Path | None = None) -> list[MigrationState]:
    """Every known migration, in order, with whether and when it was applied."""
    with _mapped_errors(db, "status"), _backend(db) as backend:
        migrations = _migrations(directory)
        applied = backend.get_applied_migration_hashes()
    times = {row.migration_hash: row.applied_at for row in _applied_rows(db)}
    return [MigrationState(m.id, m.hash in applied, times.get(m.hash)) for m in migrations]


def _applied_rows(db: Database) -> list[AppliedMigration]:
    with db.connection() as conn:
        return catalog.applied_migrations(conn)


def history(db: Database) -> list[MigrationLogEntry]:
    """yoyo's log: every apply, rollback, mark and unmark, oldest first."""
    with db.connection() as conn:
        return catalog.migration_log(conn)


def break_lock(db: Database) -> None:
    """Remove yoyo's lock row left behind by a crashed migrate.

    Refused while a migrate runs (it holds the advisory lock): its row is not stale.
    """
    with _mapped_errors(db, "break_lock"), db.connect() as conn:
        if not catalog.try_lock(conn, MIGRATE_LOCK_KEY):
            raise MigrationError(
                "break_lock: a migrate is running (it holds the migration lock); "
                "its lock is not stale"
            )
        with _backend(db) as backend:
            backend.break_lock()


_STEP = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


def new_migration(name: str, *, directory: Path | None = None) -> tuple[Path, Path]:
    """Write the next numbered migration and its rollback; return both paths."""
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,60}", name):
        raise MigrationError(f"name: {name!r} must be lower_snake_case, at most 61 characters")
    directory = directory or _paths.migrations_dir()
    steps = sorted(
        (m.group(1), p.stem) for p in directory.glob("*.sql")
        if (m := _STEP.match(p.name)) and not p.name.endswith(".rollback.sql")
    )
    number = int(steps[-1][0]) + 1 if steps else 1
    stem = f"{number:04d}_{name}"
    depends = f"-- depends: {steps[-1][1]}\n" if steps else ""
    forward = directory / f"{stem}.sql"
    backward = directory / f"{stem}.rollback.sql"
    forward.write_text(f"-- {name.replace('_', ' ')}\n{depends}\n", encoding="utf-8")
    backward.write_text(f"-- undo {stem}\n", encoding="utf-8")
    return forward, backward


def create_database(settings: Settings) -> bool:
    """Create the database the settings point at, if missing; True when created.

    With RESULTSDB_URL it connects to the server's ``postgres`` database to do so;
    the embedded server creates its database on first start anyway.
    """
    if settings.url is None:
        resolve_conninfo(settings)
        return False
    target = conninfo_to_dict(resolve_conninfo(settings))
    name = str(target.get("dbname") or target.get("user") or "")
    if not name:
        raise MigrationError("the URL names no database to create")
    admin = make_conninfo(resolve_conninfo(settings), dbname="postgres")
    try:
        return ensure_database(admin, name)
    except psycopg.Error as exc:
        raise MigrationError(
            f"cannot create database {name!r}: {Database(settings).map_error(exc)}"
        ) from exc
