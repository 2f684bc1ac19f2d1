"""Retention: whole month partitions to Parquet and back, verified, locally and on S3; a
failed verification drops nothing; the CLI commands are thin shells over it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from resultsdb import series
from resultsdb.cli import app
from resultsdb.db import Database
from resultsdb.errors import AlreadyExists, SeriesArchiveError
from resultsdb.records import Experiment
from resultsdb.series import partitions
from resultsdb.series.copybin import Field
from tests.series.conftest import curve, trades

MARCH = datetime(2024, 3, 15, tzinfo=UTC)


def run_made(conn: psycopg.Connection, experiment: Experiment, at: datetime) -> uuid.UUID:
    """A run whose id says it was created at ``at`` (its series go to that month)."""
    return conn.execute("insert into runs (id, experiment_id) values (uuid_v7(%s), %s) returning id",
                        (at, experiment.id)).fetchone()[0]


def relations(conn: psycopg.Connection, pattern: str) -> list[str]:
    return [r[0] for r in conn.execute(
        "select relname::text from pg_class where relname like %s order by 1", (pattern,))]


@pytest.fixture
def old_run(db: Database, conn: psycopg.Connection, experiment: Experiment) -> uuid.UUID:
    """A March 2024 run with a curve (some benchmark values missing) and a trade log."""
    run_id = run_made(conn, experiment, MARCH)
    frame = curve(3000, seed=7, benchmark=False)
    frame["benchmark_value"] = pd.array([None if i % 4 else float(i) for i in range(3000)], dtype="Float64")
    series.write_equity(db, run_id, None, frame)
    series.write_trades(db, run_id, None, trades(700, seed=8))
    return run_id


def snapshot(db: Database, run_id: uuid.UUID) -> tuple[pd.DataFrame, pd.DataFrame]:
    return series.read_equity(db, run_id), series.read_trades(db, run_id)


def assert_same(a: tuple[pd.DataFrame, pd.DataFrame], b: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    pd.testing.assert_frame_equal(a[0], b[0], check_exact=True)
    pd.testing.assert_frame_equal(a[1], b[1], check_exact=True)


def test_archive_and_restore_round_trip_locally(
        db: Database, conn: psycopg.Connection, old_run: uuid.UUID, run: Any, tmp_path: Path) -> None:
    series.write_equity(db, run, None, curve(10))  # this month's run: not archived
    before = snapshot(db, old_run)
    assert [p.name for p in series.archivable(db, date(2024, 4, 1))] == [
        "equity_curves_p202403", "trade_logs_p202403"]
    assert series.archivable(db, date(2024, 3, 31)) == []  # March is not over by then

    done = series.archive(db, date(2024, 4, 1), tmp_path.as_uri())
    assert [(m.name, m.rows) for m in done] == [("equity_curves_p202403", 3000), ("trade_logs_p202403", 700)]
    assert relations(conn, "%p202403") == []
    assert series.read_equity(db, old_run).empty and series.read_trades(db, old_run).empty
    assert len(series.read_equity(db, run)) == 10
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [m.data_file for m in done] + [m.data_file.replace(".parquet", ".json") for m in done])
    manifest = json.loads((tmp_path / done[0].data_file.replace(".parquet", ".json")).read_text())
    assert manifest["checksum"] == done[0].checksum and manifest["format"] == partitions.ARCHIVE_FORMAT
    table = pq.read_table(tmp_path / done[0].data_file)
    assert table.num_rows == 3000 and table.column("benchmark_value").null_count == 2250

    assert series.manifests(str(tmp_path)) == done
    restored = series.restore(db, str(tmp_path))
    assert restored == done
    assert relations(conn, "%p202403") == ["equity_curves_p202403", "trade_logs_p202403"]
    assert_same(before, snapshot(db, old_run))
    with pytest.raises(AlreadyExists):  # the rows are back: a second restore changes nothing
        series.restore(db, str(tmp_path), names=["trade_logs_p202403"])
    assert_same(before, snapshot(db, old_run))


def test_rows_written_while_archived_go_to_the_recreated_month(
        db: Database, conn: psycopg.Connection, old_run: uuid.UUID, tmp_path: Path) -> None:
    before = snapshot(db, old_run)
    series.archive(db, date(2024, 4, 1), str(tmp_path))
    later = curve(5, seed=3, start=datetime(2030, 1, 1, tzinfo=UTC))
    series.write_equity(db, old_run, None, later)  # recreates March 2024 for its run
    series.restore(db, str(tmp_path), names=["equity_curves_p202403"])
    back = series.read_equity(db, old_run)
    assert len(back) == 3005 and back.ts.is_monotonic_increasing
    pd.testing.assert_frame_equal(back.iloc[:3000], before[0], check_exact=True)


def test_a_file_that_does_not_read_back_the_same_drops_nothing(
        db: Database, conn: psycopg.Connection, old_run: uuid.UUID, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(db, old_run)
    real = partitions.from_arrow

    def flipped(table: Any, spec: Any) -> Any:  # one value changes between write and read back
        fields = real(table, spec)
        if spec.parent == "equity_curves":
            fields[3] = Field(fields[3].kind, fields[3].values + 1e-9)
        return fields

    monkeypatch.setattr(partitions, "from_arrow", flipped)
    with pytest.raises(SeriesArchiveError, match="reads back as 3000 rows with checksum"):
        series.archive(db, date(2024, 4, 1), str(tmp_path))
    assert relations(conn, "%p202403") == ["equity_curves_p202403", "trade_logs_p202403"]
    assert_same(before, snapshot(db, old_run))
    assert series.manifests(str(tmp_path)) == []
    assert list(tmp_path.iterdir()) == []  # no half-written file left behind


def test_a_tampered_archive_is_not_restored(
        db: Database, conn: psycopg.Connection, old_run: uuid.UUID, tmp_path: Path) -> None:
    done = series.archive(db, date(2024, 4, 1), str(tmp_path))
    path = tmp_path / done[0].data_file
    table = pq.read_table(path)
    values = table.column("portfolio_value").to_numpy().copy()
    values[1234] = np.nextafter(values[1234], np.inf)  # one bit in one value
    pq.write_table(table.set_column(3, table.schema.field(3), [values]), path)
    with pytest.raises(SeriesArchiveError, match="nothing restored"):
        series.restore(db, str(tmp_path), names=[done[0].name])
    assert conn.execute("select count(*) from equity_curves").fetchone() == (0,)
    with pytest.raises(SeriesArchiveError, match="no archive of equity_curves_p209901"):
        series.restore(db, str(tmp_path), names=["equity_curves_p209901"])


_MOTO = """
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
server.stop()
"""


@pytest.fixture(scope="module")
def s3() -> Iterator[dict[str, Any]]:
    """fsspec options for a moto S3 server (a real HTTP peer) in a child process, with a bucket."""
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    child = subprocess.Popen([sys.executable, "-c", _MOTO], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        assert child.stdout is not None
        endpoint = f"http://127.0.0.1:{int(child.stdout.readline())}"
        options = {"key": "testing", "secret": "testing", "endpoint_url": endpoint,
                   "skip_instance_cache": True, "client_kwargs": {"region_name": "us-east-1"}}
        import boto3

        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                     aws_secret_access_key="testing").create_bucket(Bucket="rdb-series-archive")
        yield options
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=10)


def test_archive_and_restore_round_trip_on_s3(
        db: Database, conn: psycopg.Connection, old_run: uuid.UUID, s3: dict[str, Any]) -> None:
    before = snapshot(db, old_run)
    url = f"s3://rdb-series-archive/{uuid.uuid4().hex}"
    done = series.archive(db, date(2024, 4, 1), url, **s3)
    assert [m.rows for m in done] == [3000, 700] and relations(conn, "%p202403") == []
    assert series.manifests(url, **s3) == done
    series.restore(db, url, **s3)
    assert_same(before, snapshot(db, old_run))


def test_cli_archive_and_restore(db_url: str, db: Database, conn: psycopg.Connection,
                                 old_run: uuid.UUID, tmp_path: Path) -> None:
    before = snapshot(db, old_run)
    runner = CliRunner()
    base = ["--url", db_url, "--json"]
    planned = runner.invoke(app, [*base, "archive", "--before", "2024-04-01", "--dry-run"])
    assert planned.exit_code == 0, planned.output
    assert [p["name"] for p in json.loads(planned.output)] == ["equity_curves_p202403", "trade_logs_p202403"]
    assert relations(conn, "%p202403") != []

    archived = runner.invoke(app, [*base, "archive", "--before", "2024-04-01", "--to", tmp_path.as_uri()])
    assert archived.exit_code == 0, archived.output
    assert [(m["name"], m["rows"]) for m in json.loads(archived.output)] == [
        ("equity_curves_p202403", 3000), ("trade_logs_p202403", 700)]
    assert relations(conn, "%p202403") == []

    listed = runner.invoke(app, [*base, "restore", "--from", str(tmp_path), "--dry-run"])
    assert [m["rows"] for m in json.loads(listed.output)] == [3000, 700]
    restored = runner.invoke(app, [*base, "restore", "--from", str(tmp_path),
                                   "--partition", "equity_curves_p202403"])
    assert restored.exit_code == 0, restored.output
    assert relations(conn, "%p202403") == ["equity_curves_p202403", "trade_logs_p202403"]
    pd.testing.assert_frame_equal(series.read_equity(db, old_run), before[0], check_exact=True)
    assert series.read_trades(db, old_run).empty  # not restored yet

    bad = runner.invoke(app, [*base, "archive", "--before", "April"])
    assert bad.exit_code == 4 and "before" in bad.output
