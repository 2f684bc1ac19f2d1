"""Shared benchmark plumbing: a fresh database, timers, results, the report."""

from __future__ import annotations

import os
import platform
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

from resultsdb import migrate
from resultsdb.config import Settings
from resultsdb.db import Database, ensure_database, resolve_conninfo
from resultsdb.registry import Registry, default_registry

ROOT = Path(__file__).resolve().parent.parent
BENCH_QUERIES = Registry.load(Path(__file__).parent / "sql")


@dataclass
class Result:
    group: str
    name: str
    value: float
    unit: str
    baseline: str | None = None
    baseline_value: float | None = None
    higher_is_better: bool = True
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline_value in (None, 0) or self.value == 0:
            return None
        assert self.baseline_value is not None
        return (self.value / self.baseline_value if self.higher_is_better
                else self.baseline_value / self.value)


@dataclass
class Bench:
    """The database a benchmark runs on."""

    conninfo: str
    server: str

    def database(self, **settings: object) -> Database:
        return Database(Settings(url=self.conninfo, **settings))  # type: ignore[arg-type]

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.conninfo, autocommit=True)


@contextmanager
def bench_database() -> Iterator[Bench]:
    """A fresh migrated database: on RESULTSDB_BENCH_URL's server, else the embedded one."""
    url = os.environ.get("RESULTSDB_BENCH_URL")
    admin = url if url else resolve_conninfo(Settings())
    name = f"resultsdb_bench_{uuid.uuid4().hex[:8]}"
    maintenance = make_conninfo(admin, dbname="postgres")
    ensure_database(maintenance, name)
    conninfo = make_conninfo(admin, dbname=name)
    try:
        with Database(url=conninfo) as db:
            migrate.migrate(db)
            with db.connection() as conn:
                version = db.registry.scalar(conn, "server_version_num")
        source = "RESULTSDB_BENCH_URL" if url else "embedded"
        yield Bench(conninfo, f"PostgreSQL {version // 10000}.{version % 10000} ({source})")
    finally:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            default_registry().execute(conn, "drop_database", identifiers={"name": name})


def latencies_ms(fn: Callable[[], object], n: int, warmup: int = 50) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def p50(xs: list[float]) -> float:
    return statistics.median(xs)


def p99(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=100)[98]


def rate(fn: Callable[[], int], seconds: float = 3.0) -> float:
    """Items per second: call fn (which returns how many items it did) for ~seconds."""
    done = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        done += fn()
    return done / elapsed


def write_report(results: list[Result], server: str, path: Path = ROOT / "docs" / "benchmarks.md") -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m benchmarks`). Each figure is measured against a raw",
        "baseline in the same run on the same server; **ratio > 1 means resultsdb is faster**",
        "(for latencies: baseline / ours; for rates: ours / baseline).",
        "",
        f"- run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- server: {server}",
        f"- machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}",
        "",
    ]
    groups: dict[str, list[Result]] = {}
    for r in results:
        groups.setdefault(r.group, []).append(r)
    for group, rows in groups.items():
        lines += [f"## {group}", "", "| measure | value | baseline | baseline value | ratio | note |",
                  "|---|---:|---|---:|---:|---|"]
        for r in rows:
            ratio = f"{r.ratio:.2f}x" if r.ratio is not None else ""
            base = f"{r.baseline_value:,.3f} {r.unit}" if r.baseline_value is not None else ""
            lines.append(f"| {r.name} | {r.value:,.3f} {r.unit} | {r.baseline or ''} | {base} "
                         f"| {ratio} | {r.note} |")
        lines.append("")
    text = "\n".join(lines)
    path.write_text(text, encoding="utf-8")
    return text
