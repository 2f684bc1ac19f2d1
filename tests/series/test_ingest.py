"""Bulk writes: every input kind round-trips bit for bit, drawdown and seq are filled in,
a batch is written once, a call is all or nothing, and the one-check foreign-key path
keeps the integrity the per-row checks give."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pytest

from resultsdb import series
from resultsdb.db import Database
from resultsdb.errors import AlreadyExists, InvalidSeriesRow, ReferenceNotFound
from resultsdb.records import Model, Run
from resultsdb.series import ingest, sources
from resultsdb.series.validate import DRAWDOWN_ATOL, DRAWDOWN_RTOL
from tests.series.conftest import T0, curve, trades

MISSING = "01900000-0000-7000-8000-000000000000"


def as_kind(frame: pd.DataFrame, kind: str) -> Any:
    """The same rows as a DataFrame, an Arrow table, a dict of arrays, records or a generator."""
    if kind == "frame":
        return frame
    if kind == "arrow":
        with warnings.catch_warnings():  # pyarrow reads Series.values, which pandas 3 deprecates
            warnings.simplefilter("ignore")
            return pa.Table.from_pandas(frame, preserve_index=False)
    if kind == "dict":
        return {c: frame[c].to_numpy() if c != "ts" else frame[c] for c in frame.columns}
    records = [dict(zip(frame.columns, row, strict=True)) for row in frame.itertuples(index=False)]
    records = [{k: (None if v is pd.NA else v.to_pydatetime() if isinstance(v, pd.Timestamp) else v)
                for k, v in r.items()} for r in records]
    if kind == "records":
        return records
    if kind == "tuples":
        return [tuple(r.values()) for r in records]
    assert kind == "generator"
    return (r for r in records)


KINDS = ["frame", "arrow", "dict", "records", "tuples", "generator"]


@pytest.mark.parametrize("kind", KINDS)
def test_equity_round_trips_bit_for_bit_from_every_input_kind(
        db: Database, run: Run, kind: str) -> None:
    frame = curve(3000, seed=1)
    frame.loc[5, "portfolio_value"] = 1e-300  # tiny values survive bit for bit too
    frame.loc[6, "benchmark_value"] = -0.0
    peak = frame.portfolio_value.cummax()
    frame["drawdown"] = (peak - frame.portfolio_value) / peak
    result = series.write_equity(db, run, None, as_kind(frame, kind))
    assert result.written and result.row_count == 3000
    assert result.batch.first_ts == T0 and result.batch.last_ts == T0 + timedelta(minutes=2999)
    back = series.read_equity(db, run)
    assert back.ts.dt.tz is not None
    assert (back.ts.to_numpy() == frame.ts.to_numpy()).all()
    for column in ("portfolio_value", "benchmark_value", "drawdown"):
        got, want = back[column].to_numpy(), frame[column].to_numpy()
        assert got.view(np.uint64).tolist() == want.view(np.uint64).tolist(), column


def test_every_input_kind_gives_the_same_batch_key(db: Database, run: Run) -> None:
    frame = curve(500, seed=2)
    first = series.write_equity(db, run, None, frame)
    for kind in KINDS[1:]:
        again = series.write_equity(db, run, None, as_kind(frame, kind))
        assert not again.written, kind
        assert again.batch == first.batch, kind


@pytest.mark.parametrize("kind", ["frame", "arrow", "records", "generator"])
def test_trades_round_trip_with_seq_pnl_and_metadata(
        db: Database, run: Run, model: Model, kind: str) -> None:
    frame = trades(1000, seed=3)
    data = as_kind(frame, kind)
    result = series.write_trades(db, run, model, data)
    assert result.written and result.row_count == 1000
    back = series.read_trades(db, run, model)
    assert back.seq.tolist() == list(range(1000))
    assert (back.ts.to_numpy() == frame.ts.to_numpy()).all()
    assert back.asset.tolist() == frame.asset.tolist()
    assert back.action.tolist() == frame.action.tolist()
    for column in ("price", "quantity"):
        assert back[column].to_numpy().view(np.uint64).tolist() == \
            frame[column].to_numpy().view(np.uint64).tolist()
    want_pnl = frame.pnl.to_numpy(dtype=float, na_value=np.nan)
    assert np.array_equal(back.pnl.to_numpy(), want_pnl, equal_nan=True)
    assert back.metadata.tolist() == frame.metadata.tolist()
    assert series.read_trades(db, run).empty  # the run's own log is another series


def test_trade_seq_continues_after_the_stored_log_and_given_seq_is_kept(
        db: Database, run: Run) -> None:
    series.write_trades(db, run, None, trades(10))
    series.write_trades(db, run, None, trades(5, seed=9, start=T0 + timedelta(days=1)))
    assert series.read_trades(db, run).seq.tolist() == list(range(15))
    given = trades(3, seed=4, start=T0 + timedelta(days=2))
    given.insert(0, "seq", [100, 205, 300])
    series.write_trades(db, run, None, given)
    series.write_trades(db, run, None, trades(2, seed=5, start=T0 + timedelta(days=3)))
    assert series.read_trades(db, run).seq.tolist()[-5:] == [100, 205, 300, 301, 302]
    with pytest.raises(AlreadyExists):  # seq 100 is taken
        series.write_trades(db, run, None, given.assign(ts=given.ts + timedelta(days=9)))


def test_drawdown_is_computed_from_the_running_peak_across_batches(db: Database, run: Run) -> None:
    values = [100.0, 110.0, 99.0, 120.0, 60.0]
    stamps = [T0 + timedelta(hours=i) for i in range(5)]
    series.write_equity(db, run, None, {"ts": pd.DatetimeIndex(stamps[:3]),
                                        "portfolio_value": np.array(values[:3])})
    # The second batch starts below the first batch's peak of 110.
    series.write_equity(db, run, None, [(stamps[3], values[3]), (stamps[4], values[4])])
    back = series.read_equity(db, run)
    assert back.drawdown.tolist() == [0.0, 0.0, (110 - 99) / 110, 0.0, (120 - 60) / 120]


def test_given_drawdown_is_checked_within_its_tolerance_and_stored_as_given(
        db: Database, run: Run) -> None:
    frame = curve(100, seed=6, benchmark=False)
    peak = frame.portfolio_value.cummax()
    exact = ((peak - frame.portfolio_value) / peak).to_numpy()
    nudged = exact + DRAWDOWN_ATOL / 2 + DRAWDOWN_RTOL / 2 * exact
    series.write_equity(db, run, None, frame.assign(drawdown=nudged))
    stored = series.read_equity(db, run).drawdown.to_numpy()
    assert stored.view(np.uint64).tolist() == nudged.view(np.uint64).tolist()

    wrong = exact.copy()
    wrong[40] += 1e-3
    with pytest.raises(InvalidSeriesRow) as info:
        # Earlier than the stored points, so its running peak starts afresh.
        series.write_equity(db, run, None, frame.assign(drawdown=wrong, ts=frame.ts - timedelta(days=1)))
    assert (info.value.field, info.value.row) == ("drawdown", 40)
    percent = frame.assign(drawdown=exact * 100, ts=frame.ts - timedelta(days=2))
    with pytest.raises(InvalidSeriesRow, match="running peak gives"):
        series.write_equity(db, run, None, percent)


def test_partially_missing_drawdown_and_benchmark(db: Database, run: Run) -> None:
    frame = curve(6, benchmark=False)
    frame["benchmark_value"] = pd.array([1.0, None, 3.0, None, None, 6.0], dtype="Float64")
    peak = frame.portfolio_value.cummax()
    expected = ((peak - frame.portfolio_value) / peak).to_numpy()
    frame["drawdown"] = pd.array([expected[0], None, expected[2], None, None, None], dtype="Float64")
    series.write_equity(db, run, None, frame)
    back = series.read_equity(db, run)
    assert np.array_equal(back.benchmark_value.to_numpy(), [1.0, np.nan, 3.0, np.nan, np.nan, 6.0],
                          equal_nan=True)
    assert np.allclose(back.drawdown.to_numpy(), expected, rtol=0, atol=1e-15)
    arrow = series.read_equity_arrow(db, run)
    assert arrow.column("benchmark_value").null_count == 3
    assert arrow.column("drawdown").null_count == 0


# -- once ----------------------------------------------------------------------------------


def test_a_second_write_of_the_same_batch_writes_nothing(
        db: Database, run: Run, count: Callable[[str], int]) -> None:
    frame = trades(200)
    first = series.write_trades(db, run, None, frame)
    again = series.write_trades(db, run, None, as_kind(frame, "generator"))
    assert (first.written, again.written) == (True, False)
    assert again.batch == first.batch
    assert count("trade_logs") == 200 and count("series_batches") == 1
    assert first.batch.batch_key == f"sha256:{first.batch.checksum}"
    assert series.batches(db, run) == [first.batch]


def test_a_caller_key_is_reused_only_for_the_same_content(
        db: Database, run: Run, count: Callable[[str], int]) -> None:
    frame = curve(100)
    first = series.write_equity(db, run, None, frame, batch_key="backtest-7/part-1")
    assert first.batch.batch_key == "backtest-7/part-1"
    assert not series.write_equity(db, run, None, as_kind(frame, "generator"),
                                   batch_key="backtest-7/part-1").written
    other = curve(100, seed=99, start=T0 + timedelta(days=30))
    for data in (other, as_kind(other, "generator")):
        with pytest.raises(AlreadyExists, match="written with other content"):
            series.write_equity(db, run, None, data, batch_key="backtest-7/part-1")
    assert count("equity_curves") == 100
    second = series.write_equity(db, run, None, other, batch_key="backtest-7/part-2")
    assert second.written and count("equity_curves") == 200


def test_an_overlapping_batch_is_refused_whole(db: Database, run: Run,
                                               count: Callable[[str], int]) -> None:
    series.write_equity(db, run, None, curve(100))
    overlapping = curve(100, seed=5, start=T0 + timedelta(minutes=50))
    for data in (overlapping, as_kind(overlapping, "generator")):
        with pytest.raises(AlreadyExists):
            series.write_equity(db, run, None, data)
    assert count("equity_curves") == 100 and count("series_batches") == 1


def test_a_bad_row_late_in_a_stream_leaves_nothing_behind(
        db: Database, run: Run, count: Callable[[str], int], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "CHUNK_ROWS", 1000)

    def points() -> Iterator[tuple[datetime, float]]:
        for i in range(5000):
            yield T0 + timedelta(seconds=i), (float("nan") if i == 4321 else 100.0 + i)

    with pytest.raises(InvalidSeriesRow) as info:
        series.write_equity(db, run, None, points())
    assert (info.value.field, info.value.row) == ("portfolio_value", 4321)
    assert count("equity_curves") == 0 and count("series_batches") == 0


# -- foreign keys: one check per call ---------------------------------------------------------


def test_missing_run_or_model_is_refused_before_any_row(
        db: Database, run: Run, count: Callable[[str], int]) -> None:
    with pytest.raises(ReferenceNotFound, match=r"equity_curves\.run_id"):
        series.write_equity(db, MISSING, None, curve(10))
    with pytest.raises(ReferenceNotFound, match=r"trade_logs\.model_id"):
        series.write_trades(db, run, MISSING, trades(10))
    assert count("equity_curves") == count("trade_logs") == count("series_batches") == 0


@pytest.mark.parametrize("skip", [True, False], ids=["one-check", "per-row-triggers"])
def test_the_run_is_locked_and_the_session_is_restored(
        db: Database, db_url: str, run: Run, skip: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest, "may_skip_foreign_keys", lambda _db, _conn: skip)
    with db.transaction() as conn, psycopg.connect(db_url, autocommit=True) as other:
        series.write_equity(db, run, None, curve(50))
        # Back to normal for the rest of the caller's transaction.
        assert conn.execute("select current_setting('session_replication_role')").fetchone() == ("origin",)
        other.execute("set lock_timeout = '200ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):
            other.execute("delete from runs where id = %s", (run.id,))
    assert len(series.read_equity(db, run)) == 50


def test_the_foreign_key_shortcut_is_taken_when_allowed(db: Database, run: Run,
                                                        conn: psycopg.Connection) -> None:
    superuser = conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()[0]
    with db.connection() as c:
        assert ingest.may_skip_foreign_keys(db, c) is superuser


def test_series_tables_have_no_triggers_but_their_foreign_keys(conn: psycopg.Connection) -> None:
    # The one-check path turns triggers off for the copy; a new trigger on these tables
    # would silently not run there. Adding one must come with a decision about that.
    rows = conn.execute(
        """select c.relname, t.tgname, t.tgisinternal, t.tgfoid::regproc::text
             from pg_trigger t join pg_class c on c.oid = t.tgrelid
            where c.relname in ('equity_curves', 'trade_logs')""").fetchall()
    assert rows, "expected the foreign-key triggers"
    assert all(internal and proc.startswith("\"RI_FKey_check") for _, _, internal, proc in rows), rows


def test_a_write_creates_the_runs_month_partition_first(
        db: Database, conn: psycopg.Connection, experiment: Any) -> None:
    made = datetime(2023, 6, 15, tzinfo=UTC)
    run_id = conn.execute("insert into runs (id, experiment_id) values (uuid_v7(%s), %s) returning id",
                          (made, experiment.id)).fetchone()[0]
    assert conn.execute("select to_regclass('equity_curves_p202306')").fetchone() == (None,)
    series.write_equity(db, run_id, None, curve(20))
    assert conn.execute("select count(*) from equity_curves_p202306").fetchone() == (20,)
    assert conn.execute("select count(*) from equity_curves_default").fetchone() == (0,)


def test_empty_input_records_an_empty_batch(db: Database, run: Run, count: Callable[[str], int]) -> None:
    result = series.write_equity(db, run, None, curve(0))
    assert result.row_count == 0 and result.batch.first_ts is None
    assert not series.write_equity(db, run, None, iter(())).written
    assert count("equity_curves") == 0


@pytest.fixture
def writer_url(db: Database, db_url: str) -> Iterator[str]:
    """A login in the writer group (no superuser, no DDL right) for this test alone."""
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    from resultsdb.repositories import roles

    prefix = f"rdbs_{uuid.uuid4().hex[:10]}"
    roles.ensure_roles(db, prefix=prefix, login=f"{prefix}_w", group="writer", password="s3ries-Writer!")
    yield make_conninfo(db_url, user=f"{prefix}_w", password="s3ries-Writer!")
    with psycopg.connect(db_url, autocommit=True) as c:
        made = [r[0] for r in c.execute("select rolname from pg_roles where rolname like %s", [f"{prefix}%"])]
        made.sort(key=lambda r: r.endswith("_owner"))
        for role in made:
            c.execute(sql.SQL("reassign owned by {} to current_user").format(sql.Identifier(role)))
            c.execute(sql.SQL("drop owned by {}").format(sql.Identifier(role)))
        for role in made:
            c.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


def test_a_writer_role_writes_with_per_row_checks_and_without_ddl(
        writer_url: str, conn: psycopg.Connection, experiment: Any) -> None:
    made = datetime(2023, 2, 10, tzinfo=UTC)  # a month with no partition yet
    run_id = conn.execute("insert into runs (id, experiment_id) values (uuid_v7(%s), %s) returning id",
                          (made, experiment.id)).fetchone()[0]
    with Database(url=writer_url) as db:
        with db.connection() as c:
            assert ingest.may_skip_foreign_keys(db, c) is False
        result = series.write_equity(db, run_id, None, curve(300))
        assert result.written and len(series.read_equity(db, run_id)) == 300
        with pytest.raises(ReferenceNotFound):
            series.write_trades(db, MISSING, None, trades(3))
    # It could not create February 2023: the rows wait in DEFAULT for maintenance.
    assert conn.execute("select to_regclass('equity_curves_p202302')").fetchone() == (None,)
    assert conn.execute("select count(*) from equity_curves_default").fetchone() == (300,)


@pytest.mark.parametrize("kind", ["equity", "trades"])
def test_concurrent_writes_of_one_batch_store_it_once(
        db: Database, run: Run, count: Callable[[str], int], kind: str) -> None:
    import threading

    data = curve(20_000) if kind == "equity" else trades(20_000)
    write = series.write_equity if kind == "equity" else series.write_trades
    start = threading.Barrier(2)
    outcomes: list[Any] = []

    def go() -> None:
        start.wait()
        try:
            outcomes.append(write(db, run, None, data))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcomes.append(exc)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(o.written for o in outcomes) == [False, True], outcomes
    assert outcomes[0].batch == outcomes[1].batch
    table = "equity_curves" if kind == "equity" else "trade_logs"
    assert count(table) == 20_000 and count("series_batches") == 1
