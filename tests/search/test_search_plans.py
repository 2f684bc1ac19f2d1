"""The plans of db.search_runs on 200,000 runs (5 metrics, one configuration each).

auto_explain sends the plan of each statement the API sent, with the rows really read (see
tests/test_plans.py). Ordering by a metric walks run_metrics_key_value_idx from its end and
tests each candidate on its row: no sequential scan and no sort of runs or run_metrics, and
the rows read stay a small multiple of what the filter's selectivity needs - repeated, so
that a cached generic plan would show too (searches are never prepared).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from resultsdb.api import ResultsDB
from resultsdb.config import Settings
from tests.conftest import TEST_QUERIES, Server, unique_name
from tests.test_plans import AUTO_EXPLAIN, Plans, nodes, rows_read

pytestmark = pytest.mark.slow

RUNS = 200_000


@pytest.fixture(scope="module")
def api(pg_server: Server, template_db: str) -> Iterator[tuple[ResultsDB, Plans]]:
    name = unique_name("rdb_splans")
    url = pg_server.create_database(name, template=template_db)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            if not conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()[0]:
                pytest.skip("needs a superuser to preload auto_explain")
            TEST_QUERIES.run(conn, "search_plans_experiments")
            TEST_QUERIES.run(conn, "search_plans_replica")
            TEST_QUERIES.run(conn, "search_plans_runs", n=RUNS)
            TEST_QUERIES.run(conn, "search_plans_metrics")
            TEST_QUERIES.run(conn, "search_plans_configurations")
            TEST_QUERIES.run(conn, "search_plans_analyze")
            for key, value in AUTO_EXPLAIN.items():
                conn.execute(sql.SQL("alter database {} set {} = {}").format(
                    sql.Identifier(name), sql.Identifier(*key.split(".")), sql.Literal(value)))
        with ResultsDB(Settings(url=url, pool_min_size=1, pool_max_size=1)) as rdb:  # type: ignore[arg-type]
            yield rdb, Plans(rdb)
    finally:
        pg_server.drop_database(name)


def _check(explained: dict[str, Any], *, read_limit: float) -> None:
    plan = explained["Plan"]
    everything = list(nodes(plan))
    shown = f"{explained['Query Text']}\n{plan}"
    scans = {n.get("Index Name") for n in everything if "Index" in n["Node Type"]}
    assert "run_metrics_key_value_idx" in scans, shown
    for node in everything:
        assert not (node["Node Type"] == "Seq Scan"
                    and node.get("Relation Name") in ("runs", "run_metrics")), shown
        assert node["Node Type"] != "Sort" or sum(rows_read(c) for c in node.get("Plans", [])) <= 100, shown
    read = sum(rows_read(n) for n in everything if n.get("Relation Name") in ("runs", "run_metrics"))
    assert read <= read_limit, f"{read:.0f} rows read: {shown}"


@pytest.mark.parametrize(("where", "selectivity"), [
    # P(sharpe > 1.5) ~ 0.16, P(max_drawdown < 0.2) = 0.4, P(fast = 10) = 0.1
    ("metrics.sharpe > 1.5 and metrics.max_drawdown < 0.2 and params.fast = 10", 0.4 * 0.1),
    ("metrics.sharpe > 0 and tags.asset = 'btc' and status = 'completed'", 0.25),
    (None, 1.0),
])
def test_ordering_by_a_metric_walks_its_index(api: tuple[ResultsDB, Plans], where: str | None,
                                              selectivity: float) -> None:
    rdb, plans = api
    for _ in range(8):  # past psycopg's prepare threshold and the plan cache's five
        seen = plans.of(lambda: rdb.search_runs(where, order_by="metrics.sharpe desc", limit=20))
        assert len(seen) == 1
        # 20 matches need about 20 / selectivity candidates; each is one run_metrics index
        # entry and one runs row. Five times that, for chance.
        _check(seen[0], read_limit=5 * 2 * 20 / selectivity)


def test_a_later_page_starts_at_the_cursor(api: tuple[ResultsDB, Plans]) -> None:
    rdb, plans = api
    where = "metrics.max_drawdown < 0.2 and params.fast = 10"
    page = rdb.search_runs(where, order_by="metrics.sharpe", limit=20)
    for _ in range(30):  # 30 pages in: the walk starts where the last page stopped
        assert page.next_cursor is not None
        page = rdb.search_runs(where, order_by="metrics.sharpe", limit=20, cursor=page.next_cursor)
    seen = plans.of(lambda: rdb.search_runs(where, order_by="metrics.sharpe", limit=20,
                                            cursor=page.next_cursor))
    _check(seen[0], read_limit=5 * 2 * 20 / 0.04)
