"""Operator checks and sizes: ``resultsdb health`` and ``resultsdb stats``.

:func:`health` runs every check and reports each, a failure included, rather than
stopping at the first: an operator wants the whole picture. A check is ``ok``,
``fail`` or ``unknown`` (it could not be run here, e.g. no artifact store module);
the database is healthy when no check failed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from resultsdb import migrate
from resultsdb.config import Settings
from resultsdb.db import Database
from resultsdb.errors import ResultsDBError
from resultsdb.records import ArtifactUsage, TableSize
from resultsdb.repositories import catalog
from resultsdb.resolve import embedded_notice

CheckStatus = Literal["ok", "fail", "unknown"]


@dataclass(frozen=True)
class Check:
    name: str
    status: CheckStatus
    detail: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HealthReport:
    checks: list[Check]

    @property
    def healthy(self) -> bool:
        return all(c.status != "fail" for c in self.checks)

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)


@dataclass(frozen=True)
class StatsReport:
    database_bytes: int
    tables: list[TableSize]
    partitions: int
    artifacts: ArtifactUsage


def health(db: Database, *, months_ahead: int = 1, settings: Settings | None = None) -> HealthReport:
    """Which database, then connection, migrations, series partitions, pool and artifact
    store, each checked.

    ``months_ahead``: the series partitions of the current month and that many after it
    must exist (``resultsdb migrate`` creates three ahead). Without them rows go to the
    DEFAULT partition: nothing fails, but reads stop pruning to one month.
    """
    connection = _guard("connection", lambda: _connection(db))
    checks = [_database(db), connection]
    if connection.status == "ok":
        checks += [
            _guard("migrations", lambda: _migrations(db)),
            _guard("partitions", lambda: _partitions(db, months_ahead)),
        ]
        if db.read_conninfo is not None:
            checks.append(_guard("replica", lambda: _replica(db)))
        checks.append(_guard("pool", lambda: _pool(db)))
    checks.append(_guard("artifact_store", lambda: _artifact_store(settings or db.settings)))
    return HealthReport(checks)


def stats(db: Database) -> StatsReport:
    """Table sizes and row estimates (from the catalog, no scans), partitions, artifact bytes."""
    def go(conn: Any) -> StatsReport:
        tables = catalog.table_sizes(conn)
        return StatsReport(database_bytes=catalog.database_bytes(conn), tables=tables,
                           partitions=sum(t.partitions for t in tables),
                           artifacts=catalog.artifact_usage(conn))
    return db.read(go)


def human_bytes(n: int) -> str:
    """1536 -> '1.5 KiB': sizes for people (JSON keeps the exact integers)."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def _guard(name: str, fn: Callable[[], Check]) -> Check:
    try:
        return fn()
    # fsspec says "cannot reach" or "no such protocol" in OSError, ValueError, ImportError.
    except (ResultsDBError, OSError, ValueError, ImportError) as exc:
        return Check(name, "fail", f"{type(exc).__name__}: {exc}")


def _database(db: Database) -> Check:
    """Where the results go. The embedded default is fine on a laptop and a trap in a
    container, whose folder goes with it: say so, with the folder's absolute path."""
    s = db.settings
    if s.url is not None:
        return Check("database", "ok", f"server at {db.masked_url}",
                     {"embedded": False, "url": db.masked_url})
    return Check("database", "ok", embedded_notice(s),
                 {"embedded": True, "data_dir": str(s.data_dir.resolve()), "database": s.database})


def _connection(db: Database) -> Check:
    started = time.perf_counter()
    info = db.read(catalog.server_info)
    ms = (time.perf_counter() - started) * 1000
    return Check("connection", "ok",
                 f"{db.masked_url}: PostgreSQL {info.server_version} as {info.user_name}, {ms:.1f} ms",
                 {"url": db.masked_url, "server_version": info.server_version,
                  "database": info.database, "user": info.user_name,
                  "in_recovery": info.in_recovery, "latency_ms": round(ms, 2)})


def _migrations(db: Database) -> Check:
    states = migrate.status(db)
    known = {s.id for s in states}
    pending = [s.id for s in states if not s.applied]
    unknown = sorted(m.migration_id for m in db.read(catalog.applied_migrations)
                     if m.migration_id not in known)
    data = {"applied": len(states) - len(pending), "pending": pending, "unknown_applied": unknown}
    if pending:
        return Check("migrations", "fail",
                     f"{len(pending)} pending: {', '.join(pending)} (run `resultsdb migrate`)", data)
    if unknown:
        # The database is ahead of this code: an older release talking to a newer schema.
        return Check("migrations", "fail",
                     f"applied migrations this code does not know: {', '.join(unknown)}", data)
    return Check("migrations", "ok", f"{len(states)} applied, none pending", data)


def _partitions(db: Database, months_ahead: int) -> Check:
    rows = db.read(lambda c: catalog.partition_coverage(c, months_ahead))
    missing = [r.partition for r in rows if not r.present]
    tables = sorted({r.parent for r in rows})
    data = {"months_ahead": months_ahead, "tables": tables, "missing": missing}
    if not rows:
        return Check("partitions", "fail", "no table is partitioned by run_id", data)
    if missing:
        return Check("partitions", "fail",
                     f"missing {', '.join(missing)} (create them: "
                     f"`select maintain_series_partitions({months_ahead})`)", data)
    return Check("partitions", "ok",
                 f"current month and {months_ahead} ahead present for {', '.join(tables)}",
                 data)


def _replica(db: Database) -> Check:
    status = db.read(catalog.replica_status, replica=True)
    lag = status.replay_lag_s
    data = {"in_recovery": status.in_recovery, "replay_lag_s": lag}
    if not status.in_recovery:
        return Check("replica", "ok", "RESULTSDB_READ_URL answers (a primary, not in recovery)", data)
    return Check("replica", "ok", "RESULTSDB_READ_URL answers, replaying"
                 + (f", last transaction {lag:.1f} s behind" if lag is not None else ""), data)


def _pool(db: Database) -> Check:
    stats = dict(db.pool.get_stats())
    waiting = stats.get("requests_waiting", 0)
    detail = (f"{stats.get('pool_size', 0)} open, {stats.get('pool_available', 0)} idle, "
              f"max {stats.get('pool_max', db.settings.pool_max_size)}, {waiting} waiting")
    return Check("pool", "ok", detail, stats)


def _artifact_store(settings: Settings) -> Check:
    try:
        from resultsdb.artifacts import ArtifactStore
    except ImportError as exc:
        return Check("artifact_store", "unknown", f"resultsdb.artifacts not importable ({exc})")
    store = ArtifactStore.from_settings(settings)
    # A look-up of a hash nobody stores: it reaches the store, finds nothing, and raises
    # only when the store cannot be asked (unreachable, permission denied).
    store.exists("0" * 64)
    return Check("artifact_store", "ok", f"{store!r} answers", {"url": settings.resolved_artifacts_url()})
