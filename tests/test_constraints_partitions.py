"""The series tables are RANGE-partitioned by run id: one month of run creation each.

A run's points and trades land in the partition of the month its id was made in; a
run id from a month with no partition lands in the DEFAULT partition until
``ensure_series_partition()`` creates the month and moves the rows; a one-run read is
pruned to one partition; and errors raised inside a partition name the partitioned
table, not the partition.
"""

from __future__ import annotations

import json

import pytest
from _constraint_rows import (
    add_point,
    add_trade,
    assert_names,
    count,
    insert,
    make_experiment,
    make_run,
    refused,
    scalar,
)

from resultsdb.errors import AlreadyExists, ConstraintViolation, InvalidInput

SERIES = ("equity_curves", "trade_logs")


def run_made_at(conn, when: str):
    """A run whose id was made at ``when`` (a timestamptz literal)."""
    run_id = scalar(conn, "select uuid_v7(%s::timestamptz)", [when])
    return insert(conn, "runs", {"id": run_id, "experiment_id": make_experiment(conn)})["id"]


def partitions_of(conn, table: str, run_id) -> set[str]:
    query = f"select distinct tableoid::regclass::text from {table} where run_id = %s"
    return {r[0] for r in conn.execute(query, [run_id])}


def test_a_runs_series_lands_in_the_partition_of_its_creation_month(conn) -> None:
    run = make_run(conn)
    month = scalar(conn, "select to_char(uuid_v7_time(%s) at time zone 'UTC', 'YYYYMM')", [run])
    for seq in range(3):
        add_point(conn, run, ts=f"201{seq}-01-01")  # market time plays no part in placement
        add_trade(conn, run, seq=seq, ts=f"201{seq}-06-01")
    assert partitions_of(conn, "equity_curves", run) == {f"equity_curves_p{month}"}
    assert partitions_of(conn, "trade_logs", run) == {f"trade_logs_p{month}"}


def test_partition_bounds_are_the_first_millisecond_of_each_month(db, conn) -> None:
    with db.transaction() as c:
        c.execute("select ensure_series_partition('2020-03-15+00')")
        c.execute("select ensure_series_partition('2020-04-15+00')")
    last_of_march = run_made_at(conn, "2020-03-31 23:59:59.999+00")
    first_of_april = run_made_at(conn, "2020-04-01 00:00:00+00")
    add_point(conn, last_of_march)
    add_point(conn, first_of_april)
    assert partitions_of(conn, "equity_curves", last_of_march) == {"equity_curves_p202003"}
    assert partitions_of(conn, "equity_curves", first_of_april) == {"equity_curves_p202004"}


def test_a_month_without_partition_uses_default_until_ensure_series_partition(db, conn) -> None:
    run = run_made_at(conn, "2019-07-20 10:00:00+00")
    other = run_made_at(conn, "2019-08-01 00:00:00+00")  # the month after: stays in default
    for r in (run, other):
        add_point(conn, r)
        add_trade(conn, r)
    assert partitions_of(conn, "equity_curves", run) == {"equity_curves_default"}
    assert partitions_of(conn, "trade_logs", run) == {"trade_logs_default"}
    with db.transaction() as c:
        created = [r[0] for r in c.execute("select ensure_series_partition('2019-07-31+00')")]
    assert created == ["equity_curves_p201907", "trade_logs_p201907"]
    assert partitions_of(conn, "equity_curves", run) == {"equity_curves_p201907"}
    assert partitions_of(conn, "trade_logs", run) == {"trade_logs_p201907"}
    assert partitions_of(conn, "equity_curves", other) == {"equity_curves_default"}
    assert count(conn, "equity_curves") == count(conn, "trade_logs") == 2
    with db.transaction() as c:  # idempotent
        assert c.execute("select ensure_series_partition('2019-07-01+00')").fetchall() == []


def plan_relations(conn, query: str, params=None) -> tuple[set[str], int]:
    """Relations a plan scans, and how many subplans it prunes at executor start."""
    plan = conn.execute("explain (format json) " + query, params).fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    relations: set[str] = set()
    removed = 0

    def walk(node: dict) -> None:
        nonlocal removed
        if "Relation Name" in node:
            relations.add(node["Relation Name"])
        removed += node.get("Subplans Removed", 0)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return relations, removed


@pytest.mark.parametrize("table", SERIES)
def test_a_one_run_read_touches_one_partition(conn, table) -> None:
    run = make_run(conn)
    month = scalar(conn, "select to_char(uuid_v7_time(%s) at time zone 'UTC', 'YYYYMM')", [run])
    partitions = count(conn, "pg_inherits", "inhparent = %s::regclass", [table])
    assert partitions >= 5  # this month, three ahead, and the default
    literal = f"select * from {table} where run_id = '{run}'"
    assert plan_relations(conn, literal) == ({f"{table}_p{month}"}, 0)
    # a prepared statement's generic plan prunes when it starts
    conn.execute("set plan_cache_mode = force_generic_plan")
    conn.execute(f"prepare one_run(uuid) as select * from {table} where run_id = $1")
    relations, removed = plan_relations(conn, f"execute one_run('{run}')")
    assert relations == {f"{table}_p{month}"}
    assert removed == partitions - 1


@pytest.mark.parametrize("month", ["current", "default", "created-later"])
def test_errors_in_a_partition_name_the_partitioned_table(db, conn, month) -> None:
    if month == "current":
        run = make_run(conn)
    else:
        run = run_made_at(conn, "2018-05-05+00")
    add_point(conn, run, ts="2020-01-01")
    add_trade(conn, run, seq=0)
    # read the constraint catalog now, so a partition made later is news to it
    refused(db, ConstraintViolation, "insert into experiments (name) values ('')")
    if month == "created-later":
        with db.transaction() as c:
            c.execute("select ensure_series_partition('2018-05-05+00')")
    expected = "equity_curves_default" if month == "default" else None
    if expected:
        assert partitions_of(conn, "equity_curves", run) == {expected}
    before = count(conn, "equity_curves"), count(conn, "trade_logs")

    err = refused(db, AlreadyExists, "insert into equity_curves (run_id, ts, portfolio_value) "
                  "values (%s, '2020-01-01', 2)", [run])
    assert_names(err, "equity_curves", columns=("run_id", "model_id", "ts"))
    assert "a timestamp appears once in a series" in str(err)
    err = refused(db, AlreadyExists, "insert into trade_logs (run_id, seq, ts, asset, action, "
                  "price, quantity) values (%s, 0, now(), 'ETH', 'sell', 1, 1)", [run])
    assert_names(err, "trade_logs", columns=("run_id", "model_id", "seq"))
    err = refused(db, ConstraintViolation, "insert into equity_curves (run_id, ts, "
                  "portfolio_value) values (%s, '2021-01-01', null)", [run])
    assert_names(err, "equity_curves", "portfolio_value")
    err = refused(db, ConstraintViolation, "insert into trade_logs (run_id, seq, ts, asset, "
                  "action, price, quantity) values (%s, 1, now(), 'ETH', 'sell', 'NaN', 1)", [run])
    assert_names(err, "trade_logs", "price", constraint="trade_logs_price_positive", conn=conn)
    err = refused(db, ConstraintViolation, "update equity_curves set drawdown = -1 "
                  "where run_id = %s", [run])
    assert_names(err, "equity_curves", "drawdown", constraint="equity_curves_drawdown_range",
                 conn=conn)
    assert (count(conn, "equity_curves"), count(conn, "trade_logs")) == before


def test_a_new_partition_keeps_every_rule_of_its_table(db, conn) -> None:
    """Partitions made by ensure_series_partition() carry the parent's checks and keys."""
    with db.transaction() as c:
        c.execute("select ensure_series_partition('2017-02-02+00')")
    for table in SERIES:
        parent = {r[0] for r in conn.execute(
            "select conname from pg_constraint where conrelid = %s::regclass and contype = 'c'",
            [table])}
        child = {r[0] for r in conn.execute(
            "select conname from pg_constraint where conrelid = %s::regclass and contype = 'c'",
            [f"{table}_p201702"])}
        assert parent and parent == child
        keys = scalar(conn, "select count(*) from pg_constraint where contype in ('u', 'f') "
                            "and conrelid = %s::regclass and conparentid <> 0",
                      [f"{table}_p201702"])
        assert keys == 3  # the unique key and both foreign keys, attached to the parent's


# -- maintain_series_partitions: the owner's partition maintenance, for writer roles -------------
def series_partitions(conn) -> set[str]:
    return {r[0] for r in conn.execute("""
        select inhrelid::regclass::text from pg_inherits
         where inhparent in ('equity_curves'::regclass, 'trade_logs'::regclass)""")}


def months_around_now(conn, behind: int, ahead: int) -> set[str]:
    months = {r[0] for r in conn.execute("""
        select to_char(date_trunc('month', now() + make_interval(months => m), 'UTC')
                       at time zone 'UTC', 'YYYYMM')
          from generate_series(-%s::int, %s::int) as m""", [behind, ahead])}
    return {f"{t}_p{m}" for t in SERIES for m in months}


def test_maintain_series_partitions_creates_the_months_either_side(db, conn) -> None:
    before = series_partitions(conn)
    assert months_around_now(conn, 0, 3) <= before  # made by the schema
    with db.transaction() as c:
        created = [r[0] for r in c.execute("select maintain_series_partitions(5, 2)")]
    assert created and len(created) == len(set(created))
    assert set(created) == months_around_now(conn, 2, 5) - before
    assert series_partitions(conn) == before | set(created)
    with db.transaction() as c:  # idempotent
        assert c.execute("select maintain_series_partitions(5, 2)").fetchall() == []
    with db.transaction() as c:  # the defaults: three ahead, none behind, all there
        assert c.execute("select maintain_series_partitions()").fetchall() == []


@pytest.mark.parametrize(("ahead", "behind"), [(25, 0), (0, 25), (-1, 0), (0, -1), (None, 0),
                                               (0, None)])
def test_maintain_series_partitions_refuses_a_bad_range(db, conn, ahead, behind) -> None:
    before = series_partitions(conn)
    err = refused(db, InvalidInput, "select maintain_series_partitions(%s::int, %s::int)",
                  [ahead, behind])
    assert "months_ahead and months_behind must be 0 to 24" in str(err)
    assert series_partitions(conn) == before


def test_maintain_series_partitions_runs_as_owner_with_a_pinned_search_path(conn) -> None:
    row = conn.execute("""
        select p.prosecdef, p.proconfig, current_schema(),
               exists (select 1 from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner)))
                        where grantee = 0 and privilege_type = 'EXECUTE')
          from pg_proc p where p.oid = 'maintain_series_partitions(integer, integer)'::regprocedure
    """).fetchone()
    secdef, config, schema, public_may_execute = row
    assert secdef is True
    settings = dict(item.split("=", 1) for item in config)
    assert settings["search_path"] in (f"{schema}, pg_temp", f'"{schema}", pg_temp')
    # Run from cron as the owner, it gives up on a lock rather than queue everyone (0010).
    assert settings["lock_timeout"] == "3s"
    assert public_may_execute is False
