"""Validation before anything is written: each bad value is an InvalidSeriesRow naming the
column and the first bad row, from every kind of input, and the tables stay empty."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from resultsdb import series
from resultsdb.db import Database
from resultsdb.errors import InvalidInput, InvalidSeriesRow
from resultsdb.records import Run
from tests.series.conftest import T0, curve, trades


def stamps(n: int) -> list[datetime]:
    return [T0 + timedelta(minutes=i) for i in range(n)]


def equity_rows(n: int = 6, **columns: list[Any]) -> dict[str, list[Any]]:
    rows: dict[str, list[Any]] = {"ts": stamps(n), "portfolio_value": [100.0 + i for i in range(n)]}
    rows.update(columns)
    return rows


def trade_rows(n: int = 6, **columns: list[Any]) -> dict[str, list[Any]]:
    rows: dict[str, list[Any]] = {"ts": stamps(n), "asset": ["BTC"] * n, "action": ["buy"] * n,
                                  "price": [10.0] * n, "quantity": [1.0] * n}
    rows.update(columns)
    return rows


def records(columns: dict[str, list[Any]]) -> list[dict[str, Any]]:
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def replaced(values: list[Any], at: int, value: Any) -> list[Any]:
    out = list(values)
    out[at] = value
    return out


@pytest.fixture
def nothing_written(count: Callable[[str], int]) -> Callable[[], None]:
    def check() -> None:
        assert count("equity_curves") == count("trade_logs") == count("series_batches") == 0
    return check


EQUITY_CASES = [
    ("ts", 3, "strictly increasing", {"ts": replaced(stamps(6), 3, stamps(6)[2])}),
    ("ts", 4, "strictly increasing", {"ts": replaced(stamps(6), 4, T0 - timedelta(days=1))}),
    ("ts", 2, "timezone-aware", {"ts": replaced(stamps(6), 2, datetime(2024, 1, 1, 0, 2))}),
    ("ts", 1, "must not be null", {"ts": replaced(stamps(6), 1, None)}),
    ("portfolio_value", 5, "finite", {"portfolio_value": replaced([1.0] * 6, 5, float("nan"))}),
    ("portfolio_value", 0, "finite", {"portfolio_value": replaced([1.0] * 6, 0, float("inf"))}),
    # A DataFrame turns None into NaN in a float column: refused either way.
    ("portfolio_value", 2, "must not be null|finite", {"portfolio_value": replaced([1.0] * 6, 2, None)}),
    ("portfolio_value", 3, "must be numbers, not str", {"portfolio_value": replaced([1.0] * 6, 3, "7")}),
    ("portfolio_value", 1, "not bool", {"portfolio_value": replaced([1.0] * 6, 1, True)}),
    ("benchmark_value", 4, "use None or pd.NA", {"benchmark_value": replaced([1.0] * 6, 4, float("nan"))}),
    ("drawdown", 2, ">= 0", {"drawdown": replaced([0.0] * 6, 2, -0.5)}),
    ("drawdown", 3, "running peak gives", {"drawdown": replaced([0.0] * 6, 3, 0.25)}),
]


@pytest.mark.parametrize("kind", ["records", "dict", "frame"])
@pytest.mark.parametrize(("column", "row", "message", "change"), EQUITY_CASES,
                         ids=[f"{c[0]}-{c[2]}" for c in EQUITY_CASES])
def test_bad_equity_values_name_column_and_first_bad_row(
        db: Database, run: Run, nothing_written: Callable[[], None], kind: str, column: str, row: int,
        message: str, change: dict[str, list[Any]]) -> None:
    columns = equity_rows(**change)
    data: Any = records(columns) if kind == "records" else (
        columns if kind == "dict" else pd.DataFrame(columns))
    with pytest.raises(InvalidSeriesRow, match=message) as info:
        series.write_equity(db, run, None, data)
    assert (info.value.field, info.value.row, info.value.table) == (column, row, "equity_curves")
    assert f"equity_curves.{column}: row {row}:" in str(info.value)
    nothing_written()


TRADE_CASES = [
    ("price", 2, "must be > 0", {"price": replaced([1.0] * 6, 2, 0.0)}),
    ("price", 4, "must be > 0", {"price": replaced([1.0] * 6, 4, -3.0)}),
    ("quantity", 1, "must be > 0", {"quantity": replaced([1.0] * 6, 1, 0.0)}),
    ("quantity", 5, "finite", {"quantity": replaced([1.0] * 6, 5, float("inf"))}),
    ("action", 3, "must be one of buy, cover, sell, short, not 'hold'",
     {"action": replaced(["buy"] * 6, 3, "hold")}),
    ("action", 0, "must not be null", {"action": replaced(["buy"] * 6, 0, None)}),
    ("asset", 2, "at least 1", {"asset": replaced(["X"] * 6, 2, "")}),
    ("asset", 1, "at most 64", {"asset": replaced(["X"] * 6, 1, "é" * 65)}),
    ("asset", 4, "NUL", {"asset": replaced(["X"] * 6, 4, "a\x00b")}),
    ("ts", 3, "non-decreasing", {"ts": replaced(stamps(6), 3, T0 - timedelta(hours=1))}),
    ("seq", 2, "strictly increasing", {"seq": [0, 1, 1, 2, 3, 4]}),
    ("seq", 0, ">= 0", {"seq": [-1, 0, 1, 2, 3, 4]}),
    ("seq", 3, "must be integers, not float", {"seq": [0, 1, 2, 3.5, 4, 5]}),
    ("pnl", 5, "finite", {"pnl": replaced([None] * 6, 5, float("-inf"))}),
    ("metadata", 1, "JSON object", {"metadata": replaced([None] * 6, 1, [1, 2])}),
    ("metadata", 2, "finite", {"metadata": replaced([None] * 6, 2, {"x": float("nan")})}),
    ("metadata", 4, "not valid JSON", {"metadata": replaced([None] * 6, 4, "{oops")}),
]


@pytest.mark.parametrize("kind", ["records", "dict"])
@pytest.mark.parametrize(("column", "row", "message", "change"), TRADE_CASES,
                         ids=[f"{c[0]}-{c[2][:20]}" for c in TRADE_CASES])
def test_bad_trade_values_name_column_and_first_bad_row(
        db: Database, run: Run, nothing_written: Callable[[], None], kind: str, column: str, row: int,
        message: str, change: dict[str, list[Any]]) -> None:
    columns = trade_rows(**change)
    data = records(columns) if kind == "records" else columns
    with pytest.raises(InvalidSeriesRow, match=message) as info:
        series.write_trades(db, run, None, data)
    assert (info.value.field, info.value.row, info.value.table) == (column, row, "trade_logs")
    nothing_written()


def test_naive_timestamps_are_refused_from_every_container(
        db: Database, run: Run, nothing_written: Callable[[], None]) -> None:
    naive = pd.date_range("2024-01-01", periods=3, freq="h")
    values = np.array([1.0, 2.0, 3.0])
    cases: list[Any] = [
        pd.DataFrame({"ts": naive, "portfolio_value": values}),
        pd.DataFrame({"portfolio_value": values}, index=naive),
        {"ts": naive.to_numpy(), "portfolio_value": values},  # numpy datetime64 has no zone
        pa.table({"ts": pa.array(naive.to_numpy(), pa.timestamp("us")), "portfolio_value": values}),
        [(t.to_pydatetime(), v) for t, v in zip(naive, values, strict=True)],
    ]
    for data in cases:
        with pytest.raises(InvalidSeriesRow, match="timezone-aware") as info:
            series.write_equity(db, run, None, data)
        assert (info.value.field, info.value.row) == ("ts", 0)
    nothing_written()


def test_aware_times_in_any_zone_are_stored_as_the_same_instants(db: Database, run: Run) -> None:
    tokyo = timezone(timedelta(hours=9))
    local = [datetime(2024, 1, 1, 9, tzinfo=tokyo), datetime(2024, 1, 1, 10, tzinfo=tokyo)]
    series.write_equity(db, run, None, [(local[0], 1.0), (local[1], 2.0)])
    back = series.read_equity(db, run)
    assert back.ts.tolist() == [datetime(2024, 1, 1, 0, tzinfo=UTC), datetime(2024, 1, 1, 1, tzinfo=UTC)]
    frame = pd.DataFrame({"ts": pd.date_range("2024-03-09", periods=3, freq="D", tz="America/New_York"),
                          "portfolio_value": [1.0, 2.0, 3.0]})  # spans a DST change
    series.write_equity(db, run, None, frame)
    assert series.read_equity(db, run).ts.tolist()[2:] == list(frame.ts.dt.tz_convert("UTC"))


def test_nanoseconds_are_refused_not_truncated(db: Database, run: Run) -> None:
    ts = pd.DatetimeIndex([pd.Timestamp(T0), pd.Timestamp(T0) + pd.Timedelta(nanoseconds=1500)]).as_unit("ns")
    assert ts[1].nanosecond == 500
    with pytest.raises(InvalidSeriesRow, match="nanoseconds") as info:
        series.write_equity(db, run, None, {"ts": ts, "portfolio_value": np.ones(2)})
    assert info.value.row == 1


def test_a_late_bad_row_in_a_big_frame_is_found(db: Database, run: Run,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from resultsdb.series import sources

    monkeypatch.setattr(sources, "CHUNK_ROWS", 1000)
    frame = curve(10_000, benchmark=False)
    frame.loc[8765, "ts"] = frame.ts[8764]
    with pytest.raises(InvalidSeriesRow) as info:
        series.write_equity(db, run, None, frame)
    assert (info.value.field, info.value.row) == ("ts", 8765)
    bad = trades(10_000)
    bad.loc[7001, "ts"] = bad.ts[6000]  # order broken across a chunk boundary
    with pytest.raises(InvalidSeriesRow) as info:
        series.write_trades(db, run, None, bad)
    assert (info.value.field, info.value.row) == ("ts", 7001)


@pytest.mark.parametrize(("data", "message"), [
    ({"ts": stamps(2), "portfolio_value": [1.0, 2.0], "profit": [1, 2]}, r"equity_curves\.profit: unknown"),
    ({"ts": stamps(2)}, r"equity_curves\.portfolio_value: column is required"),
    ({"ts": stamps(2), "portfolio_value": [1.0]}, r"has 1 rows, ts has 2"),
    ([{"ts": T0, "portfolio_value": 1.0, "pv": 2}], r"equity_curves\.pv: row 0: unknown column"),
    ([(T0,)], r"row 0: expected a tuple of 2 to 4 values"),
    ([(T0, 1.0), (T0, 1.0, 2.0)], r"row 1: expected a tuple"),
    ([(T0, 1.0), {"ts": T0}], r"row 1: expected a tuple"),
    ([{"ts": T0, "portfolio_value": 1.0}, (T0, 1.0)], r"row 1: expected a mapping"),
    (42, "expected a DataFrame"),
    ("ts,value", "expected a DataFrame"),
])
def test_malformed_inputs_are_refused(db: Database, run: Run, data: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        series.write_equity(db, run, None, data)


def test_batch_key_is_checked(db: Database, run: Run) -> None:
    for key in ("", "x" * 256, "a\x00b"):
        with pytest.raises(InvalidInput, match="batch_key"):
            series.write_equity(db, run, None, curve(2), batch_key=key)
