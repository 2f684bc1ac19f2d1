"""Trade costs (migration 0013): fee and slippage go in from every kind of input, are checked
like the other numbers (finite, >= 0, numbers), come back from both reads, leave the checksum
of a batch without costs as it was, and survive archive and restore - also from an archive
made before the columns existed."""

from __future__ import annotations

import hashlib
import uuid
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from resultsdb import series
from resultsdb.db import Database
from resultsdb.errors import InvalidSeriesRow
from resultsdb.records import Experiment, Run
from resultsdb.series import arrow, copybin, sources
from resultsdb.series.validate import TradeBatch
from tests.series.conftest import T0, trades


def costly(n: int, seed: int = 0) -> pd.DataFrame:
    """trades(n) with a fee on most rows and slippage on some (the rest missing)."""
    rng = np.random.default_rng(seed)
    frame = trades(n, seed=seed)
    frame["fee"] = pd.array([None if i % 7 == 3 else float(rng.uniform(0, 2)) for i in range(n)],
                            dtype="Float64")
    frame["slippage"] = pd.array([float(rng.uniform(0, 1)) if i % 2 else None for i in range(n)],
                                 dtype="Float64")
    frame.loc[0, "fee"] = 0.0
    return frame


def as_kind(frame: pd.DataFrame, kind: str) -> Any:
    if kind == "frame":
        return frame
    if kind == "arrow":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pa.Table.from_pandas(frame, preserve_index=False)
    rows = [{k: (None if v is pd.NA else v.to_pydatetime() if isinstance(v, pd.Timestamp) else v)
             for k, v in zip(frame.columns, row, strict=True)} for row in frame.itertuples(index=False)]
    if kind == "records":
        return rows
    assert kind == "tuples"  # (ts, asset, action, price, quantity, pnl, metadata, fee, slippage)
    order = ("ts", "asset", "action", "price", "quantity", "pnl", "metadata", "fee", "slippage")
    return [tuple(r[c] for c in order) for r in rows]


def same_floats(got: Any, want: Any) -> bool:
    """Equal bit for bit where set, missing (NaN or null) at the same rows."""
    a = np.asarray(pd.array(got, dtype="Float64").to_numpy(dtype=float, na_value=np.nan))
    b = np.asarray(pd.array(want, dtype="Float64").to_numpy(dtype=float, na_value=np.nan))
    return bool(np.array_equal(np.isnan(a), np.isnan(b))
                and (a[~np.isnan(a)].view(np.uint64) == b[~np.isnan(b)].view(np.uint64)).all())


@pytest.mark.parametrize("kind", ["frame", "arrow", "records", "tuples"])
def test_fee_and_slippage_round_trip_from_every_input_kind(db: Database, run: Run, kind: str) -> None:
    frame = costly(300, seed=1)
    assert series.write_trades(db, run, None, as_kind(frame, kind)).row_count == 300
    back = series.read_trades(db, run)
    assert list(back.columns) == ["seq", "ts", "asset", "action", "price", "quantity", "pnl", "fee",
                                  "slippage", "metadata"]
    assert same_floats(back.fee, frame.fee) and same_floats(back.slippage, frame.slippage)
    assert same_floats(back.pnl, frame.pnl)
    assert back.metadata.tolist() == frame.metadata.tolist()
    table = series.read_trades_arrow(db, run)
    assert table.column("fee").null_count == frame.fee.isna().sum() > 0
    assert table.column("slippage").null_count == 150


def test_a_log_without_costs_reads_them_as_missing(db: Database, run: Run) -> None:
    series.write_trades(db, run, None, trades(20))
    back = series.read_trades(db, run)
    assert back.fee.isna().all() and back.slippage.isna().all()
    assert series.read_trades_arrow(db, run).column("fee").null_count == 20


def test_costs_enter_the_checksum_only_when_given(db: Database, run: Run) -> None:
    frame = trades(50, seed=2)

    def digest(data: pd.DataFrame) -> str:
        batch = TradeBatch()
        batch.check(next(sources.source(data, batch.layout).chunks()))
        return batch.hash.hexdigest()

    plain = digest(frame)
    # no fee column, an all-missing one, and the checksum a log written before 0013 got
    missing = pd.array([None] * 50, dtype="Float64")
    assert digest(frame.assign(fee=missing, slippage=missing)) == plain
    with_fee = frame.assign(fee=1.0)
    assert digest(with_fee) != plain
    assert digest(with_fee) != digest(frame.assign(slippage=1.0))
    # chunking does not change it, with costs only in a later chunk
    partial = frame.assign(fee=pd.array([None] * 40 + [0.5] * 10, dtype="Float64"))
    whole = digest(partial)
    batch = TradeBatch()
    for chunk in sources.source(partial, batch.layout).chunks(7):
        batch.check(chunk)
    assert batch.hash.hexdigest() == whole != plain
    # written again, a batch without costs is recognised by its key
    first = series.write_trades(db, run, None, frame)
    assert first.batch.batch_key == f"sha256:{plain}"
    assert not series.write_trades(db, run, None, frame.assign(fee=None)).written


BAD = [
    ("fee", 2, ">= 0", [0.0, 1.0, -0.5, 1.0, 1.0, 1.0]),
    ("slippage", 4, ">= 0", [None, None, None, None, -1e-300, None]),
    ("fee", 1, "finite", [0.0, float("nan"), 1.0, 1.0, 1.0, 1.0]),
    ("slippage", 5, "finite", [0.0, 0.0, 0.0, 0.0, 0.0, float("inf")]),
    ("fee", 3, "finite", [0.0, 0.0, 0.0, float("-inf"), 0.0, 0.0]),
    ("fee", 0, "must be numbers, not str", ["1.5", 0.0, 0.0, 0.0, 0.0, 0.0]),
    ("slippage", 2, "must be numbers, not bool", [0.0, 0.0, True, 0.0, 0.0, 0.0]),
    ("fee", 5, "must be numbers, not dict", [0.0, 0.0, 0.0, 0.0, 0.0, {"usd": 1}]),
]


@pytest.mark.parametrize("kind", ["records", "dict", "frame", "arrow"])
@pytest.mark.parametrize(("column", "row", "message", "values"), BAD,
                         ids=[f"{c}-{r}-{m[:16]}" for c, r, m, _ in BAD])
def test_bad_costs_are_refused_naming_the_column_and_row(
        db: Database, run: Run, count: Callable[[str], int], kind: str, column: str, row: int,
        message: str, values: list[Any]) -> None:
    columns: dict[str, Any] = {
        "ts": [T0 + timedelta(minutes=i) for i in range(6)], "asset": ["BTC"] * 6,
        "action": ["buy"] * 6, "price": [10.0] * 6, "quantity": [1.0] * 6, column: values}
    if kind == "records":
        data: Any = [dict(zip(columns, row_values, strict=True))
                     for row_values in zip(*columns.values(), strict=True)]
    elif kind == "dict":
        data = columns
    elif kind == "frame":
        # A missing value in a frame is pd.NA (a nullable Float64 column); NaN is a number.
        nullable = any(v is None for v in values) and all(isinstance(v, float) or v is None
                                                           for v in values)
        data = pd.DataFrame({**columns, column: pd.array(values, dtype="Float64") if nullable
                             else pd.Series(values, dtype=object if message.startswith("must be n")
                                            else float)})
    else:
        try:
            cost = pa.array(values)  # NaN stays NaN (not from_pandas)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pytest.skip("Arrow cannot hold these values in one column")
        if message.startswith("must be numbers") and pa.types.is_floating(cost.type):
            pytest.skip("Arrow made them numbers")
        data = pa.table({**{k: v for k, v in columns.items() if k not in ("ts", column)},
                         "ts": pa.array(columns["ts"], pa.timestamp("us", tz="UTC")), column: cost})
    with pytest.raises(InvalidSeriesRow, match=message) as info:
        series.write_trades(db, run, None, data)
    assert (info.value.field, info.value.row, info.value.table) == (column, row, "trade_logs")
    assert f"trade_logs.{column}: row {row}:" in str(info.value)
    assert count("trade_logs") == count("series_batches") == 0


def test_a_bad_cost_deep_in_a_stream_writes_nothing(
        db: Database, run: Run, count: Callable[[str], int], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "CHUNK_ROWS", 100)
    frame = costly(1000, seed=3)
    frame.loc[777, "slippage"] = -0.01
    rows = as_kind(frame, "records")
    with pytest.raises(InvalidSeriesRow) as info:
        series.write_trades(db, run, None, iter(rows))  # one-shot: checked chunk by chunk mid-COPY
    assert (info.value.field, info.value.row) == ("slippage", 777)
    assert count("trade_logs") == count("series_batches") == 0


# -- archive and restore ---------------------------------------------------------------------

MARCH = datetime(2024, 3, 15, tzinfo=UTC)


@pytest.fixture
def march_run(db: Database, conn: psycopg.Connection, experiment: Experiment) -> uuid.UUID:
    run_id = conn.execute("insert into runs (id, experiment_id) values (uuid_v7(%s), %s) returning id",
                          (MARCH, experiment.id)).fetchone()[0]
    series.write_trades(db, run_id, None, costly(500, seed=4))
    return run_id


def test_archive_and_restore_keep_the_costs(db: Database, march_run: uuid.UUID, tmp_path: Path) -> None:
    before = series.read_trades(db, march_run)
    done = series.archive(db, date_after(MARCH), tmp_path.as_uri())
    assert [(m.name, m.rows) for m in done if m.parent == "trade_logs"] == [("trade_logs_p202403", 500)]
    data = pq.read_table(tmp_path / next(m.data_file for m in done if m.parent == "trade_logs"))
    assert data.column_names[-2:] == ["fee", "slippage"] and data.column("fee").null_count > 0
    assert series.read_trades(db, march_run).empty
    series.restore(db, tmp_path.as_uri(), names=["trade_logs_p202403"])
    pd.testing.assert_frame_equal(series.read_trades(db, march_run), before)


def test_an_archive_made_before_0013_restores_with_unknown_costs(
        db: Database, march_run: uuid.UUID, tmp_path: Path) -> None:
    before = series.read_trades(db, march_run)
    done = series.archive(db, date_after(MARCH), tmp_path.as_uri())
    manifest = next(m for m in done if m.parent == "trade_logs")
    # Rewrite the file and the manifest as the release before 0013 made them: no cost columns,
    # and the checksum of the rows it copied out (ten columns).
    path = tmp_path / manifest.data_file
    legacy = pq.read_table(path).drop_columns(["fee", "slippage"])
    spec = arrow.LEGACY_TABLES["trade_logs"][0]
    assert legacy.schema == spec.schema
    legacy_checksum = hashlib.sha256(copybin.encode(
        arrow.from_arrow(legacy, spec), legacy.num_rows).data).hexdigest()
    pq.write_table(legacy, path)
    old = manifest.model_copy(update={"checksum": legacy_checksum})
    for stale in tmp_path.glob("trade_logs_p202403-*.json"):
        stale.unlink()
    (tmp_path / f"trade_logs_p202403-{legacy_checksum[:16]}.json").write_text(old.model_dump_json())

    series.restore(db, tmp_path.as_uri(), names=["trade_logs_p202403"])
    after = series.read_trades(db, march_run)
    assert after.fee.isna().all() and after.slippage.isna().all()
    pd.testing.assert_frame_equal(after.drop(columns=["fee", "slippage"]),
                                  before.drop(columns=["fee", "slippage"]))


def test_a_partition_made_after_0013_has_the_cost_columns_and_checks(
        db: Database, conn: psycopg.Connection, experiment: Experiment) -> None:
    """ensure_series_partition() copies the parent's columns and checks into a new month."""
    at = datetime(2031, 7, 1, tzinfo=UTC)
    run_id = conn.execute("insert into runs (id, experiment_id) values (uuid_v7(%s), %s) returning id",
                          (at, experiment.id)).fetchone()[0]
    series.write_trades(db, run_id, None, costly(10))
    checks = {r[0] for r in conn.execute(
        "select conname from pg_constraint where conrelid = 'trade_logs_p203107'::regclass")}
    assert {"trade_logs_fee_range", "trade_logs_slippage_range"} <= checks
    assert conn.execute("select count(fee) from trade_logs_p203107").fetchone()[0] > 0


def date_after(moment: datetime) -> datetime:
    """A moment after which month partitions of ``moment`` are archivable."""
    return datetime(moment.year, moment.month + 1, 1, tzinfo=UTC)
