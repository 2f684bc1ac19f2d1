"""Row builders and checks shared by the tests/test_constraints_*.py modules.

The builders write through a raw autocommit connection (the ``conn`` fixture) and
return ids; ``valid_values`` gives the column values of a valid new row of any
table, with its parents already created, so a test can override one column and
see exactly one constraint fail. ``refused`` runs a statement the way library
code does, in ``db.transaction()``, and returns the typed error it raised.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from resultsdb.db import Database
from resultsdb.errors import ResultsDBError

Conn = psycopg.Connection[Any]

JSONB_COLUMNS = {"tags", "summary_metrics", "parameters", "metadata", "metrics"}
T0 = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
HOUR = timedelta(hours=1)
SHA_A = "a" * 64
SHA_B = "0123456789abcdef" * 4

_serial = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_serial)}"


def _adapt(column: str, value: Any) -> Any:
    if column in JSONB_COLUMNS and value is not None and not isinstance(value, Jsonb):
        return Jsonb(value)
    return value


def insert_query(table: str, values: Mapping[str, Any]) -> tuple[sql.Composed, list[Any]]:
    """``insert into table (...) values (...) returning *`` and its parameters."""
    query = sql.SQL("insert into {} ({}) values ({}) returning *").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, values)),
        sql.SQL(", ").join(sql.Placeholder() * len(values)),
    )
    return query, [_adapt(c, v) for c, v in values.items()]


def _where(key: Mapping[str, Any]) -> sql.Composed:
    return sql.SQL(" and ").join(
        sql.SQL("{} is not distinct from {}").format(sql.Identifier(c), sql.Placeholder())
        for c in key
    )


def update_query(table: str, key: Mapping[str, Any], values: Mapping[str, Any]
                 ) -> tuple[sql.Composed, list[Any]]:
    """``update table set ... where <key>`` and its parameters."""
    query = sql.SQL("update {} set {} where {}").format(
        sql.Identifier(table),
        sql.SQL(", ").join(
            sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder()) for c in values),
        _where(key),
    )
    return query, [_adapt(c, v) for c, v in values.items()] + list(key.values())


def delete_query(table: str, key: Mapping[str, Any]) -> tuple[sql.Composed, list[Any]]:
    query = sql.SQL("delete from {} where {}").format(sql.Identifier(table), _where(key))
    return query, list(key.values())


KEY_COLUMNS = {
    "equity_curves": ("run_id", "model_id", "ts"),
    "trade_logs": ("run_id", "model_id", "seq"),
    "status_transitions": ("entity", "from_status", "to_status"),
    "hyperparameter_results": ("run_id", "id"),
    "blobs": ("content_hash",),
    "series_batches": ("run_id", "model_id", "kind", "batch_key"),
    "run_metrics": ("run_id", "key"),
}


def key_of(table: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """The columns that identify ``row`` of ``table``."""
    return {c: row[c] for c in KEY_COLUMNS.get(table, ("id",))}


def insert(conn: Conn, table: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Insert one row through the raw connection; the stored row."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(*insert_query(table, values))
        row = cur.fetchone()
    assert row is not None
    return row


def fetch(conn: Conn, table: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
    query = sql.SQL("select * from {} where {}").format(sql.Identifier(table), _where(key))
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, list(key.values()))
        return cur.fetchone()


def count(conn: Conn, table: str, where: str = "true", params: Any = None) -> int:
    query = sql.SQL("select count(*) from {} where " + where).format(sql.Identifier(table))
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return int(row[0])


def scalar(conn: Conn, query: str, params: Any = None) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def refused(db: Database, error: type[ResultsDBError], query: Any, params: Any = None
            ) -> ResultsDBError:
    """Run ``query`` in ``db.transaction()``; it must raise exactly ``error``."""
    with pytest.raises(error) as caught:
        with db.transaction() as c:
            c.execute(query, params)
    assert type(caught.value) is error, f"{type(caught.value).__name__}: {caught.value}"
    return caught.value


def comment_of(conn: Conn, name: str) -> str | None:
    """The COMMENT of a constraint, or of a unique index that backs none."""
    return scalar(conn, """
        select coalesce(
            (select obj_description(c.oid, 'pg_constraint') from pg_constraint c
              where c.conname = %(n)s and obj_description(c.oid, 'pg_constraint') is not null
              limit 1),
            (select obj_description(i.oid, 'pg_class') from pg_class i
              where i.relname = %(n)s and i.relkind = 'i'))""", {"n": name})


def assert_names(err: Any, table: str, field: str | None = None, *,
                 columns: tuple[str, ...] | None = None, constraint: str | None = None,
                 conn: Conn | None = None) -> None:
    """The error names the table and the field (or columns), the constraint, and its COMMENT."""
    text = str(err)
    assert err.table == table, text
    assert text.startswith(table), text
    if field is not None:
        assert err.field == field, text
        assert field in err.columns, text
        assert f"{table}.{field}" in text or field in text.split(":")[1], text
    if columns is not None:
        assert tuple(err.columns) == columns, text
        assert all(c in text for c in columns), text
    if constraint is not None:
        assert err.constraint == constraint, text
        if conn is not None:
            comment = comment_of(conn, constraint)
            if comment:
                assert comment in text, text


# -- row builders: each inserts one valid row (parents too) and returns its id --------------


def make_experiment(conn: Conn, **values: Any) -> UUID:
    return insert(conn, "experiments", {"name": unique("exp")} | values)["id"]


def make_run(conn: Conn, **values: Any) -> UUID:
    if "experiment_id" not in values:
        values["experiment_id"] = make_experiment(conn)
    return insert(conn, "runs", values)["id"]


def make_configuration(conn: Conn, **values: Any) -> UUID:
    base = {"name": unique("cfg"), "config_type": "model", "version": 1}
    if "run_id" not in values:
        base["run_id"] = make_run(conn)
    return insert(conn, "configurations", base | values)["id"]


def make_model(conn: Conn, **values: Any) -> UUID:
    base = {"name": unique("model"), "model_type": "lstm"}
    if "run_id" not in values:
        base["run_id"] = make_run(conn)
    return insert(conn, "models", base | values)["id"]


def make_model_version(conn: Conn, **values: Any) -> UUID:
    base: dict[str, Any] = {"version": 1}
    if "model_id" not in values:
        base["model_id"] = make_model(conn)
    if "run_id" not in values:
        base["run_id"] = make_run(conn)
    return insert(conn, "model_versions", base | values)["id"]


def make_artifact(conn: Conn, **values: Any) -> UUID:
    base = {"artifact_type": "weights", "storage_path": "ab/cd", "size_bytes": 1,
            "content_hash": SHA_A}
    if "model_version_id" not in values:
        base["model_version_id"] = make_model_version(conn)
    return insert(conn, "model_artifacts", base | values)["id"]


def make_snapshot(conn: Conn, **values: Any) -> UUID:
    base = {"data_source": "prices.parquet", "start_date": T0, "end_date": T0 + HOUR,
            "features_hash": SHA_A}
    if "run_id" not in values:
        base["run_id"] = make_run(conn)
    return insert(conn, "data_snapshots", base | values)["id"]


def make_trial(conn: Conn, **values: Any) -> UUID:
    base: dict[str, Any] = {"trial_number": 1}
    if "run_id" not in values:
        base["run_id"] = make_run(conn, run_type="search")
    return insert(conn, "hyperparameter_results", base | values)["id"]


def make_blob(conn: Conn, **values: Any) -> str:
    return insert(conn, "blobs", {"content_hash": _digest(), "size_bytes": 1} | values)["content_hash"]


def make_batch(conn: Conn, run_id: UUID, **values: Any) -> dict[str, Any]:
    return insert(conn, "series_batches", {
        "run_id": run_id, "kind": "equity", "batch_key": unique("batch"), "row_count": 0,
        "checksum": SHA_A} | values)


def run_metrics_of(conn: Conn, run_id: UUID) -> dict[str, tuple[UUID, float]]:
    """The derived run_metrics rows of a run: key -> (experiment_id, value)."""
    return {r[0]: (r[1], r[2]) for r in conn.execute(
        "select key, experiment_id, value from run_metrics where run_id = %s", [run_id])}


def add_point(conn: Conn, run_id: UUID, **values: Any) -> dict[str, Any]:
    return insert(conn, "equity_curves",
                  {"run_id": run_id, "ts": T0, "portfolio_value": 100.0} | values)


def add_trade(conn: Conn, run_id: UUID, **values: Any) -> dict[str, Any]:
    return insert(conn, "trade_logs", {"run_id": run_id, "seq": 0, "ts": T0, "asset": "BTC",
                                       "action": "buy", "price": 1.0, "quantity": 1.0} | values)


# -- complete valid rows (not inserted), every column given where it has a value -----------

_VALID: dict[str, Callable[[Conn], dict[str, Any]]] = {
    "status_transitions": lambda conn: {
        "entity": "test", "from_status": unique("a"), "to_status": "b"},
    "experiments": lambda conn: {
        "name": unique("exp"), "description": "d", "tags": {"team": "a"}, "status": "active"},
    "runs": lambda conn: {
        "experiment_id": make_experiment(conn), "name": "run", "run_type": "training",
        "status": "running", "start_time": T0, "summary_metrics": {"sharpe": 1.5},
        "tags": {}, "error_type": None, "error_message": None, "trial_count": 0},
    "configurations": lambda conn: {
        "run_id": make_run(conn), "name": unique("cfg"), "config_type": "model",
        "parameters": {"lr": 0.1}, "version": 1, "parent_id": make_configuration(conn)},
    "models": lambda conn: {
        "run_id": make_run(conn), "config_id": make_configuration(conn),
        "model_type": "lstm", "name": unique("model"), "metadata": {}, "version_count": 0},
    "model_versions": lambda conn: {
        "model_id": make_model(conn), "version": 1, "run_id": make_run(conn),
        "config_id": make_configuration(conn), "commit_hash": "abcdef1", "status": "draft",
        "metrics": {"sharpe": 1.0}, "description": "v1"},
    "model_version_transitions": lambda conn: {
        "model_version_id": make_model_version(conn), "from_status": "draft",
        "to_status": "staging", "reason": "why", "changed_by": "tester"},
    "model_artifacts": lambda conn: {
        "model_version_id": make_model_version(conn), "artifact_type": "weights",
        "storage_path": "ab/cd", "size_bytes": 10, "file_format": "pt", "content_hash": SHA_A},
    "data_snapshots": lambda conn: {
        "run_id": make_run(conn), "data_source": "prices.parquet", "start_date": T0,
        "end_date": T0 + HOUR, "features_hash": SHA_A, "storage_path": "snap/1",
        "content_hash": SHA_B, "size_bytes": 10},
    "hyperparameter_results": lambda conn: {
        "run_id": make_run(conn, run_type="search"), "trial_number": 1,
        "trial_run_id": make_run(conn), "parameters": {"lr": 0.1}, "objective_value": 0.5,
        "metrics": {"loss": 0.5}, "status": "running"},
    "equity_curves": lambda conn: {
        "run_id": make_run(conn), "model_id": None, "ts": T0, "portfolio_value": 100.0,
        "benchmark_value": 99.0, "drawdown": 0.0},
    "trade_logs": lambda conn: {
        "run_id": make_run(conn), "model_id": None, "seq": 0, "ts": T0, "asset": "BTC",
        "action": "buy", "price": 10.0, "quantity": 2.0, "pnl": -1.5, "metadata": {"k": 1}},
    "series_batches": lambda conn: {
        "run_id": make_run(conn), "model_id": None, "kind": "equity",
        "batch_key": unique("batch"), "row_count": 3, "first_ts": T0, "last_ts": T0 + HOUR,
        "checksum": SHA_B},
    "blobs": lambda conn: {
        "content_hash": _digest(), "size_bytes": 10, "created_at": T0, "last_claimed_at": T0},
    # run_metrics is derived from runs.summary_metrics by trigger; its own constraints are
    # proved by writing it directly (as psql could), the derivation in test_constraints_triggers.
    "run_metrics": lambda conn: _run_metric(conn),
}
TABLES = tuple(_VALID)


def _digest() -> str:
    """A sha256-shaped hex digest not used before in this session."""
    return f"{next(_serial):064x}"


def _run_metric(conn: Conn) -> dict[str, Any]:
    run = insert(conn, "runs", {"experiment_id": make_experiment(conn)})
    return {"run_id": run["id"], "experiment_id": run["experiment_id"], "key": unique("m"),
            "value": 1.5}


def valid_values(conn: Conn, table: str) -> dict[str, Any]:
    """Column values of a valid new row of ``table``; its parent rows now exist."""
    return _VALID[table](conn)
