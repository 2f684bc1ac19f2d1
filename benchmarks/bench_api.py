"""The pipeline API (ResultsDB) against raw SQL, Optuna's RDB storage and MLflow's tracking store.

Everything runs side by side in one run, on the bench server:

- trial lifecycle (``start_trial`` + ``finish_trial``) per second from 1 and 4 processes,
  against the raw counter-row insert (the floor: one prepared autocommit statement per
  trial, the same number of processes) and Optuna's RDBStorage with RandomSampler from
  4 processes sharing one study, and the library's own two statements sent raw
  through psycopg (the floor those statements allow); with ``durable_trial_starts``
  (each commit flushed), against the same two statements sent raw;
- run creation (``start_run`` + ``log_summary_metrics``) per second against its two
  statements sent raw and MLflow's ``create_run`` + ``log_batch`` (one metric) on a SQL
  tracking store;
- leaderboard, compare_runs and lineage latency through the public API with 100k runs
  stored, against the raw indexed query, and the leaderboard without run_metrics.

Rates are taken in turns: each kind runs ROUNDS windows, alternating with the others,
and its figure is the median, so a change in the machine's load hits every kind alike.
Optuna and MLflow live in their own databases on the same server; a comparison whose
package is missing is skipped and the report says so (``pip install -e '.[bench]'``).
"""

# Random numbers here are made-up parameters and metrics, not secrets.
# ruff: noqa: S311

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import random
import statistics
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from benchmarks._harness import (
    BENCH_QUERIES,
    INSTALL_HINT,
    Bench,
    Result,
    latencies_ms,
    missing_packages,
    mlflow_store,
    p50,
    p99,
    rate,
    side_database,
    sqlalchemy_url,
)
from resultsdb.api import ResultsDB
from resultsdb.config import Settings
from resultsdb.registry import default_registry

# Overridable so a quick local run does not take minutes; the report states what was used.
SECONDS = float(os.environ.get("RESULTSDB_BENCH_SECONDS", "5"))
BULK_RUNS = int(os.environ.get("RESULTSDB_BENCH_RUNS", "100000"))
LATENCY_CALLS = int(os.environ.get("RESULTSDB_BENCH_CALLS", "2000"))
ROUNDS = 5  # each kind's figure is the median of this many windows, taken in turns
PROCESSES = 4
WARMUP = 30  # per process: past psycopg's prepare threshold (5) and the pool's first connects

_WINDOWS = f"median of {ROUNDS} windows of {SECONDS / ROUNDS:g} s per figure, taken in turns"
TRIALS = f"Trial lifecycle (start_trial + finish_trial), {_WINDOWS}"
RUNS = f"Run creation (start_run + log_summary_metrics), {_WINDOWS}"
QUERIES = (f"Queries with {BULK_RUNS:,} runs in one experiment (p50 / p99 latency of "
           f"{LATENCY_CALLS:,} calls, records included)")

# Targets from the issue; each row that has one says whether it was met.
TARGET_FLOOR = 0.9
TARGET_OPTUNA = 30.0
TARGET_MLFLOW = 15.0
TARGET_QUERY_MS = 0.5


def run(bench: Bench) -> list[Result]:
    results: list[Result] = []
    results += _trial_lifecycle(bench)
    results += _run_creation(bench)
    results += _queries(bench)
    return results


def _target(ratio: float | None, target: float) -> str:
    if ratio is None:
        return f"target >= {target:g}x: not measured"
    return f"target >= {target:g}x: {'met' if ratio >= target else 'MISSED'}"


# -- trial lifecycle: worker processes ------------------------------------------------------

Step = Callable[[], None]


def _api_trials(conninfo: str, run_id: str, *, durable_starts: bool = False
                ) -> tuple[Step, Callable[[], None]]:
    """The API's lifecycle; by default a start is made durable by its finish (one flush
    per trial), with ``durable_starts`` every commit waits for its own flush."""
    db = ResultsDB(Settings(durable_trial_starts=durable_starts), url=conninfo).open()
    rng = random.Random()

    def step() -> None:
        params = {"x": rng.random(), "y": rng.randint(1, 10)}
        trial = db.start_trial(run_id, params)
        db.finish_trial(trial, params["x"] * params["y"])

    return step, db.close


def _raw_steps(conninfo: str, run_id: str, start: str, finish: str | None = None, *,
               start_args: dict[str, Any] | None = None,
               finish_args: dict[str, Any] | None = None) -> tuple[Step, Callable[[], None]]:
    """Trials sent raw on one autocommit connection, prepared: the ``start`` statement
    alone, or followed by ``finish`` (with ``*_args`` for the parameters beyond run,
    parameters, id, objective value and metrics)."""
    conn = psycopg.connect(conninfo, autocommit=True)
    rng = random.Random()
    run = UUID(run_id)
    no_metrics = Jsonb({})

    def step() -> None:
        params = {"x": rng.random(), "y": rng.randint(1, 10)}
        row = conn.execute(start, {"run_id": run, "parameters": Jsonb(params),
                                   **(start_args or {})}, prepare=True).fetchone()
        if finish is not None and row is not None:
            conn.execute(finish, {"id": row[0], "objective_value": params["x"] * params["y"],
                                  "metrics": no_metrics, **(finish_args or {})},
                         prepare=True).fetchone()

    return step, conn.close


def _raw_trials(conninfo: str, run_id: str) -> tuple[Step, Callable[[], None]]:
    """The floor: the counter-row insert alone, one statement per trial."""
    return _raw_steps(conninfo, run_id, BENCH_QUERIES["bench_trial_insert_raw"].psycopg_text)


def _raw_lifecycles(conninfo: str, run_id: str) -> tuple[Step, Callable[[], None]]:
    """The counter-row insert, then the finishing update: a lifecycle's two statements,
    each commit flushed, without the library."""
    return _raw_steps(conninfo, run_id, BENCH_QUERIES["bench_trial_insert_raw"].psycopg_text,
                      BENCH_QUERIES["bench_trial_finish_raw"].psycopg_text)


def _raw_api_statements(conninfo: str, run_id: str) -> tuple[Step, Callable[[], None]]:
    """The library's own two statements (its insert_trial, start unflushed, and its
    finish_trial, both returning the whole row) sent raw: what the API's lifecycle
    costs with nothing of the library but its SQL. Rows come back as tuples."""
    queries = default_registry()
    return _raw_steps(
        conninfo, run_id, queries["insert_trial"].psycopg_text,
        queries["finish_trial"].psycopg_text,
        start_args={"trial_run_id": None, "objective_value": None, "metrics": Jsonb({}),
                    "status": "running", "synchronous_commit": "off"},
        finish_args={"status": "completed"})


def _api_durable_trials(conninfo: str, run_id: str) -> tuple[Step, Callable[[], None]]:
    return _api_trials(conninfo, run_id, durable_starts=True)


def _optuna_objective(trial: Any) -> float:
    x: float = trial.suggest_float("x", 0.0, 1.0)
    y: int = trial.suggest_int("y", 1, 10)
    return x * y


def _optuna_trials(url: str, study_name: str) -> tuple[Step, Callable[[], None]]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no log line per trial
    storage = optuna.storages.RDBStorage(url, skip_table_creation=True)
    study = optuna.load_study(study_name=study_name, storage=storage,
                              sampler=optuna.samplers.RandomSampler())

    def step() -> None:
        study.optimize(_optuna_objective, n_trials=1)

    return step, storage.engine.dispose


_KINDS: dict[str, Callable[[str, str], tuple[Step, Callable[[], None]]]] = {
    "api": _api_trials, "api_durable": _api_durable_trials, "raw": _raw_trials,
    "raw2": _raw_lifecycles, "raw_api_sql": _raw_api_statements, "optuna": _optuna_trials,
}


Setups = dict[str, tuple[str, str]]  # kind -> (connection target, run id or study name)


def _trial_worker(setups: Setups, commands: Any, out: Any, barrier: Any) -> None:
    """One process of a trial benchmark: set up and warm up every kind, then, for each
    command (kind, seconds), wait for the other processes and do trials for that long.

    Puts ("ready",) once, then (trials done, start, end) per command, on ``out``; the
    clock is CLOCK_MONOTONIC, which all processes share, so the parent can take the wall
    time from the first start to the last end. A failure is put as ("error", traceback).
    """
    try:
        steps: dict[str, Step] = {}
        closers: list[Callable[[], None]] = []
        for kind, (target, key) in setups.items():
            step, close = _KINDS[kind](target, key)
            for _ in range(WARMUP):
                step()
            steps[kind] = step
            closers.append(close)
        out.put(("ready",))
        while (command := commands.get()) is not None:
            kind, seconds = command
            step = steps[kind]
            barrier.wait(timeout=600)
            start = time.monotonic()
            deadline = start + seconds
            done = 0
            while time.monotonic() < deadline:
                step()
                done += 1
            out.put((done, start, time.monotonic()))
        for close in closers:
            close()
    except BaseException:
        barrier.abort()  # the others must not wait for this one
        out.put(("error", traceback.format_exc()))
        raise


def _report(out: Any, timeout: float) -> tuple[Any, ...]:
    report: tuple[Any, ...] = out.get(timeout=timeout)
    if report[0] == "error":
        raise RuntimeError(f"trial worker failed:\n{report[1]}")
    return report


def _trials_per_second(setups: Setups, processes: int) -> dict[str, float]:
    """Trials per second of each kind from ``processes`` processes, side by side.

    The kinds take turns, ROUNDS windows each (the order reversed every other round),
    in the same worker processes, and each kind's figure is the median of its
    windows: on a machine whose load varies, every kind sees the same conditions.
    """
    ctx = mp.get_context("spawn")  # each process its own interpreter, pool and connections
    barrier = ctx.Barrier(processes)
    out = ctx.Queue()
    commands = [ctx.Queue() for _ in range(processes)]
    procs = [ctx.Process(target=_trial_worker, args=(setups, q, out, barrier)) for q in commands]
    for p in procs:
        p.start()
    window = SECONDS / ROUNDS
    rates: dict[str, list[float]] = {kind: [] for kind in setups}
    try:
        for _ in procs:
            _report(out, 600)
        for round_ in range(ROUNDS):
            kinds = list(setups) if round_ % 2 == 0 else list(reversed(setups))
            for kind in kinds:
                for q in commands:
                    q.put((kind, window))
                reports = [_report(out, window + 600) for _ in procs]
                wall = max(r[2] for r in reports) - min(r[1] for r in reports)
                rates[kind].append(sum(r[0] for r in reports) / wall)
    finally:
        for q in commands:
            q.put(None)
        for p in procs:
            p.join(timeout=60)
            if p.is_alive():
                p.kill()
    return {kind: statistics.median(values) for kind, values in rates.items()}


def _trial_lifecycle(bench: Bench) -> list[Result]:
    results: list[Result] = []
    missing = missing_packages("optuna", "sqlalchemy")
    with ResultsDB(url=bench.conninfo) as db, contextlib.ExitStack() as stack:
        exp = db.start_experiment("bench-trials")

        def search_run() -> str:
            # A run per kind and process count: its trial counter is the row every
            # process of that measurement contends on, as with one shared study.
            return str(db.start_run(exp, "search", "search").id)

        optuna_url: str | None = None
        if not missing:
            optuna_url = sqlalchemy_url(stack.enter_context(side_database(bench, "optuna")))
        for n in (1, PROCESSES):
            procs = f"{n} process{'es' if n > 1 else ''}"
            setups: Setups = {kind: (bench.conninfo, search_run())
                              for kind in ("raw", "raw2", "raw_api_sql", "api", "api_durable")}
            if optuna_url is not None and n == PROCESSES:
                setups["optuna"] = (optuna_url, _optuna_study(optuna_url))
            rates = _trials_per_second(setups, n)
            ours = rates["api"]
            row = Result(TRIALS, f"ResultsDB lifecycle, {procs}", ours, "trials/s",
                         f"raw counter-row insert (the floor), {procs}", rates["raw"])
            row.note = ("start commits unflushed, the finish flushes both; "
                        + (_target(row.ratio, TARGET_FLOOR) if n == PROCESSES else "no target"))
            results.append(row)
            results.append(Result(
                TRIALS, f"ResultsDB lifecycle, {procs}", ours, "trials/s",
                f"the same two statements sent raw (psycopg, start unflushed), {procs}",
                rates["raw_api_sql"],
                note="the library's cost over its own SQL; that SQL's own rate against the "
                     f"floor: {rates['raw_api_sql'] / rates['raw']:.2f}x"))
            results.append(Result(
                TRIALS, f"ResultsDB lifecycle, durable starts, {procs}", rates["api_durable"],
                "trials/s", f"raw insert + raw finishing update, {procs}", rates["raw2"],
                note="two flushed commits each: the library's cost over the same statements sent raw"))
            print("   trials x{}: {}".format(n, ", ".join(f"{k} {v:,.1f}/s" for k, v in rates.items())),
                  flush=True)
            if n != PROCESSES:
                continue
            baseline = f"Optuna RDBStorage + RandomSampler, {PROCESSES} processes, one study"
            if "optuna" in rates:
                row = Result(TRIALS, row.name, ours, "trials/s", baseline, rates["optuna"])
                row.note = _target(row.ratio, TARGET_OPTUNA)
            else:
                row = Result(TRIALS, row.name, ours, "trials/s", baseline, None, note=(
                    f"skipped: {', '.join(missing)} not installed ({INSTALL_HINT})"))
            results.append(row)
    return results


def _optuna_study(url: str) -> str:
    """Create Optuna's tables and the shared study (RandomSampler); its name."""
    import optuna

    storage = optuna.storages.RDBStorage(url)
    optuna.create_study(study_name="bench", storage=storage, direction="maximize",
                        sampler=optuna.samplers.RandomSampler())
    storage.engine.dispose()
    return "bench"


# -- run creation ---------------------------------------------------------------------------


def _run_creation(bench: Bench) -> list[Result]:
    missing = missing_packages("mlflow", "sqlalchemy")
    with ResultsDB(url=bench.conninfo) as db, bench.connect() as conn, \
            contextlib.ExitStack() as stack:
        exp = db.start_experiment("bench-run-creation")

        def ours() -> int:
            run = db.start_run(exp, run_type="backtest")
            db.log_summary_metrics(run, {"sharpe": random.random()})
            return 1

        insert = BENCH_QUERIES["bench_run_insert_raw"].psycopg_text
        merge = BENCH_QUERIES["bench_run_metrics_raw"].psycopg_text

        def raw() -> int:
            row = conn.execute(insert, {"experiment_id": exp.id}, prepare=True).fetchone()
            assert row is not None
            conn.execute(merge, {"id": row[0], "metrics": Jsonb({"sharpe": random.random()})},
                         prepare=True).fetchone()
            return 1

        kinds: dict[str, Callable[[], int]] = {"api": ours, "raw": raw}
        if not missing:
            kinds["mlflow"] = stack.enter_context(_mlflow_runs(bench))
        for fn in kinds.values():
            for _ in range(WARMUP):
                fn()
        # Taking turns, as the trial kinds do: the same conditions for each.
        windows: dict[str, list[float]] = {kind: [] for kind in kinds}
        for round_ in range(ROUNDS):
            for kind in (list(kinds) if round_ % 2 == 0 else list(reversed(kinds))):
                windows[kind].append(rate(kinds[kind], SECONDS / ROUNDS))
        rates = {kind: statistics.median(values) for kind, values in windows.items()}
    print("   runs: {}".format(", ".join(f"{k} {v:,.1f}/s" for k, v in rates.items())), flush=True)

    name = "ResultsDB start_run + log_summary_metrics, 1 process"
    results = [Result(RUNS, name, rates["api"], "runs/s", "raw insert + raw metrics update, 1 process",
                      rates["raw"], note="the library's cost over the same two statements sent raw")]
    baseline = "MLflow create_run + log_batch (1 metric), SQL tracking store"
    if missing:
        return [*results, Result(RUNS, name, rates["api"], "runs/s", baseline, None, note=(
            f"skipped: {', '.join(missing)} not installed ({INSTALL_HINT})"))]
    row = Result(RUNS, name, rates["api"], "runs/s", baseline, rates["mlflow"])
    row.note = _target(row.ratio, TARGET_MLFLOW)
    return [*results, row]


@contextmanager
def _mlflow_runs(bench: Bench) -> Iterator[Callable[[], int]]:
    """MLflow's run creation (create_run + a one-metric log_batch) on a SQL tracking
    store in its own database on the bench server."""
    from mlflow.entities import Metric

    with mlflow_store(bench, "mlflow") as (client, experiment_id, _):

        def theirs() -> int:
            run = client.create_run(experiment_id)
            client.log_batch(run.info.run_id, metrics=[
                Metric("sharpe", random.random(), int(time.time() * 1000), 0)])
            return 1

        yield theirs


# -- queries over 100k runs ----------------------------------------------------------------


def _raw_rows(conn: psycopg.Connection[Any], name: str, **params: Any) -> Callable[[], object]:
    """The baseline call: one prepared statement, tuple rows, nothing built from them."""
    query = BENCH_QUERIES[name]
    literals = {k: params.pop(k) for k in query.literals}
    text = query.compose({}, literals=literals)

    def call() -> object:
        return conn.execute(text, params, prepare=True).fetchall()

    return call


def _latency_rows(name: str, ours: Callable[[], object], raw: Callable[[], object],
                  baseline: str, n: int, target_ms: float | None) -> list[Result]:
    api_ms = latencies_ms(ours, n, warmup=100)
    raw_ms = latencies_ms(raw, n, warmup=100)
    print(f"   {name}: api p50 {p50(api_ms):.3f} ms, raw p50 {p50(raw_ms):.3f} ms", flush=True)
    first = Result(QUERIES, f"{name} p50", p50(api_ms), "ms", f"{baseline} p50", p50(raw_ms),
                   higher_is_better=False)
    if target_ms is not None:
        first.note = (f"target p50 <= {target_ms:g} ms: "
                      f"{'met' if p50(api_ms) <= target_ms else 'MISSED'}")
    second = Result(QUERIES, f"{name} p99", p99(api_ms), "ms", f"{baseline} p99", p99(raw_ms),
                    higher_is_better=False)
    return [first, second]


def _queries(bench: Bench) -> list[Result]:
    from resultsdb.artifacts import ArtifactStore

    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp, \
            ResultsDB(url=bench.conninfo, artifact_store=ArtifactStore(Path(tmp).as_uri())) as db, \
            bench.connect() as raw:
        exp = db.start_experiment("bench-queries")
        started = time.perf_counter()
        BENCH_QUERIES.run(raw, "bench_bulk_runs", experiment_id=exp.id, n=BULK_RUNS)
        print(f"   {BULK_RUNS:,} runs generated in {time.perf_counter() - started:.1f}s", flush=True)

        # Five runs logged through the API, with configurations, for compare_runs; the
        # first also gets a configuration chain, snapshots and a model version for lineage.
        runs = []
        for i in range(5):
            run = db.start_run(exp, f"compare-{i}", "backtest")
            root = db.save_config(run, "strategy", "strategy", {"lookback": 20 + i, "z": 2.0})
            mid = db.save_config(run, "strategy", "strategy", {"lookback": 30 + i, "z": 2.5},
                                 parent=root)
            db.save_config(run, "model", "model", {"depth": 6, "eta": 0.1 * (i + 1)})
            db.log_summary_metrics(run, {"sharpe": 1.0 + i / 10, "sortino": 1.5})
            runs.append(db.end_run(run))
            if i == 0:
                leaf = db.save_config(run, "strategy", "strategy", {"lookback": 40, "z": 3.0},
                                      parent=mid)
                for year in (2022, 2023):
                    db.register_snapshot(
                        run, "binance:BTCUSDT:1h", _utc(year, 1, 1), _utc(year, 12, 31),
                        f"{year:064x}", f"snapshots/{year}.parquet")
                saved = db.save_model(run, os.urandom(64 << 10), "xgboost", config=leaf,
                                      name="bench-model", commit_hash="0123abc")
        BENCH_QUERIES.run(raw, "bench_analyze")
        version = saved.version
        ids = [r.id for r in runs]

        results += _latency_rows(
            "leaderboard top 10 (API)", lambda: db.leaderboard(exp, "sharpe", limit=10),
            _raw_rows(raw, "bench_leaderboard_raw", experiment_id=exp.id, metric="sharpe",
                      limit=10),
            "raw indexed query", LATENCY_CALLS, TARGET_QUERY_MS)
        results += _latency_rows(
            "compare_runs, 5 runs (API)", lambda: db.compare_runs(ids),
            _raw_rows(raw, "bench_compare_raw", run_ids=ids),
            "raw query", LATENCY_CALLS, TARGET_QUERY_MS)
        results += _latency_rows(
            "lineage(version) (API)", lambda: db.lineage(version),
            _raw_rows(raw, "bench_lineage_raw", version_id=version.id),
            "raw query", LATENCY_CALLS, TARGET_QUERY_MS)

        # Why run_metrics exists: the same top 10 ranked from the jsonb over runs.
        unindexed = latencies_ms(
            _raw_rows(raw, "bench_leaderboard_unindexed", experiment_id=exp.id,
                      metric="sharpe", limit=10), 50, warmup=5)
        indexed = latencies_ms(
            _raw_rows(raw, "bench_leaderboard_raw", experiment_id=exp.id, metric="sharpe",
                      limit=10), LATENCY_CALLS, warmup=100)
        api = latencies_ms(lambda: db.leaderboard(exp, "sharpe", limit=10), LATENCY_CALLS,
                           warmup=100)
        print(f"   leaderboard without run_metrics: p50 {p50(unindexed):.2f} ms", flush=True)
        results.append(Result(
            QUERIES, "leaderboard top 10, raw, run_metrics index p50", p50(indexed), "ms",
            "raw ORDER BY (summary_metrics->>'sharpe')::float8 over runs p50", p50(unindexed),
            higher_is_better=False, note="the index table's effect, both raw"))
        results.append(Result(
            QUERIES, "leaderboard top 10 (API) p50", p50(api), "ms",
            "raw ORDER BY (summary_metrics->>'sharpe')::float8 over runs p50", p50(unindexed),
            higher_is_better=False, note="the API against ranking without run_metrics"))
    return results


def _utc(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)
