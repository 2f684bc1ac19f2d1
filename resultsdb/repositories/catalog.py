"""The server and its catalog: databases, constraints, migrations' bookkeeping, health and
size figures, partition coverage, advisory locks."""

from __future__ import annotations

from typing import Literal

from resultsdb.records import (
    AppliedMigration,
    ArtifactUsage,
    ConstraintInfo,
    MigrationLogEntry,
    PartitionCoverage,
    PartitionInfo,
    PartitionName,
    ReplicaStatus,
    ServerInfo,
    TableSize,
)
from resultsdb.repositories.common import Connection

ResultsTable = Literal[
    "experiments", "runs", "configurations", "models", "model_versions",
    "model_version_transitions", "model_artifacts", "data_snapshots", "hyperparameter_results",
    "equity_curves", "trade_logs",
]


def database_exists(conn: Connection, name: str) -> bool:
    return conn.q.database_exists(name=name)


def create_database(conn: Connection, name: str) -> None:
    conn.q.create_database(name=name)


def constraints(conn: Connection) -> list[ConstraintInfo]:
    """Every constraint, table and partition of the schema with the words errors use."""
    return conn.q.constraint_catalog()


def lock(conn: Connection, key: int) -> None:
    """Wait for the session-level advisory lock ``key`` (held until the session ends)."""
    conn.q.advisory_lock(key=key)


def try_lock(conn: Connection, key: int) -> bool:
    """Take the session-level advisory lock ``key`` if free; whether it was."""
    return conn.q.try_advisory_lock(key=key)


def series_tables_exist(conn: Connection) -> bool:
    return conn.q.series_tables_exist()


def ensure_series_partitions(conn: Connection, *, months_ahead: int,
                             months_behind: int) -> list[PartitionName]:
    """Create the series partitions of the months around now; those created."""
    return conn.q.ensure_series_partitions(months_ahead=months_ahead, months_behind=months_behind)


def applied_migrations(conn: Connection) -> list[AppliedMigration]:
    """yoyo's applied migrations (none before the first migrate)."""
    return conn.q.yoyo_applied() if conn.q.yoyo_tables_exist() else []


def migration_log(conn: Connection) -> list[MigrationLogEntry]:
    """yoyo's log of applies, rollbacks, marks and unmarks, oldest first."""
    return conn.q.yoyo_history() if conn.q.yoyo_tables_exist() else []


def server_info(conn: Connection) -> ServerInfo:
    return conn.q.server_info()


def replica_status(conn: Connection) -> ReplicaStatus:
    return conn.q.replica_status()


def partition_coverage(conn: Connection, months_ahead: int) -> list[PartitionCoverage]:
    """For each run_id-partitioned table, whether this month's and the next ones' exist."""
    return conn.q.series_partition_coverage(months_ahead=months_ahead)


def table_sizes(conn: Connection) -> list[TableSize]:
    return conn.q.table_sizes()


def database_bytes(conn: Connection) -> int:
    return conn.q.database_bytes()


def artifact_usage(conn: Connection) -> ArtifactUsage:
    return conn.q.artifact_usage()


def series_partitions(conn: Connection) -> list[PartitionInfo]:
    return conn.q.series_partitions()


def lock_timeout(conn: Connection) -> str:
    """This session's lock_timeout ('0': no limit)."""
    return conn.q.lock_timeout_setting()


def set_local_lock_timeout(conn: Connection, value: str) -> None:
    """lock_timeout until the transaction ends (e.g. '3000ms')."""
    conn.q.set_local_lock_timeout(value=value)


def row_count(conn: Connection, table: ResultsTable) -> int:
    """Exact rows in one results table (a full scan: not for hot paths)."""
    return conn.q.table_row_count(table=table)
