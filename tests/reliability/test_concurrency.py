"""Races between processes and threads on one database: nothing duplicated, nothing lost.

Proven elsewhere and not repeated:
- 8 processes / 8 threads numbering trials of one run: tests/api/test_trials.py
  (test_trial_numbers_from_8_processes, test_trial_numbers_from_threads);
- concurrent metric merges: tests/api/test_runs.py::test_concurrent_metric_merges_lose_nothing;
- concurrent promotions, exactly one production version:
  tests/api/test_models.py::test_promotion_race_threads / test_promotion_race_processes;
- concurrent puts of the same content into the store (threads):
  tests/artifacts/test_store.py::test_concurrent_puts_of_the_same_content_leave_one_blob.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from resultsdb.api import ResultsDB
from resultsdb.artifacts import ArtifactStore
from resultsdb.errors import InvalidTransition
from tests.api._workers import trial_worker
from tests.reliability._workers import store_worker

PROCESSES = 16


@pytest.mark.slow
def test_16_processes_number_trials_of_one_run_1_to_n(db_url: str) -> None:
    per_process = 40
    with ResultsDB(url=db_url) as rdb:
        run = rdb.start_run(rdb.start_experiment("race"), "search", run_type="hyperparameter_tuning")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        start = manager.Barrier(PROCESSES + 1, timeout=240)
        with ctx.Pool(PROCESSES) as pool:
            pending = [pool.apply_async(trial_worker, (db_url, str(run.id), w, per_process, start))
                       for w in range(PROCESSES)]
            start.wait()
            per_worker = [p.get(timeout=280) for p in pending]
    total = PROCESSES * per_process
    assert sorted(n for chunk in per_worker for n in chunk) == list(range(1, total + 1))
    with psycopg.connect(db_url) as conn:
        stored = [r[0] for r in conn.execute(
            "select trial_number from hyperparameter_results where run_id = %s order by 1", (run.id,))]
        assert stored == list(range(1, total + 1))  # none missing, none twice
        assert conn.execute("select trial_count from runs where id = %s",
                            (run.id,)).fetchone() == (total,)


def test_run_completion_racing_metric_merges_loses_no_update(db_url: str) -> None:
    threads, merges, rounds = 8, 25, 5
    with ResultsDB(url=db_url) as rdb:
        exp = rdb.start_experiment("completion-race")
        for _ in range(rounds):
            run = rdb.start_run(exp, "r")
            barrier = threading.Barrier(threads * 2)
            ended: list[str] = []
            refused: list[InvalidTransition] = []

            def merge(t: int, run_id: object = run.id, barrier: threading.Barrier = barrier) -> None:
                barrier.wait()
                for i in range(merges):
                    rdb.log_summary_metrics(run_id, {f"t{t}_m{i}": t * 1000 + i})

            def end(t: int, run_id: object = run.id, ended: list[str] = ended,
                    refused: list[InvalidTransition] = refused,
                    barrier: threading.Barrier = barrier) -> None:
                barrier.wait()
                status = ("completed", "failed", "killed")[t % 3]
                try:
                    ended.append(rdb.end_run(run_id, status).status)
                except InvalidTransition as exc:
                    refused.append(exc)

            with ThreadPoolExecutor(threads * 2) as pool:
                jobs = [pool.submit(merge, t) for t in range(threads)]
                jobs += [pool.submit(end, t) for t in range(threads)]
                for job in jobs:
                    job.result()
            assert len(ended) == 1 and len(refused) == threads - 1  # exactly one end wins
            final = rdb.get_run(run)
            assert final.status == ended[0] and final.end_time is not None
            expected = {f"t{t}_m{i}": t * 1000 + i for t in range(threads) for i in range(merges)}
            assert final.summary_metrics == expected  # no merge lost to the completion


@pytest.mark.slow
def test_processes_storing_the_same_content_leave_one_blob(db_url: str, tmp_path: Path) -> None:
    store_url = (tmp_path / "store").as_uri()
    payload = b"the same weights" * 50_000
    digest = hashlib.sha256(payload).hexdigest()
    ctx = multiprocessing.get_context("spawn")
    workers = 8
    with ctx.Manager() as manager:
        start = manager.Barrier(workers + 1, timeout=240)
        with ctx.Pool(workers) as pool:
            pending = [pool.apply_async(store_worker, (db_url, store_url, payload, start))
                       for _ in range(workers)]
            start.wait()
            got = [p.get(timeout=280) for p in pending]
    assert got == [digest] * workers
    store = ArtifactStore(store_url)
    assert list(store.blob_hashes()) == [digest]
    assert store.get(digest) == payload
    assert store.stale_uploads(older_than=datetime.now(UTC)) == []  # no upload left behind
    with psycopg.connect(db_url) as conn:
        assert conn.execute("select count(*) from blobs").fetchone() == (1,)
