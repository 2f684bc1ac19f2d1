"""Series at COPY speed: resultsdb.series against psql and hand-written psycopg, same server.

Ingest (rows/s, the target is >= 1.5x ``psql \\copy`` of the same rows from CSV):
``write_equity`` from a pandas DataFrame; ``psql \\copy`` from a CSV file written
beforehand; psycopg binary COPY with ``set_types`` + ``write_row`` of rows built
beforehand; psycopg ``executemany`` (on a tenth of the rows: it is a rate); and
``write_equity`` made to keep PostgreSQL's per-row foreign-key checks, as it does for
a role that may not set session_replication_role. In the same table, against ``psql
\\copy`` measured in the same run: ``write_trades`` of ``TRADE_ROWS`` trades from a
DataFrame against ``psql \\copy`` of the same trades from CSV; the SQLAlchemy ORM
(``session.add_all`` of ``ORM_ROWS`` mapped equity_curves objects + commit) and MLflow's
``log_batch`` (``MLFLOW_ROWS`` rows of 3 metrics, in calls of 1,000 metrics, on a SQL
tracking store in its own database on the same server), each on fewer rows as they are
slow, and each skipped with a note when its package is missing. Every measurement loads
empty tables after a CHECKPOINT, so none pays for another's dirty pages; the best of
``REPEAT`` is kept.

Read (rows/s, target >= 1.0x ``psql \\copy (query) TO`` a CSV file): one run's curve
of ``ROWS`` points with 10 such runs stored, into a DataFrame (``read_equity``) and an
Arrow table, against psql and ``pandas.read_sql`` of the same query.

Stored size (seconds, target: reading at ``STORED`` rows stored <= 1.3x at ``ROWS``):
the same run read with only its own rows stored, then after bulk rows of other runs
are generated in SQL (``generate_series``).
"""

from __future__ import annotations

import contextlib
import cProfile
import io
import os
import pstats
import subprocess
import tempfile
import time
import tracemalloc
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv

from benchmarks._harness import (
    BENCH_QUERIES,
    INSTALL_HINT,
    Bench,
    Result,
    missing_packages,
    mlflow_store,
    sqlalchemy_url,
)
from resultsdb import embedded, series
from resultsdb.connection import Connection
from resultsdb.db import Database
from resultsdb.repositories import series as series_repo
from resultsdb.series import ingest

ROWS = int(os.environ.get("RESULTSDB_BENCH_SERIES_ROWS", "1000000"))
BIG_ROWS = int(os.environ.get("RESULTSDB_BENCH_SERIES_BIG_ROWS", "10000000"))  # 0: skip
STORED = int(os.environ.get("RESULTSDB_BENCH_SERIES_STORED", "100000000"))
REPEAT = int(os.environ.get("RESULTSDB_BENCH_SERIES_REPEAT", "3"))
# Other writers in the ingest table (0: skip). The ORM and MLflow are slow: fewer rows.
TRADE_ROWS = int(os.environ.get("RESULTSDB_BENCH_SERIES_TRADE_ROWS", "1000000"))
ORM_ROWS = int(os.environ.get("RESULTSDB_BENCH_SERIES_ORM_ROWS", "50000"))
MLFLOW_ROWS = int(os.environ.get("RESULTSDB_BENCH_SERIES_MLFLOW_ROWS", "20000"))
MLFLOW_BATCH = 1000  # log_batch takes at most 1,000 metrics a call
MLFLOW_METRICS = ("portfolio_value", "drawdown", "returns")
ASSETS = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "AAPL", "MSFT", "NVDA", "ES=F", "EURUSD")
ACTIONS = ("buy", "sell", "short", "cover")
FILL_RUN_ROWS = 5_000_000  # bulk rows per generated run
T0 = datetime(2015, 1, 1, tzinfo=UTC)

Q = BENCH_QUERIES
INGEST_TARGET, READ_TARGET, STORED_TARGET = 1.5, 1.0, 1.3
MLFLOW_TARGET = 150.0  # write_equity rows/s against MLflow log_batch rows/s (issue 5)


def psql() -> str:
    return str(embedded.bin_dir() / "psql")


def frame_of(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(42)
    value = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 1e-4, n)))
    peak = np.maximum.accumulate(value)
    return pd.DataFrame({"ts": pd.date_range(T0, periods=n, freq="min", tz="UTC"),
                         "portfolio_value": value,
                         "benchmark_value": 100.0 * np.exp(np.cumsum(rng.normal(0.0, 1e-4, n))),
                         "drawdown": (peak - value) / peak})


def trades_of(n: int) -> pd.DataFrame:
    """n trades of a backtest, in time order, without seq (write_trades numbers them)."""
    rng = np.random.default_rng(7)
    return pd.DataFrame({"ts": pd.date_range(T0, periods=n, freq="s", tz="UTC"),
                         "asset": np.array(ASSETS)[rng.integers(0, len(ASSETS), n)],
                         "action": np.array(ACTIONS)[rng.integers(0, len(ACTIONS), n)],
                         "price": 100.0 * np.exp(rng.normal(0.0, 0.5, n)),
                         "quantity": rng.uniform(0.01, 10.0, n),
                         "pnl": rng.normal(0.0, 5.0, n)})


class Ingest:
    """One DataFrame loaded into a fresh run by each method, into an empty table each time."""

    def __init__(self, bench: Bench, db: Database, conn: Connection, experiment: Any,
                 frame: pd.DataFrame, folder: Path, trades: pd.DataFrame | None = None) -> None:
        self.bench, self.db, self.conn, self.experiment = bench, db, conn, experiment
        self.frame, self.folder, self.trades = frame, folder, trades
        self.n = len(frame)

    def checkpoint(self) -> None:
        """The previous load's dirty pages are not the next one's to write. Sent as it is,
        not through the registry, which would log every (expectedly slow) checkpoint."""
        self.conn.execute(Q["series_bench_checkpoint"].psycopg_text)

    def fresh_run(self) -> uuid.UUID:
        Q.run(self.conn, "series_bench_truncate")
        self.checkpoint()
        run_id: uuid.UUID = Q.run(self.conn, "series_bench_run", experiment_id=self.experiment)
        return run_id

    def timed(self, prepare: Callable[[uuid.UUID], Any], load: Callable[[uuid.UUID, Any], Any]) -> float:
        run_id = self.fresh_run()
        prepared = prepare(run_id)
        started = time.perf_counter()
        load(run_id, prepared)
        return time.perf_counter() - started

    def api(self) -> float:
        return self.timed(lambda r: None, lambda r, _: series.write_equity(self.db, r, None, self.frame))

    def api_per_row_checks(self) -> float:
        ingest._FOREIGN_KEY_BYPASS[self.db] = False
        try:
            return self.api()
        finally:
            ingest._FOREIGN_KEY_BYPASS.pop(self.db, None)

    def csv(self, run_id: uuid.UUID) -> Path:
        table = pa.table({
            "run_id": pa.array([str(run_id)] * self.n),
            "model_id": pa.nulls(self.n, pa.string()),
            "ts": pa.array(self.frame.ts),
            **{c: pa.array(self.frame[c].to_numpy()) for c in ("portfolio_value", "benchmark_value",
                                                             "drawdown")},
        })
        path = self.folder / "equity.csv"
        # Shortest round-trip float text, so psql loads exactly the same values.
        pacsv.write_csv(table, path, pacsv.WriteOptions(include_header=False))
        return path

    def psql_copy(self) -> float:
        return self.psql_load("psql_copy_equity_in", self.csv)

    def psql_load(self, query: str, csv: Callable[[uuid.UUID], Path]) -> float:
        """psql running the \\copy script ``query`` with the CSV file as its standard input."""
        script = self.folder / f"{query}.psql"
        script.write_text(Q[query].text + "\n")

        def load(run_id: uuid.UUID, path: Path) -> None:
            with path.open("rb") as rows:
                subprocess.run([psql(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(script),
                                self.bench.conninfo], stdin=rows, check=True, capture_output=True)

        return self.timed(csv, load)

    def api_trades(self) -> float:
        trades = self.trades
        assert trades is not None
        return self.timed(lambda r: None, lambda r, _: series.write_trades(self.db, r, None, trades))

    def trades_csv(self, run_id: uuid.UUID) -> Path:
        """The trades as write_trades stores them (seq from 0, no metadata), as CSV."""
        trades = self.trades
        assert trades is not None
        n = len(trades)
        table = pa.table({
            "run_id": pa.array([str(run_id)] * n),
            "model_id": pa.nulls(n, pa.string()),
            "seq": pa.array(np.arange(n, dtype=np.int64)),
            "ts": pa.array(trades.ts),
            **{c: pa.array(trades[c].to_numpy()) for c in ("asset", "action", "price", "quantity",
                                                          "pnl")},
        })
        path = self.folder / "trades.csv"
        pacsv.write_csv(table, path, pacsv.WriteOptions(include_header=False))
        return path

    def psql_copy_trades(self) -> float:
        return self.psql_load("psql_copy_trades_in", self.trades_csv)

    def rows(self, run_id: uuid.UUID, n: int) -> list[tuple[Any, ...]]:
        f = self.frame.iloc[:n]
        return list(zip([run_id] * n, [None] * n, f.ts.dt.to_pydatetime(), f.portfolio_value.tolist(),
                        f.benchmark_value.tolist(), f.drawdown.tolist(), strict=True))

    def write_row(self) -> float:
        def load(run_id: uuid.UUID, rows: list[tuple[Any, ...]]) -> None:
            with self.conn.transaction(), series_repo.copy_in(self.conn, "equity") as copy:
                copy.set_types(["uuid", "uuid", "timestamptz", "float8", "float8", "float8"])
                for row in rows:
                    copy.write_row(row)

        return self.timed(lambda r: self.rows(r, self.n), load)

    def executemany(self, n: int) -> float:
        text = Q["series_bench_insert_point"].psycopg_text

        def load(run_id: uuid.UUID, rows: list[tuple[Any, ...]]) -> None:
            names = ("run_id", "model_id", "ts", "portfolio_value", "benchmark_value", "drawdown")
            params = [dict(zip(names, row, strict=True)) for row in rows]
            with self.conn.transaction(), self.conn.cursor() as cur:
                cur.executemany(text, params)

        return self.timed(lambda r: self.rows(r, n), load) * self.n / n


def best_rate(n: int, measure: Callable[[], float], repeat: int) -> float:
    return max(n / measure() for _ in range(repeat))


def _equity_mapping() -> type[Any]:
    """A minimal SQLAlchemy mapped class of equity_curves (SQLAlchemy is a bench extra only).

    The table has no primary key; the mapper's is (run_id, ts), unique here as every point
    is of one run and no model. model_id is left unset, so it is not sent (NULL)."""
    from sqlalchemy import DateTime, Double, Uuid
    from sqlalchemy.orm import DeclarativeBase, mapped_column

    class Base(DeclarativeBase):
        pass

    # Columns without Mapped[] annotations: SQLAlchemy cannot resolve those of a class
    # declared in a function of a module with postponed annotations.
    class EquityPoint(Base):
        __tablename__ = "equity_curves"
        run_id = mapped_column(Uuid, primary_key=True)
        model_id = mapped_column(Uuid, nullable=True)
        ts = mapped_column(DateTime(timezone=True), primary_key=True)
        portfolio_value = mapped_column(Double, nullable=False)
        benchmark_value = mapped_column(Double, nullable=True)
        drawdown = mapped_column(Double, nullable=True)

    return EquityPoint


class OrmEquity:
    """The SQLAlchemy ORM: n points as mapped objects (built before timing) into a fresh
    run, ``session.add_all`` + ``commit``, per-row foreign-key checks as for any insert."""

    def __init__(self, ing: Ingest, n: int, engine: Any) -> None:
        self.ing, self.n, self.engine = ing, n, engine
        self.frame = frame_of(n)
        self.point = _equity_mapping()

    def objects(self, run_id: uuid.UUID) -> list[Any]:
        f = self.frame
        return [self.point(run_id=run_id, ts=ts, portfolio_value=v, benchmark_value=b, drawdown=d)
                for ts, v, b, d in zip(f.ts.dt.to_pydatetime(), f.portfolio_value.tolist(),
                                       f.benchmark_value.tolist(), f.drawdown.tolist(), strict=True)]

    def measure(self) -> float:
        from sqlalchemy.orm import Session

        def load(run_id: uuid.UUID, objects: list[Any]) -> None:
            with Session(self.engine) as session:
                session.add_all(objects)
                session.commit()

        return self.ing.timed(self.objects, load)


class MlflowMetrics:
    """MLflow: n rows of 3 metrics (step = the row's index, timestamp = its ts) as Metric
    objects built beforehand, logged to a fresh run with ``log_batch`` calls of at most
    MLFLOW_BATCH metrics, into empty metric tables after a CHECKPOINT."""

    def __init__(self, ing: Ingest, n: int, client: Any, experiment_id: str,
                 store: psycopg.Connection) -> None:
        from mlflow.entities import Metric

        self.ing, self.n, self.client, self.experiment_id, self.store = ing, n, client, experiment_id, store
        f = frame_of(n)
        value = f.portfolio_value.to_numpy()
        columns = {"portfolio_value": value.tolist(), "drawdown": f.drawdown.tolist(),
                   "returns": np.concatenate([[0.0], value[1:] / value[:-1] - 1.0]).tolist()}
        millis = f.ts.dt.as_unit("ms").astype("int64").tolist()
        self.metrics = [Metric(key, columns[key][i], t, i)
                        for i, t in enumerate(millis) for key in MLFLOW_METRICS]

    def measure(self) -> float:
        Q.run(self.store, "series_bench_mlflow_truncate")
        self.ing.checkpoint()
        run_id = self.client.create_run(self.experiment_id).info.run_id
        started = time.perf_counter()
        for i in range(0, len(self.metrics), MLFLOW_BATCH):
            self.client.log_batch(run_id, metrics=self.metrics[i:i + MLFLOW_BATCH])
        return time.perf_counter() - started


@dataclass
class Writer:
    """One more row of the ingest table: a writer measured in turns with the others."""

    name: str
    rows: int
    measure: Callable[[], float] | None  # seconds to load ``rows`` afresh; None: skipped
    note: str
    baseline: tuple[str, str] | None  # (key of the rate compared with, its label); None: a baseline


def other_writers(bench: Bench, ing: Ingest, stack: contextlib.ExitStack) -> dict[str, Writer]:
    """write_trades and its psql baseline, the SQLAlchemy ORM and MLflow, as configured;
    the engine and the MLflow store live as long as ``stack``."""
    out: dict[str, Writer] = {}
    psql_equity = ("psql", "psql \\copy from CSV")
    if ing.trades is not None:
        m = len(ing.trades)
        out["trades_psql"] = Writer(
            "psql \\copy of trades from a CSV file (baseline for trades)", m, ing.psql_copy_trades,
            f"{m:,} trade rows; seq in the file", None)
        out["trades_api"] = Writer(
            "write_trades(DataFrame): numpy-built binary COPY", m, ing.api_trades,
            f"{m:,} trade rows (ts, asset, action, price, quantity, pnl); seq assigned by write_trades",
            ("trades_psql", "psql \\copy of the same trades from CSV"))
    if ORM_ROWS:
        name = "SQLAlchemy ORM: session.add_all(mapped objects) + commit"
        if missing := missing_packages("sqlalchemy"):
            out["orm"] = Writer(name, ORM_ROWS, None, _skipped(missing, ORM_ROWS, "equity rows"),
                                psql_equity)
        else:
            from sqlalchemy import create_engine

            engine = create_engine(sqlalchemy_url(bench.conninfo))
            stack.callback(engine.dispose)  # before the bench database is dropped
            orm = OrmEquity(ing, ORM_ROWS, engine)
            out["orm"] = Writer(name, ORM_ROWS, orm.measure,
                                f"{ORM_ROWS:,} equity rows; objects built before timing; "
                                "per-row foreign-key checks", psql_equity)
    if MLFLOW_ROWS:
        name = f"MLflow log_batch, {len(MLFLOW_METRICS)} metrics a row (SQL tracking store)"
        metrics = len(MLFLOW_METRICS) * MLFLOW_ROWS
        if missing := missing_packages("mlflow", "sqlalchemy"):
            out["mlflow"] = Writer(name, MLFLOW_ROWS, None,
                                   _skipped(missing, MLFLOW_ROWS, f"rows = {metrics:,} metrics"), psql_equity)
        else:
            client, experiment_id, conninfo = stack.enter_context(mlflow_store(bench, "mlflow_series"))
            store = stack.enter_context(psycopg.connect(conninfo, autocommit=True))
            logged = MlflowMetrics(ing, MLFLOW_ROWS, client, experiment_id, store)
            out["mlflow"] = Writer(
                name, MLFLOW_ROWS, logged.measure,
                f"{MLFLOW_ROWS:,} rows = {metrics:,} metrics ({', '.join(MLFLOW_METRICS)}; step = row, "
                f"timestamp = ts) in log_batch calls of {MLFLOW_BATCH:,}; Metric objects built "
                "before timing; the store in its own database on this server", psql_equity)
    return out


def _skipped(missing: list[str], rows: int, what: str) -> str:
    return f"skipped ({rows:,} {what}): {', '.join(missing)} not installed ({INSTALL_HINT})"


def ingest_results(ing: Ingest, repeat: int, *, full: bool,
                   others: dict[str, Writer] | None = None) -> list[Result]:
    group = f"Series ingest: {ing.n:,} equity rows from a pandas DataFrame (best of {repeat})"
    methods: dict[str, tuple[int, Callable[[], float]]] = {"psql": (ing.n, ing.psql_copy),
                                                           "api": (ing.n, ing.api)}
    if full:
        methods |= {"api_fk": (ing.n, ing.api_per_row_checks), "write_row": (ing.n, ing.write_row),
                    "executemany": (ing.n, lambda: ing.executemany(max(ing.n // 10, 1000)))}
    others = others or {}
    methods |= {key: (w.rows, w.measure) for key, w in others.items() if w.measure is not None}
    rates = {name: 0.0 for name in methods}
    for _ in range(repeat):  # interleaved, so drift in the machine hits every method alike
        for name, (n, measure) in methods.items():
            rates[name] = max(rates[name], n / measure())
    base = ("psql \\copy from CSV", rates["psql"])
    out = [Result(group, "psql \\copy from a CSV file (baseline)", rates["psql"], "rows/s")]
    met = rates["api"] / rates["psql"] >= INGEST_TARGET
    out.append(Result(group, "write_equity(DataFrame): numpy-built binary COPY", rates["api"], "rows/s",
                      *base, note=f"target >= {INGEST_TARGET}x: {'met' if met else 'MISSED'}"))
    if full:
        out += [
            Result(group, "write_equity, per-row foreign-key checks kept", rates["api_fk"], "rows/s", *base,
                   note="the path of a role that may not set session_replication_role"),
            Result(group, "psycopg binary COPY, set_types + write_row of built rows", rates["write_row"],
                   "rows/s", *base, note="rows built before timing; per-row FK checks"),
            Result(group, "psycopg executemany", rates["executemany"], "rows/s", *base,
                   note=f"rate on {max(ing.n // 10, 1000):,} rows"),
        ]
    for key, w in others.items():
        if w.baseline is None:
            out.append(Result(group, w.name, rates.get(key), "rows/s", note=w.note))
        else:
            against, label = w.baseline
            out.append(Result(group, w.name, rates.get(key), "rows/s", label, rates.get(against),
                              note=w.note))
    if rates.get("mlflow"):
        ratio = rates["api"] / rates["mlflow"]
        verdict = "met" if ratio >= MLFLOW_TARGET else "MISSED"
        out.append(Result(group, "write_equity(DataFrame) against MLflow log_batch", rates["api"],
                          "rows/s", others["mlflow"].name, rates["mlflow"],
                          note=f"a row = one equity point = {len(MLFLOW_METRICS)} MLflow metrics; "
                               f"target >= {MLFLOW_TARGET:g}x: {verdict}"))
    return out


def memory_results(ing: Ingest) -> list[Result]:
    group = "Series ingest: Python memory (tracemalloc peak, beyond the input itself)"
    out = []
    for name, data in (("DataFrame", lambda: ing.frame),
                       ("generator of tuples", lambda: ((t, v) for t, v in zip(
                           ing.frame.ts.dt.to_pydatetime(), ing.frame.portfolio_value.tolist(),
                           strict=True)))):
        run_id = ing.fresh_run()
        source = data()
        tracemalloc.start()
        series.write_equity(ing.db, run_id, None, source)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        out.append(Result(group, f"{ing.n:,} rows from a {name}", peak / 1e6, "MB", higher_is_better=False,
                          note="chunks of 131,072 rows: flat in the row count"))
    return out


class Reads:
    def __init__(self, bench: Bench, db: Database, conn: Connection, experiment: Any,
                 folder: Path) -> None:
        self.bench, self.db, self.conn, self.experiment, self.folder = bench, db, conn, experiment, folder
        self.stored = 0

    def fill(self, rows: int) -> uuid.UUID:
        run_id: uuid.UUID = Q.run(self.conn, "series_bench_run", experiment_id=self.experiment)
        with psycopg.connect(self.bench.conninfo, autocommit=True) as c:
            Q.run(c, "series_bench_without_triggers")
            Q.run(c, "series_bench_fill", run_id=run_id, n=rows)
        self.stored += rows
        return run_id

    def analyze(self) -> None:
        Q.run(self.conn, "series_bench_analyze")

    def api(self, run_id: uuid.UUID) -> float:
        started = time.perf_counter()
        frame = series.read_equity(self.db, run_id)
        elapsed = time.perf_counter() - started
        assert len(frame) == ROWS
        return elapsed

    def api_arrow(self, run_id: uuid.UUID) -> float:
        started = time.perf_counter()
        table = series.read_equity_arrow(self.db, run_id)
        elapsed = time.perf_counter() - started
        assert table.num_rows == ROWS
        return elapsed

    def psql_copy(self, run_id: uuid.UUID) -> float:
        script = self.folder / "copy_out.psql"
        script.write_text(Q["psql_copy_equity_out"].text + "\n")
        started = time.perf_counter()
        subprocess.run([psql(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", f"run_id={run_id}",
                        "-o", str(self.folder / "out.csv"), "-f", str(script), self.bench.conninfo],
                       check=True, capture_output=True)
        return time.perf_counter() - started

    def read_sql(self, run_id: uuid.UUID) -> float:
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas prefers SQLAlchemy; a DBAPI connection works
            frame = pd.read_sql(Q["series_bench_read"].psycopg_text, self.conn, params={"run_id": run_id})
        elapsed = time.perf_counter() - started
        assert len(frame) == ROWS
        return elapsed


def profile(fn: Callable[[], Any], top: int = 8) -> str:
    """The top functions of one call by own time: where a missed target went."""
    profiler = cProfile.Profile()
    profiler.enable()
    fn()
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(top)
    return text.getvalue()


def read_results(reads: Reads, repeat: int) -> list[Result]:
    out: list[Result] = []
    target = reads.fill(ROWS)
    reads.analyze()
    alone = min(reads.api(target) for _ in range(repeat + 1))  # first read warms the cache
    for _ in range(9):
        reads.fill(ROWS)
    reads.analyze()
    group = f"Series read: one run's {ROWS:,}-point curve, 10 runs stored (best of {repeat})"
    methods = {"psql": reads.psql_copy, "api": reads.api, "arrow": reads.api_arrow,
               "read_sql": reads.read_sql}
    times = {name: float("inf") for name in methods}
    for _ in range(repeat):
        for name, measure in methods.items():
            times[name] = min(times[name], measure(target))
    rate = {name: ROWS / t for name, t in times.items()}
    base = ("psql \\copy (query) TO a CSV file", rate["psql"])
    ratio = rate["api"] / rate["psql"]
    out += [
        Result(group, "psql \\copy (query) TO a CSV file (baseline)", rate["psql"], "rows/s"),
        Result(group, "read_equity -> DataFrame (COPY TO binary, numpy)", rate["api"], "rows/s", *base,
               note=f"target >= {READ_TARGET}x: {'met' if ratio >= READ_TARGET else 'MISSED'}"),
        Result(group, "read_equity_arrow -> Arrow table", rate["arrow"], "rows/s", *base),
        Result(group, "pandas.read_sql of the same query", rate["read_sql"], "rows/s", *base),
    ]
    while reads.stored < STORED:
        reads.fill(min(FILL_RUN_ROWS, STORED - reads.stored))
    reads.analyze()
    big = min(reads.api(target) for _ in range(repeat + 1))
    group = f"Series read: the same run with {ROWS:,} vs {reads.stored:,} rows stored (best of {repeat})"
    out += [
        Result(group, f"read_equity, {ROWS:,} rows stored", alone, "s", higher_is_better=False),
        Result(group, f"read_equity, {reads.stored:,} rows stored", big, "s",
               f"{ROWS:,} rows stored", alone, higher_is_better=False,
               note=f"{big / alone:.2f}x the time; target <= {STORED_TARGET}x: "
                    f"{'met' if big / alone <= STORED_TARGET else 'MISSED'}"),
    ]
    return out


def run(bench: Bench) -> list[Result]:
    results: list[Result] = []
    with bench.database() as db, bench.connect() as conn, tempfile.TemporaryDirectory() as tmp, \
            contextlib.ExitStack() as stack:
        folder = Path(tmp)
        experiment = Q.run(conn, "series_bench_experiment", name=f"series-bench-{uuid.uuid4().hex[:8]}")
        ing = Ingest(bench, db, conn, experiment, frame_of(ROWS), folder,
                     trades_of(TRADE_ROWS) if TRADE_ROWS else None)
        results += ingest_results(ing, REPEAT, full=True, others=other_writers(bench, ing, stack))
        stack.close()  # the ORM's engine and the MLflow store are done with
        print(f"   ingest {ROWS:,} done", flush=True)
        results += memory_results(ing)
        if results[1].ratio is not None and results[1].ratio < INGEST_TARGET:
            print(profile(ing.api), flush=True)
        if BIG_ROWS:
            big = Ingest(bench, db, conn, experiment, frame_of(BIG_ROWS), folder)
            results += ingest_results(big, 1, full=False)
            print(f"   ingest {BIG_ROWS:,} done", flush=True)
            del big
        Q.run(conn, "series_bench_truncate")
        reads = Reads(bench, db, conn, experiment, folder)
        results += read_results(reads, REPEAT)
        Q.run(conn, "series_bench_truncate")
    return results
