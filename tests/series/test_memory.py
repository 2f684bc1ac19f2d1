"""Memory stays bounded however long the input: chunks, not the whole series, are held.

tracemalloc (Python and numpy allocations) on generators of 300k and 900k rows shows the
peak does not grow with the row count: it is one chunk's worth (CHUNK_ROWS rows as
Python objects, their arrays and the encoded buffer), so 10M rows need the same. The
slow test streams a real 10-million-row generator in a child process and checks the
growth of its resident memory.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import psycopg
import pytest

from resultsdb import series
from resultsdb.db import Database
from resultsdb.records import Run
from resultsdb.series import sources
from tests.series.conftest import T0

LIMIT_MB = 200


def points(n: int) -> Iterator[tuple[datetime, float, float]]:
    step = timedelta(seconds=1)
    for i in range(n):
        yield T0 + i * step, 100.0 + i * 1e-6, 50.0


def peak_mb(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_peak_memory_of_a_generator_does_not_grow_with_its_length(
        db: Database, run: Run, other_run: Run, count: Callable[[str], int]) -> None:
    small = peak_mb(lambda: series.write_equity(db, run, None, points(300_000)))
    large = peak_mb(lambda: series.write_equity(db, other_run, None, points(900_000)))
    assert count("equity_curves") == 1_200_000
    # One chunk's worth either way: 3x the rows, not 3x the memory.
    assert large < small * 1.25 + 5, (small, large)
    assert large < LIMIT_MB / 2, (small, large)
    per_chunk_row = large * 1e6 / sources.CHUNK_ROWS
    print(f"peak {small:.1f} MB at 300k rows, {large:.1f} MB at 900k rows "
          f"(~{per_chunk_row:.0f} bytes per row of a {sources.CHUNK_ROWS:,}-row chunk)")


def test_a_dataframe_is_not_copied_whole(db: Database, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np
    import pandas as pd

    monkeypatch.setattr(sources, "CHUNK_ROWS", 16_384)  # a chunk far smaller than the frame
    n = 1_000_000
    frame = pd.DataFrame({"ts": pd.date_range(T0, periods=n, freq="s", tz="UTC"),
                          "portfolio_value": np.linspace(1.0, 2.0, n)})
    input_mb = frame.memory_usage(deep=True).sum() / 1e6
    peak = peak_mb(lambda: series.write_equity(db, run, None, frame))
    assert peak < input_mb, (peak, input_mb)  # chunks of it, never a copy of all of it


CHILD = textwrap.dedent("""
    import os, sys, threading, time
    from datetime import datetime, timedelta, timezone
    from resultsdb import series
    from resultsdb.db import Database

    url, run_id, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
    page = os.sysconf("SC_PAGE_SIZE")

    def resident():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * page

    def points():
        step = timedelta(seconds=1)
        for i in range(n):
            yield t0 + i * step, 100.0 + i * 1e-6, 50.0

    peak, done = [0], threading.Event()

    def sample():  # the resident set now and then: ru_maxrss would include import-time peaks
        while not done.wait(0.02):
            peak[0] = max(peak[0], resident())

    with Database(url=url) as db:
        series.read_equity(db, run_id)  # every import and the pool warmed up: the baseline
        before = resident()
        sampler = threading.Thread(target=sample)
        sampler.start()
        started = time.perf_counter()
        result = series.write_equity(db, run_id, None, points())
        elapsed = time.perf_counter() - started
        done.set()
        sampler.join()
    print(result.row_count, before, max(peak[0], before), elapsed)
""")


@pytest.mark.slow
def test_ten_million_rows_from_a_generator_in_bounded_memory(
        db_url: str, run: Run, conn: psycopg.Connection) -> None:
    n = 10_000_000
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", CHILD, db_url, str(run.id), str(n)],
                          capture_output=True, text=True, timeout=290)
    assert done.returncode == 0, done.stderr
    rows, before, peak, elapsed = done.stdout.split()
    grown_mb = (int(peak) - int(before)) / 1e6
    print(f"10M rows in {float(elapsed):.1f} s ({n / float(elapsed):,.0f} rows/s), "
          f"resident memory grew {grown_mb:.0f} MB")
    assert int(rows) == n
    assert grown_mb < LIMIT_MB
    assert conn.execute("select count(*) from equity_curves where run_id = %s", (run.id,)).fetchone() == (n,)
    assert time.monotonic() - started < 240
