"""Every foreign key has an index leading on its columns, so deleting a referenced row never
scans the referencing table (every partition of a series table): checked from the catalog
for the whole schema, and for a model delete by the scans it makes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg import sql

from tests.conftest import TEST_QUERIES

MONTHS = 12
RUNS_PER_MONTH = 50
# Rows per run: every run has a series of its own and one of another model; the deleted
# model has rows in one run of each month, as one model's are among many.
ROWS = {"none": 40, "kept": 40, "deleted": 20}


def test_every_foreign_key_has_an_index_leading_on_its_columns(conn: psycopg.Connection) -> None:
    assert TEST_QUERIES.run(conn, "unindexed_foreign_keys") == []


def test_the_check_finds_a_foreign_key_no_index_leads_on(conn: psycopg.Connection) -> None:
    conn.execute("create table notes (id bigint primary key, model_id uuid references models (id), "
                 "run_id uuid references runs (id), config_id uuid references configurations (id))")
    conn.execute("create index notes_run_idx on notes (run_id) where run_id is not null")
    conn.execute("create index notes_model_second_idx on notes (id, model_id)")  # not leading
    conn.execute("create index notes_config_idx on notes (config_id) where id > 0")  # not implied
    assert TEST_QUERIES.run(conn, "unindexed_foreign_keys") == [
        "notes (config_id) -> configurations", "notes (model_id) -> models"]


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


@pytest.fixture
def deleted_model(conn: psycopg.Connection) -> UUID:
    """A model with equity rows, trades and batches in each of MONTHS month partitions,
    among RUNS_PER_MONTH runs' rows of another model and of none; analyzed. Returns it."""
    experiment = conn.execute("insert into experiments (name) values ('fk') returning id").fetchone()[0]
    conn.execute("""
        insert into runs (id, experiment_id)
        select uuid_v7(timestamptz '2024-01-01' + make_interval(months => m, hours => r)), %s
          from generate_series(0, %s - 1) as m, generate_series(1, %s) as r""",
                 (experiment, MONTHS, RUNS_PER_MONTH))
    conn.execute("select ensure_series_partition(uuid_v7_time(id)) from runs")
    first = conn.execute("select id from runs order by id limit 1").fetchone()[0]
    models: dict[str, UUID | None] = {"none": None}
    for name in ("kept", "deleted"):
        models[name] = conn.execute("insert into models (run_id, model_type, name) "
                                    "values (%s, 'dqn', %s) returning id", (first, name)).fetchone()[0]
    for name, model in models.items():
        runs = "select id from runs"
        if name == "deleted":  # its rows are in the first run of each month
            runs = ("select distinct on (date_trunc('month', uuid_v7_time(id))) id from runs "
                    "order by date_trunc('month', uuid_v7_time(id)), id")
        params = {"model": model, "n": ROWS[name]}
        conn.execute(sql.SQL("""
            insert into equity_curves (run_id, model_id, ts, portfolio_value)
            select r.id, %(model)s, timestamptz '2020-01-01' + g * interval '1 minute', 100
              from ({}) as r, generate_series(1, %(n)s) as g""").format(sql.SQL(runs)), params)
        conn.execute(sql.SQL("""
            insert into trade_logs (run_id, model_id, seq, ts, asset, action, price, quantity)
            select r.id, %(model)s, g, timestamptz '2020-01-01' + g * interval '1 minute', 'BTC',
                   'buy', 1, 1
              from ({}) as r, generate_series(1, %(n)s) as g""").format(sql.SQL(runs)), params)
        conn.execute(sql.SQL("""
            insert into series_batches (run_id, model_id, kind, batch_key, row_count, checksum)
            select r.id, %(model)s, 'equity', 'batch-' || g, 0, repeat('0', 64)
              from ({}) as r, generate_series(1, 2) as g""").format(sql.SQL(runs)), params)
    conn.execute("analyze equity_curves, trade_logs, series_batches")
    deleted = models["deleted"]
    assert deleted is not None
    return deleted


def test_a_model_delete_reaches_its_series_through_an_index_in_every_partition(
        conn: psycopg.Connection, deleted_model: UUID) -> None:
    # The partitions holding rows (the empty ones ahead are cheaper to scan than to probe).
    holding = [r[0] for r in conn.execute(
        "select relname::text from pg_class where relname ~ '^(equity_curves|trade_logs)_p' "
        "and relkind = 'r' and reltuples > 0")]
    assert len(holding) == 2 * MONTHS
    for table in ("equity_curves", "trade_logs", "series_batches"):
        # What ON DELETE CASCADE looks for, as the planner sees it for this model.
        plan = conn.execute(sql.SQL("explain (format json) select 1 from {} where model_id = %s").format(
            sql.Identifier(table)), (deleted_model,)).fetchone()[0][0]["Plan"]
        scans = {n["Relation Name"]: n for n in nodes(plan)
                 if n.get("Relation Name") in [*holding, "series_batches"]}
        assert scans, plan
        # The model_id index; not a scan of the whole partition, nor a skip scan (PostgreSQL
        # 18) of the series key, one descent per run.
        assert {name: n.get("Index Name") for name, n in scans.items()
                if not n.get("Index Name", "").endswith("model_id_idx")
                and n.get("Index Name") != "series_batches_model_idx"} == {}, plan

    counted = ("select relname::text, seq_scan from pg_stat_xact_user_tables "
               "where relname = any(%s) or relname = 'series_batches'")
    with conn.transaction():
        # pg_stat_xact_* also shows the session's counts not flushed yet (they are, at most
        # once a second): the delete's own scans are the difference across it.
        before = dict(conn.execute(counted, (holding,)).fetchall())
        conn.execute("delete from models where id = %s", (deleted_model,))
        after = dict(conn.execute(counted, (holding,)).fetchall())
    scans = {name: after[name] - before.get(name, 0) for name in after}
    assert len(scans) == 2 * MONTHS + 1
    assert {name: n for name, n in scans.items() if n} == {}
    for table in ("equity_curves", "trade_logs"):
        left = conn.execute(sql.SQL("select count(*) filter (where model_id = %s), count(*) from {}").format(
            sql.Identifier(table)), (deleted_model,)).fetchone()
        assert left == (0, MONTHS * RUNS_PER_MONTH * (ROWS["none"] + ROWS["kept"]))
