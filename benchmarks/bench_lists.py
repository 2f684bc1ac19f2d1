"""List pages: ``db.runs()`` over a million runs, every allowlisted order, against raw SQL.

A database of its own on the bench server gets LIST_RUNS runs in 100 experiments (one
INSERT ... SELECT over generate_series, then VACUUM ANALYZE). For each order of
``RUN_SORT_KEYS``, ascending and descending, and for an experiment's runs in the default
order, PAGES keyset pages of 100 are read after random rows through the public API
(cursors included, records built) and, in the same run, the same page as a hand-written
client sends it: one prepared statement ``where (col, id) > (value, id) order by col, id
limit 100``, tuple rows. Figures are p50 and p95; the target is a p50 of at most 1 ms.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg

from benchmarks._harness import BENCH_QUERIES, Bench, Result, latencies_ms, p50, side_database
from resultsdb import migrate
from resultsdb.api import ResultsDB
from resultsdb.api.base import encode_cursor
from resultsdb.api.experiments import RUN_SORT_KEYS
from resultsdb.db import Database

LIST_RUNS = int(os.environ.get("RESULTSDB_BENCH_LIST_RUNS", "1000000"))
PAGES = int(os.environ.get("RESULTSDB_BENCH_LIST_PAGES", "1000"))
EXPERIMENTS = 100
PAGE = 100
TARGET_MS = 1.0
T0 = datetime(2025, 3, 1, tzinfo=UTC)
GROUP = (f"List pages: db.runs() over {LIST_RUNS:,} runs in {EXPERIMENTS} experiments "
         f"(p50 / p95 of {PAGES:,} keyset pages of {PAGE} after random rows, records included)")


def p95(xs: list[float]) -> float:
    return sorted(xs)[int(len(xs) * 0.95)]


def run(bench: Bench) -> list[Result]:
    with side_database(bench, "lists") as conninfo:
        with Database(url=conninfo) as db:
            migrate.migrate(db)
        with psycopg.connect(conninfo, autocommit=True) as raw, ResultsDB(url=conninfo) as rdb:
            _load(raw)
            experiment = BENCH_QUERIES.run(raw, "bench_list_experiment")
            results: list[Result] = []
            for order in RUN_SORT_KEYS:
                for descending in (False, True):
                    results += _pages(rdb, raw, order, descending)
            results += _pages(rdb, raw, "created_at", False, experiment=experiment)
            results.append(_ids_only(raw, results[0]))
            return results


def _load(raw: psycopg.Connection[Any]) -> None:
    started = time.perf_counter()
    BENCH_QUERIES.run(raw, "bench_list_experiments", n=EXPERIMENTS)
    BENCH_QUERIES.run(raw, "bench_list_runs", n=LIST_RUNS, t0=T0)
    BENCH_QUERIES.run(raw, "bench_list_analyze")
    print(f"   {LIST_RUNS:,} runs generated and analyzed in {time.perf_counter() - started:.1f}s",
          flush=True)


def _pages(rdb: ResultsDB, raw: psycopg.Connection[Any], order: str, descending: bool, *,
           experiment: UUID | None = None) -> list[Result]:
    query = BENCH_QUERIES["bench_list_cursors"]
    starts = raw.execute(query.compose({"order_by": order}, literals={"n": PAGES}),
                         {"experiment_id": experiment}).fetchall()
    kind = f"runs:{order}:{'desc' if descending else 'asc'}"
    cursors = itertools.cycle([encode_cursor(kind, value, row_id) for value, row_id in starts])
    keys = itertools.cycle(starts)

    def ours() -> object:
        return rdb.runs(experiment, order_by=order, descending=descending, limit=PAGE,
                        cursor=next(cursors))

    if experiment is not None:
        name = "bench_runs_of_experiment_page"
        text = BENCH_QUERIES[name].compose({}, literals={"limit": PAGE})
    else:
        name = "bench_runs_page_desc" if descending else "bench_runs_page_asc"
        text = BENCH_QUERIES[name].compose({"order_by": order}, literals={"limit": PAGE})

    def theirs() -> object:
        value, row_id = next(keys)
        params: dict[str, Any] = {"after_value": value, "after_id": row_id}
        if experiment is not None:
            params["experiment_id"] = experiment
        return raw.execute(text, params, prepare=True).fetchall()

    return _rows(f"{order}{' desc' if descending else ''}"
                 + (", one experiment" if experiment is not None else ""), ours, theirs)


def _rows(name: str, ours: Callable[[], object], theirs: Callable[[], object]) -> list[Result]:
    api_ms = latencies_ms(ours, PAGES, warmup=100)
    raw_ms = latencies_ms(theirs, PAGES, warmup=100)
    met = "met" if p50(api_ms) <= TARGET_MS else "MISSED"
    print(f"   {name}: api p50 {p50(api_ms):.3f} ms p95 {p95(api_ms):.3f} ms, raw p50 "
          f"{p50(raw_ms):.3f} ms ({p50(raw_ms) / p50(api_ms):.2f}x)", flush=True)
    return [
        Result(GROUP, f"runs(order_by={name}) p50", p50(api_ms), "ms", "raw keyset page p50",
               p50(raw_ms), higher_is_better=False, note=f"target p50 <= {TARGET_MS:g} ms: {met}"),
        Result(GROUP, f"runs(order_by={name}) p95", p95(api_ms), "ms", "raw keyset page p95",
               p95(raw_ms), higher_is_better=False),
    ]


def _ids_only(raw: psycopg.Connection[Any], whole: Result) -> Result:
    """The created_at page with only its ids, raw: the index's and the server's part."""
    query = BENCH_QUERIES["bench_list_cursors"]
    starts = itertools.cycle(raw.execute(query.compose({"order_by": "created_at"}, literals={"n": PAGES}),
                                         {"experiment_id": None}).fetchall())
    text = BENCH_QUERIES["bench_runs_ids_page"].compose({}, literals={"limit": PAGE})

    def ids() -> object:
        value, row_id = next(starts)
        return raw.execute(text, {"after_value": value, "after_id": row_id}, prepare=True).fetchall()

    ms = latencies_ms(ids, PAGES, warmup=100)
    print(f"   created_at, ids only: raw p50 {p50(ms):.3f} ms", flush=True)
    return Result(GROUP, "raw keyset page, ids only (created_at) p50", p50(ms), "ms",
                  "raw keyset page, every column (created_at) p50", whole.baseline_value,
                  higher_is_better=False,
                  note="the index's part; the rest of a page is sending and decoding its rows")
