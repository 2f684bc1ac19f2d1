"""Shared benchmark plumbing: a fresh database, timers, results, the report."""

from __future__ import annotations

import importlib.util
import os
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from resultsdb import migrate
from resultsdb.config import Settings
from resultsdb.connection import Connection
from resultsdb.db import Database, ensure_database, resolve_conninfo
from resultsdb.registry import Registry

ROOT = Path(__file__).resolve().parent.parent
# The benchmarks' own statements, and the tests' (databases created and dropped per run).
BENCH_QUERIES = Registry.load(Path(__file__).parent / "sql",
                              Path(__file__).parent.parent / "tests" / "sql")
INSTALL_HINT = "pip install -e '.[bench]'"


@dataclass
class Result:
    group: str
    name: str
    value: float | None  # None: not measured (the note says why)
    unit: str
    baseline: str | None = None
    baseline_value: float | None = None
    higher_is_better: bool = True
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline_value in (None, 0) or self.value in (None, 0):
            return None
        assert self.baseline_value is not None and self.value is not None
        return (self.value / self.baseline_value if self.higher_is_better
                else self.baseline_value / self.value)


@dataclass
class Bench:
    """The database a benchmark runs on."""

    conninfo: str
    server: str

    def database(self, **settings: object) -> Database:
        return Database(Settings(url=self.conninfo, **settings))  # type: ignore[arg-type]

    def connect(self) -> Connection:
        return Connection.connect(self.conninfo, autocommit=True)


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
                version = BENCH_QUERIES.run(conn, "server_version_num")
        source = "RESULTSDB_BENCH_URL" if url else "embedded"
        yield Bench(conninfo, f"PostgreSQL {version // 10000}.{version % 10000} ({source})")
    finally:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            BENCH_QUERIES.run(conn, "drop_database", identifiers={"name": name})


def missing_packages(*packages: str) -> list[str]:
    """Those of ``packages`` that cannot be imported."""
    return [p for p in packages if importlib.util.find_spec(p) is None]


# -- other tools' stores on the bench server (Optuna, MLflow, SQLAlchemy) --------------------


def sqlalchemy_url(conninfo: str) -> str:
    """The SQLAlchemy URL (psycopg 3 driver) of a libpq connection string; a unix-socket
    host (the embedded server's) goes in the query, as SQLAlchemy expects it."""
    from sqlalchemy.engine import URL

    params = {k: str(v) for k, v in conninfo_to_dict(conninfo).items() if v is not None}
    host = params.get("host") or None
    port = params.get("port") or None
    query: dict[str, str] = {}
    if host and host.startswith("/"):
        query["host"] = host
        if port:
            query["port"] = port
        host, port = None, None
    url = URL.create(
        "postgresql+psycopg", username=params.get("user"), password=params.get("password"),
        host=host, port=int(port) if port else None, database=params.get("dbname"), query=query)
    return url.render_as_string(hide_password=False)


@contextmanager
def side_database(bench: Bench, suffix: str) -> Iterator[str]:
    """A database of its own on the bench server (for another tool's tables), dropped after."""
    name = f"{conninfo_to_dict(bench.conninfo)['dbname']}_{suffix}"
    maintenance = make_conninfo(bench.conninfo, dbname="postgres")
    ensure_database(maintenance, name)
    try:
        yield make_conninfo(bench.conninfo, dbname=name)
    finally:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            BENCH_QUERIES.run(conn, "drop_database", identifiers={"name": name})


@contextmanager
def mlflow_store(bench: Bench, suffix: str = "mlflow") -> Iterator[tuple[Any, str, str]]:
    """An MLflow SQL tracking store in a database of its own on the bench server:
    (MlflowClient, the id of a fresh experiment, the store database's conninfo)."""
    # MLflow 3 reports usage over the network unless told not to; this machine has none.
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "true")
    from mlflow.tracking import MlflowClient

    with side_database(bench, suffix) as conninfo, tempfile.TemporaryDirectory() as artifacts:
        client = MlflowClient(tracking_uri=sqlalchemy_url(conninfo))  # runs MLflow's migrations
        experiment_id = client.create_experiment("bench", artifact_location=Path(artifacts).as_uri())
        try:
            yield client, experiment_id, conninfo
        finally:
            engine = getattr(client._tracking_client.store, "engine", None)
            if engine is not None:
                engine.dispose()  # before the database is dropped


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
    """Write the report: this run's groups replace their sections, other sections stay.

    ``python -m benchmarks bench_artifacts`` then refreshes one part; each section says
    when and where it was measured.
    """
    header = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m benchmarks [module ...]`). Each figure is measured",
        "against a raw baseline in the same run on the same server; **ratio > 1 means resultsdb",
        "is faster** (for latencies: baseline / ours; for rates: ours / baseline). A partial run",
        "replaces only its own sections.",
        "",
        f"- machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}",
        "",
    ]
    stamp = f"_measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {server}_"
    sections: dict[str, list[str]] = _sections(path.read_text(encoding="utf-8")) if path.exists() else {}
    groups: dict[str, list[Result]] = {}
    for r in results:
        groups.setdefault(r.group, []).append(r)
    for group, rows in groups.items():
        lines = [f"## {group}", "", stamp, "",
                 "| measure | value | baseline | baseline value | ratio | note |",
                 "|---|---:|---|---:|---:|---|"]
        for r in rows:
            ratio = f"{r.ratio:.2f}x" if r.ratio is not None else ""
            base = f"{r.baseline_value:,.3f} {r.unit}" if r.baseline_value is not None else ""
            value = f"{r.value:,.3f} {r.unit}" if r.value is not None else ""
            lines.append(f"| {r.name} | {value} | {r.baseline or ''} | {base} "
                         f"| {ratio} | {r.note} |")
        lines.append("")
        sections[group] = lines
    text = "\n".join(header + [line for lines in sections.values() for line in lines])
    path.write_text(text, encoding="utf-8")
    return text


def _sections(text: str) -> dict[str, list[str]]:
    """The ``## group`` sections of an earlier report, in order."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = sections.setdefault(line[3:].strip(), [])
        if current is not None:
            current.append(line)
    return sections
