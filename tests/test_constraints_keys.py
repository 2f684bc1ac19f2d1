"""Keys: every primary key, UNIQUE constraint and unique index, and every foreign key.

A duplicate raises ``AlreadyExists``; a missing parent ``ReferenceNotFound``; deleting a
parent does what its ON DELETE says: CASCADE removes the children, RESTRICT raises
``StillReferenced`` and SET NULL clears the reference. Each refusal names the table and
the field, and leaves every row as it was.
"""

from __future__ import annotations

from typing import Any

import pytest
from _constraint_rows import (
    SHA_A,
    SHA_B,
    TABLES,
    assert_names,
    comment_of,
    count,
    delete_query,
    fetch,
    insert,
    insert_query,
    key_of,
    make_configuration,
    make_experiment,
    make_model,
    make_model_version,
    make_run,
    refused,
    scalar,
    update_query,
    valid_values,
)

from resultsdb.errors import AlreadyExists, ReferenceNotFound, StillReferenced

# (table, constraint, conflicting columns, values of the first row, values of the second)
UNIQUE: list[tuple[str, str, tuple[str, ...], dict[str, Any], dict[str, Any]]] = [
    *[(t, f"{t}_pkey", ("id",), {}, {}) for t in TABLES
      if t not in ("status_transitions", "equity_curves", "trade_logs", "hyperparameter_results",
                   "series_batches", "blobs", "run_metrics")],
    ("blobs", "blobs_pkey", ("content_hash",), {}, {}),
    ("run_metrics", "run_metrics_pkey", ("run_id", "key"), {}, {}),
    ("series_batches", "series_batches_key", ("run_id", "model_id", "kind", "batch_key"), {}, {}),
    ("series_batches", "series_batches_key", ("run_id", "model_id", "kind", "batch_key"),
     {"kind": "trades"}, {"row_count": 0, "first_ts": None, "last_ts": None}),
    ("hyperparameter_results", "hyperparameter_results_pkey", ("run_id", "id"), {}, {}),
    ("status_transitions", "status_transitions_pkey", ("entity", "from_status", "to_status"),
     {}, {}),
    ("configurations", "configurations_name_version_key", ("name", "version"), {}, {}),
    ("models", "models_name_key", ("name",), {}, {}),
    ("model_versions", "model_versions_model_version_key", ("model_id", "version"), {}, {}),
    ("hyperparameter_results", "hyperparameter_results_run_trial_key",
     ("run_id", "trial_number"), {}, {}),
    ("equity_curves", "equity_curves_key", ("run_id", "model_id", "ts"), {}, {}),
    ("trade_logs", "trade_logs_key", ("run_id", "model_id", "seq"), {}, {}),
    ("experiments", "experiments_name_live_key", ("name",), {}, {}),
    ("experiments", "experiments_name_live_key", ("name",), {"status": "completed"}, {}),
    ("model_versions", "model_versions_one_production", ("model_id",),
     {"status": "production"}, {"status": "production", "version": 2}),
]


def unique_id(case: tuple[Any, ...]) -> str:
    _, constraint, _, first, _ = case
    return constraint + ("-" + "-".join(map(str, first.values())) if first else "")


def partition_names(conn, constraint: str) -> set[str]:
    """The constraint and its copies on the partitions of a partitioned table."""
    rows = conn.execute("""
        select c.conname from pg_constraint c
         where c.conname = %(n)s
            or c.conparentid in (select oid from pg_constraint where conname = %(n)s)""",
                        {"n": constraint})
    return {r[0] for r in rows}


@pytest.mark.parametrize(("table", "constraint", "columns", "first", "second"), UNIQUE,
                         ids=map(unique_id, UNIQUE))
def test_duplicate_key_is_refused(db, conn, table, constraint, columns, first, second) -> None:
    stored = insert(conn, table, valid_values(conn, table) | first)
    row = valid_values(conn, table) | second | {c: stored[c] for c in columns}
    before = count(conn, table)
    err = refused(db, AlreadyExists, *insert_query(table, row))
    assert count(conn, table) == before
    assert_names(err, table, columns[0] if len(columns) == 1 else None, columns=columns)
    assert err.constraint in partition_names(conn, constraint) | {constraint}
    assert "already exists" in str(err)
    comment = comment_of(conn, constraint)
    if comment:
        assert comment in str(err)


def test_equity_curves_key_treats_null_model_ids_as_equal(db, conn) -> None:
    """NULLS NOT DISTINCT: a run-level curve (model_id null) has one point per ts."""
    run = make_run(conn)
    model = make_model(conn)
    for model_id in (None, model):
        insert(conn, "equity_curves", {"run_id": run, "model_id": model_id, "ts": "2020-01-01",
                                       "portfolio_value": 1.0})
    before = count(conn, "equity_curves")
    err = refused(db, AlreadyExists, "insert into equity_curves (run_id, model_id, ts, "
                  "portfolio_value) values (%s, null, '2020-01-01', 2.0)", [run])
    assert count(conn, "equity_curves") == before
    assert_names(err, "equity_curves", columns=("run_id", "model_id", "ts"))
    assert "a timestamp appears once in a series" in str(err)


def test_series_batches_key_treats_null_model_ids_as_equal(db, conn) -> None:
    """NULLS NOT DISTINCT: a run-level batch key is used once; a model's batch is apart."""
    run = make_run(conn)
    model = make_model(conn)
    for model_id in (None, model):
        insert(conn, "series_batches", {"run_id": run, "model_id": model_id, "kind": "equity",
                                        "batch_key": "b1", "row_count": 0, "checksum": SHA_A})
    with db.transaction() as c:  # the same key for the other kind is another batch
        c.execute("insert into series_batches (run_id, kind, batch_key, row_count, checksum) "
                  "values (%s, 'trades', 'b1', 0, %s)", [run, SHA_A])
    before = count(conn, "series_batches")
    err = refused(db, AlreadyExists, "insert into series_batches (run_id, model_id, kind, "
                  "batch_key, row_count, checksum) values (%s, null, 'equity', 'b1', 0, %s)",
                  [run, SHA_B])
    assert count(conn, "series_batches") == before == 3
    assert_names(err, "series_batches", columns=("run_id", "model_id", "kind", "batch_key"),
                 constraint="series_batches_key", conn=conn)
    assert "a batch is written once" in str(err)


def test_experiment_names_are_unique_among_live_experiments_only(db, conn) -> None:
    make_experiment(conn, name="alpha", status="archived")
    make_experiment(conn, name="alpha", status="archived")
    live = make_experiment(conn, name="alpha")
    with db.transaction() as c:  # archiving frees the name
        c.execute("update experiments set status = 'archived' where id = %s", [live])
        c.execute("insert into experiments (name) values ('alpha')")
    assert count(conn, "experiments", "name = 'alpha'") == 4


def test_reactivating_an_experiment_whose_name_is_taken_is_refused(db, conn) -> None:
    old = make_experiment(conn, name="alpha", status="archived")
    make_experiment(conn, name="alpha", status="failed")
    stored = fetch(conn, "experiments", {"id": old})
    err = refused(db, AlreadyExists, "update experiments set status = 'active' where id = %s",
                  [old])
    assert fetch(conn, "experiments", {"id": old}) == stored
    assert_names(err, "experiments", "name", constraint="experiments_name_live_key")


def test_a_second_production_version_is_refused_on_promotion(db, conn) -> None:
    model = make_model(conn)
    make_model_version(conn, model_id=model, version=1, status="production")
    staged = make_model_version(conn, model_id=model, version=2, status="staging")
    stored = fetch(conn, "model_versions", {"id": staged})
    audit = count(conn, "model_version_transitions")
    err = refused(db, AlreadyExists,
                  "update model_versions set status = 'production' where id = %s", [staged])
    assert fetch(conn, "model_versions", {"id": staged}) == stored
    assert count(conn, "model_version_transitions") == audit
    assert_names(err, "model_versions", "model_id", conn=conn,
                 constraint="model_versions_one_production")
    assert "At most one production version per model." in str(err)


def test_production_is_per_model_and_freed_by_archiving(db, conn) -> None:
    first = make_model(conn)
    current = make_model_version(conn, model_id=first, status="production")
    make_model_version(conn, model_id=make_model(conn), status="production")
    nxt = make_model_version(conn, model_id=first, version=2, status="staging")
    with db.transaction() as c:
        c.execute("update model_versions set status = 'archived' where id = %s", [current])
        c.execute("update model_versions set status = 'production' where id = %s", [nxt])
    assert count(conn, "model_versions", "status = 'production'") == 2


def test_every_unique_rule_has_a_case(conn) -> None:
    declared = {r[0] for r in conn.execute("""
        select c.conname from pg_constraint c join pg_class t on t.oid = c.conrelid
         where c.contype in ('p', 'u') and c.connamespace = current_schema()::regnamespace
           and not t.relispartition and t.relname !~ 'yoyo'
        union all
        select i.relname from pg_index x join pg_class i on i.oid = x.indexrelid
         join pg_class t on t.oid = x.indrelid
         where x.indisunique and i.relnamespace = current_schema()::regnamespace
           and not t.relispartition and t.relname !~ 'yoyo'
           and not exists (select 1 from pg_constraint c where c.conindid = x.indexrelid
                                                          and c.contype in ('p', 'u'))""")}
    assert declared == {c for _, c, *_ in UNIQUE}


# -- foreign keys -------------------------------------------------------------------------------
# (table, column, parent table, ON DELETE), as docs/design.md declares them
FOREIGN_KEYS = [
    ("runs", "experiment_id", "experiments", "cascade"),
    ("runs", "parent_run_id", "runs", "cascade"),
    ("configurations", "run_id", "runs", "cascade"),
    ("configurations", "parent_id", "configurations", "restrict"),
    ("models", "run_id", "runs", "restrict"),
    ("models", "config_id", "configurations", "restrict"),
    ("model_versions", "model_id", "models", "cascade"),
    ("model_versions", "run_id", "runs", "restrict"),
    ("model_versions", "config_id", "configurations", "restrict"),
    ("model_version_transitions", "model_version_id", "model_versions", "cascade"),
    ("model_artifacts", "model_version_id", "model_versions", "cascade"),
    ("data_snapshots", "run_id", "runs", "cascade"),
    ("hyperparameter_results", "run_id", "runs", "cascade"),
    ("hyperparameter_results", "trial_run_id", "runs", "set null"),
    ("equity_curves", "run_id", "runs", "cascade"),
    ("equity_curves", "model_id", "models", "cascade"),
    ("trade_logs", "run_id", "runs", "cascade"),
    ("trade_logs", "model_id", "models", "cascade"),
    ("series_batches", "run_id", "runs", "cascade"),
    ("series_batches", "model_id", "models", "cascade"),
    ("run_metrics", "run_id", "runs", "cascade"),
]
FK_IDS = [f"{t}.{c}->{p}" for t, c, p, _ in FOREIGN_KEYS]
ON_DELETE = {"a": "no action", "r": "restrict", "c": "cascade", "n": "set null",
             "d": "set default"}


def child_row(conn, table: str, column: str) -> dict[str, Any]:
    """A stored valid row of ``table`` whose ``column`` points at a parent of its own."""
    values = valid_values(conn, table)
    if column == "parent_run_id":
        values[column] = make_run(conn)
    elif column == "model_id" and table in ("equity_curves", "trade_logs", "series_batches"):
        values[column] = make_model(conn)
    return insert(conn, table, values)


def test_foreign_keys_are_declared_as_designed(conn) -> None:
    declared = {(r[0], r[1], r[2], ON_DELETE[r[3]]) for r in conn.execute("""
        select c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, c.confdeltype
          from pg_constraint c join pg_class t on t.oid = c.conrelid
          join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
         where c.contype = 'f' and c.connamespace = current_schema()::regnamespace
           and not t.relispartition and cardinality(c.conkey) = 1""")}
    assert declared == set(FOREIGN_KEYS)


@pytest.mark.parametrize("mode", ["insert", "update"])
@pytest.mark.parametrize(("table", "column", "parent", "on_delete"), FOREIGN_KEYS, ids=FK_IDS)
def test_missing_parent_is_refused(db, conn, table, column, parent, on_delete, mode) -> None:
    missing = scalar(conn, "select uuid_v7()")
    if mode == "insert":
        row = valid_values(conn, table) | {column: missing}
        before = count(conn, table)
        err = refused(db, ReferenceNotFound, *insert_query(table, row))
        assert count(conn, table) == before
    else:
        key = key_of(table, child_row(conn, table, column))
        stored = fetch(conn, table, key)
        err = refused(db, ReferenceNotFound, *update_query(table, key, {column: missing}))
        assert fetch(conn, table, key) == stored
    assert_names(err, table, column, constraint=f"{table}_{column}_fkey")
    assert f"{table}.{column}: refers to a row that does not exist" in str(err)
    assert f'not present in table "{parent}"' in str(err)


@pytest.mark.parametrize(("table", "column", "parent", "on_delete"), FOREIGN_KEYS, ids=FK_IDS)
def test_deleting_the_parent(db, conn, table, column, parent, on_delete) -> None:
    child = child_row(conn, table, column)
    key = key_of(table, child)
    stored = fetch(conn, table, key)
    parent_key = {"id": child[column]}
    if on_delete == "cascade":
        with db.transaction() as c:
            c.execute(*delete_query(parent, parent_key))
        assert fetch(conn, parent, parent_key) is None
        assert fetch(conn, table, key) is None
    elif on_delete == "restrict":
        parent_row = fetch(conn, parent, parent_key)
        err = refused(db, StillReferenced, *delete_query(parent, parent_key))
        assert fetch(conn, parent, parent_key) == parent_row
        assert fetch(conn, table, key) == stored
        assert_names(err, parent, "id", constraint=f"{table}_{column}_fkey")
        assert f"rows in {table} ({column}) still reference it" in str(err)
    else:
        with db.transaction() as c:
            c.execute(*delete_query(parent, parent_key))
        after = fetch(conn, table, key)
        assert after is not None and after[column] is None
        ignore = {column, "updated_at"}
        assert {k: v for k, v in after.items() if k not in ignore} == {
            k: v for k, v in stored.items() if k not in ignore}


def test_a_cascade_stops_at_a_restricting_reference(db, conn) -> None:
    """Deleting an experiment would delete its runs, but a run with a model stays."""
    experiment = make_experiment(conn)
    run = make_run(conn, experiment_id=experiment)
    make_model(conn, run_id=run)
    make_configuration(conn, run_id=run)
    err = refused(db, StillReferenced, "delete from experiments where id = %s", [experiment])
    assert_names(err, "runs", "id", constraint="models_run_id_fkey")
    assert count(conn, "experiments", "id = %s", [experiment]) == 1
    assert count(conn, "runs", "id = %s", [run]) == 1
    assert count(conn, "configurations", "run_id = %s", [run]) == 1
    assert count(conn, "models", "run_id = %s", [run]) == 1
