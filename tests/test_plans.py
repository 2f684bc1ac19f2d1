"""Query plans on a few hundred thousand runs: every list pages through an index.

The database is loaded once for the module (300,000 runs in 100 experiments, a third of
them children of search runs) and analyzed. auto_explain is preloaded for its sessions
and sends each statement's plan, with the rows it really read, to the client as a notice,
so what is checked is the plan of the exact statement the API sent, with its parameters,
including after psycopg prepares it and PostgreSQL's plan cache may switch to a generic
plan (every case runs three times, past both thresholds).

A page may not scan runs sequentially, nor sort or read more than a tenth of it
(ROWS_READ_LIMIT). Where an index serves the order and the filter (SERVED), a page, the
first or one halfway down, reads no more than a few pages' worth of rows: the keyset
condition is an index condition, not a filter. Other filters walk the order's index and
filter, or sort the filtered rows: a cost set by how selective the filter is, not by how
far down the page is (docs/design.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg import sql

from resultsdb import browse
from resultsdb.api import ResultsDB
from resultsdb.api.base import encode_cursor
from resultsdb.api.experiments import RUN_SORT_KEYS
from resultsdb.config import Settings
from resultsdb.repositories import runs as runs_repo
from tests.conftest import Server, unique_name

pytestmark = pytest.mark.slow

RUNS = 300_000
SEARCHES = 3_000
EXPERIMENTS = 10_000  # only the first 100 hold runs: the experiments list has a table to page too
ROWS_READ_LIMIT = RUNS // 10
PAGE = 100
# (order, filter) pairs an index serves exactly (docs/design.md lists them).
SERVED = {*((order, "none") for order in RUN_SORT_KEYS), ("created_at", "experiment"),
          ("start_time", "experiment"), ("created_at", "parent"), ("start_time", "started")}
T0 = datetime(2025, 3, 1, tzinfo=UTC)

# Runs are made by time t: id uuid_v7(t), created_at t, updated_at a few seconds later.
# 2% are still running (no end_time), every 23rd failed; a tenth carry a tag.
LOAD = [
    """insert into experiments (name) select 'plans-' || g from generate_series(1, %(experiments)s) as g""",
    """with e as (select array_agg(id order by id) as ids
                    from (select id from experiments order by id limit 100) as x)
       insert into runs (id, experiment_id, name, run_type, status, start_time, end_time,
                         created_at, updated_at)
       select uuid_v7(t), e.ids[1 + mod(g, 100)], 'search-' || g, 'search', 'completed',
              t, t + interval '1 hour', t, t + interval '1 hour'
         from e, generate_series(1, %(searches)s) as g,
              lateral (select timestamptz '2025-01-01' + g * interval '1 minute' as t) as x""",
    """with e as (select array_agg(id order by id) as ids
                    from (select id from experiments order by id limit 100) as x),
            p as (select id, row_number() over (order by id) - 1 as n from runs)
       insert into runs (id, experiment_id, parent_run_id, name, run_type, status, start_time,
                         end_time, created_at, updated_at, tags)
       select uuid_v7(t), e.ids[1 + mod(g, 100)], p.id, 'run-' || g,
              (array['training', 'backtest', 'trial'])[1 + mod(g, 3)], s, t,
              case when s <> 'running' then t + interval '5 minutes' end,
              t, t + interval '5 minutes' + mod(g, 7) * interval '1 second',
              case when mod(g, 10) = 0 then '{"stage": "prod"}'::jsonb else '{}'::jsonb end
         from e cross join generate_series(1, %(runs)s - %(searches)s) as g
         left join p on mod(g, 3) = 0 and p.n = mod(g / 3, %(searches)s)
         cross join lateral (select %(t0)s + g * interval '100 ms' as t,
                                    case when mod(g, 50) = 0 then 'running'
                                         when mod(g, 23) = 0 then 'failed' else 'completed' end as s) as x""",
    """insert into models (run_id, model_type, name)
       select id, 'xgboost', 'model-' || n
         from (select id, row_number() over (order by id) as n from runs) as r
        where mod(n, 100) = 0""",
]

AUTO_EXPLAIN = {
    "session_preload_libraries": "auto_explain",
    "auto_explain.log_min_duration": "0",
    "auto_explain.log_analyze": "on",
    "auto_explain.log_timing": "off",
    "auto_explain.log_format": "json",
    "auto_explain.log_level": "notice",
}


def load(conn: psycopg.Connection) -> None:
    """LOAD, with the runs' indexes built after the rows (as sorted builds: a third of the
    time of 300,000 inserts into each) and without triggers (the rows are consistent)."""
    indexes = conn.execute("""
        select c.relname::text, pg_get_indexdef(i.indexrelid)
          from pg_index i join pg_class c on c.oid = i.indexrelid
         where i.indrelid = 'runs'::regclass
           and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)""").fetchall()
    with conn.transaction():
        conn.execute("set local session_replication_role = replica")
        for name, _ in indexes:
            conn.execute(sql.SQL("drop index {}").format(sql.Identifier(name)))
        for statement in LOAD:
            conn.execute(statement, {"experiments": EXPERIMENTS, "searches": SEARCHES,
                                     "runs": RUNS, "t0": T0})
        for _, definition in indexes:
            conn.execute(definition)
    conn.execute("vacuum (analyze) experiments, runs, models")


@pytest.fixture(scope="module")
def plans_url(pg_server: Server, template_db: str) -> Iterator[str]:
    """A database of its own with the runs loaded and auto_explain on for new sessions."""
    name = unique_name("rdb_plans")
    url = pg_server.create_database(name, template=template_db)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            if not conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()[0]:
                pytest.skip("needs a superuser to preload auto_explain")
            load(conn)
            for key, value in AUTO_EXPLAIN.items():
                conn.execute(sql.SQL("alter database {} set {} = {}").format(
                    sql.Identifier(name), sql.Identifier(*key.split(".")), sql.Literal(value)))
        yield url
    finally:
        pg_server.drop_database(name)


@pytest.fixture(scope="module")
def raw(plans_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(plans_url, autocommit=True) as conn:
        conn.execute("set auto_explain.log_min_duration = -1")
        yield conn


class Plans:
    """The plans auto_explain sends for the statements of a one-connection ResultsDB."""

    def __init__(self, rdb: ResultsDB) -> None:
        self.seen: list[dict[str, Any]] = []
        pool = rdb.db.pool
        conn = pool.getconn()
        conn.add_notice_handler(self._notice)
        pool.putconn(conn)

    def _notice(self, diag: psycopg.errors.Diagnostic) -> None:
        text = diag.message_primary or ""
        if "plan:" in text:
            self.seen.append(json.loads(text.split("plan:", 1)[1]))

    def of(self, call: Callable[[], object]) -> list[dict[str, Any]]:
        self.seen = []
        call()
        return self.seen


@pytest.fixture(scope="module")
def api(plans_url: str) -> Iterator[tuple[ResultsDB, Plans]]:
    with ResultsDB(Settings(url=plans_url, pool_min_size=1, pool_max_size=1)) as rdb:  # type: ignore[arg-type]
        yield rdb, Plans(rdb)


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def rows_read(node: dict[str, Any]) -> float:
    """Rows a scan node produced or threw away, over all its loops."""
    kept = node.get("Actual Rows", 0)
    removed = node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Index Recheck", 0)
    return (kept + removed) * node.get("Actual Loops", 1)


def assert_pages_through_an_index(explained: dict[str, Any], case: str, table: str = "runs", *,
                                  limit: float = ROWS_READ_LIMIT) -> None:
    plan = explained["Plan"]
    shown = f"{case}:\n{explained['Query Text']}\n{json.dumps(plan, indent=1)}"
    everything = list(nodes(plan))
    assert not [n for n in everything if n["Node Type"] == "Seq Scan"
                and n.get("Relation Name") == table], f"sequential scan of {table} in {shown}"
    read = sum(rows_read(n) for n in everything if n.get("Relation Name") == table)
    assert read <= limit, f"{read:.0f} rows of {table} read in {shown}"
    for sort in (n for n in everything if n["Node Type"] == "Sort"):
        sorted_rows = sum(rows_read(c) for c in sort.get("Plans", []))
        assert sorted_rows <= ROWS_READ_LIMIT, f"a sort of {sorted_rows:.0f} rows in {shown}"


# -- db.runs(): every allowlisted order, both directions, first and later pages ---------------


@dataclass(frozen=True)
class Filter:
    name: str
    where: str  # the same rows in test SQL, to find a page in the middle
    kwargs: Callable[[psycopg.Connection], dict[str, Any]]
    orders: tuple[str, ...] = RUN_SORT_KEYS


def _experiment(conn: psycopg.Connection) -> UUID:
    return conn.execute("select experiment_id from runs order by id offset 1000 limit 1").fetchone()[0]


def _search(conn: psycopg.Connection) -> UUID:
    return conn.execute("select parent_run_id from runs where parent_run_id is not null "
                        "order by id offset 1000 limit 1").fetchone()[0]


FILTERS = [
    Filter("none", "true", lambda c: {}),
    Filter("experiment", "experiment_id = %(experiment)s", lambda c: {"experiment": _experiment(c)}),
    Filter("parent", "parent_run_id = %(parent)s", lambda c: {"parent": _search(c)}),
    Filter("status", "status = %(status)s", lambda c: {"status": "failed"}),
    Filter("run_type", "run_type = %(run_type)s", lambda c: {"run_type": "backtest"}),
    Filter("tags", "tags @> '{\"stage\": \"prod\"}'", lambda c: {"tags": {"stage": "prod"}}),
    # A time window pages through start_time's index only in start_time order (see
    # docs/design.md: in another order the planner walks that order's index and filters).
    Filter("started", "start_time >= %(started_after)s and start_time < %(started_before)s",
           lambda c: {"started_after": T0 + timedelta(hours=2), "started_before": T0 + timedelta(hours=5)},
           orders=("start_time",)),
]


def middle_cursor(conn: psycopg.Connection, order: str, descending: bool, flt: Filter,
                  kwargs: dict[str, Any]) -> str | None:
    """The cursor of a page halfway down the list (None when it has under two rows)."""
    direction = sql.SQL("desc" if descending else "asc")
    column = sql.Identifier(order)
    where = sql.SQL(flt.where)
    params = {k: str(v) if isinstance(v, UUID) else v for k, v in kwargs.items()}
    count = conn.execute(sql.SQL("select count(*) from runs where {} and {} is not null").format(
        where, column), params).fetchone()[0]
    if count < 2:
        return None
    row = conn.execute(sql.SQL("select {}, id from runs where {} and {} is not null "
                               "order by {} {}, id {} offset %(at)s limit 1").format(
        column, where, column, column, direction, direction), {**params, "at": count // 2}).fetchone()
    return encode_cursor(f"runs:{order}:{'desc' if descending else 'asc'}", row[0], row[1])


@pytest.mark.parametrize("order", RUN_SORT_KEYS)
def test_every_runs_order_pages_through_an_index(
        api: tuple[ResultsDB, Plans], raw: psycopg.Connection, order: str) -> None:
    rdb, plans = api
    cases = []
    for descending in (False, True):
        for flt in (f for f in FILTERS if order in f.orders):
            kwargs = flt.kwargs(raw)
            cursor = middle_cursor(raw, order, descending, flt, kwargs)
            for page, at in (("first", None), ("middle", cursor)):
                case = f"runs(order_by={order}, descending={descending}, filter={flt.name}, {page} page)"
                limit = 3 * PAGE if (order, flt.name) in SERVED else ROWS_READ_LIMIT
                cases.append((case, limit, {"order_by": order, "descending": descending,
                                            "cursor": at, "limit": PAGE, **kwargs}))
    for _ in range(3):  # past psycopg's prepare threshold and the plan cache's five custom plans
        for case, limit, kwargs in cases:
            explained = plans.of(lambda kw=kwargs: rdb.runs(**kw))
            assert explained, case
            for plan in explained:  # status and run_type pages may take two statements
                assert_pages_through_an_index(plan, case, limit=limit)


def test_runs_ordered_by_end_time_that_cannot_have_ended_are_an_empty_page_at_once(
        api: tuple[ResultsDB, Plans]) -> None:
    rdb, plans = api
    for status in ("running", "scheduled"):
        seen = plans.of(lambda s=status: rdb.runs(order_by="end_time", status=s))
        assert [p for p in seen if "from runs" in p["Query Text"]] == []
        page = rdb.runs(order_by="end_time", status=status)
        assert page.items == [] and page.next_cursor is None


# -- the other lists: all ordered by id -------------------------------------------------------


def test_the_id_ordered_lists_page_through_an_index(
        api: tuple[ResultsDB, Plans], raw: psycopg.Connection) -> None:
    rdb, plans = api
    experiment = _experiment(raw)
    middle_run = raw.execute("select id from runs order by id offset %s limit 1", (RUNS // 2,)).fetchone()[0]
    middle_of_experiment = raw.execute(
        "select id from runs where experiment_id = %s order by id offset 1500 limit 1",
        (experiment,)).fetchone()[0]
    middle_model = raw.execute("select id from models order by id offset 1500 limit 1").fetchone()[0]
    middle_experiment = raw.execute("select id from experiments order by id offset %s limit 1",
                                    (EXPERIMENTS // 2,)).fetchone()[0]

    def read(fn: Callable[[Any], object]) -> Callable[[], object]:
        return lambda: rdb.db.read(fn)

    served, walked = 3 * PAGE, ROWS_READ_LIMIT
    cases: list[tuple[str, str, float, Callable[[], object]]] = [
        ("runs_page, first", "runs", served, read(lambda c: runs_repo.list_page(c))),
        ("runs_page, middle", "runs", served, read(lambda c: runs_repo.list_page(c, after=middle_run))),
        ("runs_of_experiment, first", "runs", served,
         read(lambda c: runs_repo.by_experiment(c, experiment))),
        ("runs_of_experiment, middle", "runs", served,
         read(lambda c: runs_repo.by_experiment(c, experiment, after=middle_of_experiment))),
        ("most_recent_runs", "runs", served, read(lambda c: runs_repo.most_recent(c, limit=PAGE))),
        ("model listing, first", "runs", served, lambda: browse.models(rdb)),
        ("model listing, middle", "runs", served,
         lambda: browse.models(rdb, cursor=encode_cursor("models", "", middle_model))),
        # Models of one experiment: the models in id order, each joined to its run.
        ("model listing of an experiment", "runs", walked, lambda: browse.models(rdb, experiment=experiment)),
        ("experiments, first", "experiments", served, lambda: rdb.experiments()),
        ("experiments, middle", "experiments", served,
         lambda: rdb.experiments(cursor=encode_cursor("experiments", "", middle_experiment))),
        ("experiments, active, middle", "experiments", served, lambda: rdb.experiments(
            status="active", cursor=encode_cursor("experiments", "", middle_experiment))),
    ]
    for _ in range(3):
        for case, table, limit, call in cases:
            explained = plans.of(call)
            assert explained, case
            for plan in explained:
                assert_pages_through_an_index(plan, case, table, limit=limit)
