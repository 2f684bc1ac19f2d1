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
from typing import Any
from urllib.parse import quote, urlencode

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from yoyo import get_backend, read_migrations
from yoyo.backends.base import DatabaseBackend
from yoyo.migrations import MigrationList

from resultsdb import _paths
from resultsdb.config import Settings
from resultsdb.db import Database, ensure_database, resolve_conninfo
from resultsdb.errors import MigrationError

# Arbitrary constant: the advisory lock key "resultsdb migrate".
MIGRATE_LOCK_KEY = 0x7265_7375_6C74_6462 & 0x7FFF_FFFF_FFFF_FFFF


@dataclass(frozen=True)
class MigrationState:
    id: str
    applied: bool
    applied_at: datetime | None = None


def yoyo_url(conninfo: str) -> str:
    """A yoyo URL for a libpq connection string; the +psycopg scheme selects psycopg 3."""
    params: dict[str, Any] = {k: v for k, v in conninfo_to_dict(conninfo).items() if v is not None}
    user = quote(str(params.pop("user", "")), safe="")
    password = params.pop("password", None)
    host = str(params.pop("host", ""))
    port = params.pop("port", None)
    dbname = quote(str(params.pop("dbname", "")), safe="")
    netloc = user + (f":{quote(str(password), safe='')}" if password is not None else "")
    netloc = f"{netloc}@" if netloc else ""
    if host and not host.startswith("/") and "," not in host:
        netloc += f"[{host}]" if ":" in host else host
        if port:
            netloc += f":{port}"
    else:
        if host:
            params["host"] = host
        if port:
            params["port"] = port
    query = urlencode({k: str(v) for k, v in params.items()})
    return f"postgresql+psycopg://{netloc}/{dbname}" + (f"?{query}" if query else "")


def _migrations(directory: Path | None = None) -> MigrationList:
    return read_migrations(str(directory or _paths.migrations_dir()))


@contextmanager
def _locked_backend(db: Database, directory: Path | None = None
                    ) -> Iterator[tuple[DatabaseBackend, MigrationList]]:
    conninfo = db.conninfo
    try:
        with psycopg.connect(conninfo, autocommit=True) as lock_conn:
            db.registry.execute(lock_conn, "advisory_lock", key=MIGRATE_LOCK_KEY)
            backend = get_backend(yoyo_url(conninfo))
            try:
                migrations = _migrations(directory)
                with backend.lock():
                    yield backend, migrations
            finally:
                backend.connection.close()
    except psycopg.Error as exc:
        raise MigrationError(f"migration failed: {db.map_error(exc)}") from exc


def migrate(db: Database, *, directory: Path | None = None) -> list[str]:
    """Apply every pending migration; return their ids. Then create the series partitions ahead."""
    with _locked_backend(db, directory) as (backend, migrations):
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
        applied = [m.id for m in pending]
    if applied or status(db, directory=directory):
        with db.connection() as conn:
            if db.registry.scalar(conn, "series_tables_exist"):
                db.registry.many(conn, "ensure_series_partitions", months_ahead=3, months_behind=0)
    return applied


def rollback(db: Database, *, steps: int = 1, directory: Path | None = None) -> list[str]:
    """Roll back the last ``steps`` applied migrations; return their ids."""
    if steps < 1:
        raise MigrationError(f"steps: must be >= 1, got {steps}")
    with _locked_backend(db, directory) as (backend, migrations):
        targets = backend.to_rollback(migrations)[:steps]
        backend.rollback_migrations(targets)
        return [m.id for m in targets]


def status(db: Database, *, directory: Path | None = None) -> list[MigrationState]:
    """Every known migration, in order, with whether and when it was applied."""
    backend = get_backend(yoyo_url(db.conninfo))
    try:
        migrations = _migrations(directory)
        applied = backend.get_applied_migration_hashes()
        times = {row.migration_hash: row.applied_at for row in _applied_rows(db)}
        return [MigrationState(m.id, m.hash in applied, times.get(m.hash)) for m in migrations]
    finally:
        backend.connection.close()


def _applied_rows(db: Database) -> list[Any]:
    with db.connection() as conn:
        if not db.registry.scalar(conn, "yoyo_tables_exist"):
            return []
        return db.registry.many(conn, "yoyo_applied")


def history(db: Database) -> list[Any]:
    """yoyo's log: every apply, rollback, mark and unmark, oldest first."""
    with db.connection() as conn:
        if not db.registry.scalar(conn, "yoyo_tables_exist"):
            return []
        return db.registry.many(conn, "yoyo_history")


def break_lock(db: Database) -> None:
    """Remove yoyo's lock row left behind by a crashed migrate."""
    backend = get_backend(yoyo_url(db.conninfo))
    try:
        backend.break_lock()
    finally:
        backend.connection.close()


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
