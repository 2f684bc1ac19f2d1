"""The rules of each series, checked chunk by chunk, and each batch's content checksum.

A :class:`Batch` reads the chunks of one write in order. :meth:`Batch.check` turns a
raw chunk into validated arrays, keeps what must hold *across* chunks (time order,
seq order) and feeds the content checksum; :meth:`Batch.fields` adds what the
database decides (the drawdown's running peak from stored points, the next trade
seq) and returns the columns to encode.

Equity curve rules: ``ts`` timezone-aware and strictly increasing (so unique: a
series has one point per timestamp; unsorted input is refused, not sorted, because
a stream cannot be sorted without holding it whole), ``portfolio_value`` finite,
``benchmark_value`` finite or missing, ``drawdown`` finite, >= 0 and within
``DRAWDOWN_ATOL + DRAWDOWN_RTOL * expected`` of the drawdown from the running peak,
or computed from it when missing. Trade log rules: ``ts`` aware and non-decreasing
(a rebalance trades several assets at one instant), ``seq`` >= 0 and strictly
increasing when given, ``asset`` 1-64 characters, ``action`` buy/sell/short/cover,
``price`` and ``quantity`` finite and > 0, ``pnl`` finite or missing, ``fee`` and
``slippage`` finite and >= 0 or missing, ``metadata`` a JSON object or missing.

The checksum is the sha256 of what the caller gave, column by column, before the
drawdown or seq were filled in; it does not depend on how the input was chunked or
which kind of container it came in. A missing nullable column and one that is all
NULL give the same checksum. ``fee`` and ``slippage`` (added by migration 0013) enter it
only when some row has one, so a batch without costs keeps the checksum, and the
default batch key, it had before they existed: written again, it is still recognised.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, get_args
from uuid import UUID

import numpy as np

from resultsdb.records import SeriesKind, TradeAction
from resultsdb.series import columns as col
from resultsdb.series.copybin import Field, Kind, Text
from resultsdb.series.sources import Chunk, Layout

DRAWDOWN_ATOL = 1e-9
DRAWDOWN_RTOL = 1e-6
ACTIONS = frozenset(get_args(TradeAction))  # the records' literal; SQL's CHECK is tested against it

EQUITY = Layout(
    table="equity_curves",
    columns=("ts", "portfolio_value", "benchmark_value", "drawdown"),
    required=("ts", "portfolio_value"),
    positional=("ts", "portfolio_value", "benchmark_value", "drawdown"),
)
TRADES = Layout(
    table="trade_logs",
    columns=("seq", "ts", "asset", "action", "price", "quantity", "pnl", "fee", "slippage",
             "metadata"),
    required=("ts", "asset", "action", "price", "quantity"),
    # fee and slippage last: tuples written before they existed keep their meaning.
    positional=("ts", "asset", "action", "price", "quantity", "pnl", "metadata", "fee",
                "slippage"),
)


class ContentHash:
    """sha256 per column stream, combined: the same rows give the same digest however chunked."""

    def __init__(self, kind: SeriesKind, optional: frozenset[str] = frozenset()) -> None:
        self.kind = kind
        self._streams: dict[str, Any] = {}
        # Columns that enter the digest only once some row had a value (see the module doc).
        self._optional = optional
        self._used: set[str] = set()

    def update(self, name: str, data: np.ndarray | bytes) -> None:
        stream = self._streams.setdefault(name, hashlib.sha256())
        if isinstance(data, np.ndarray):
            # Fixed little-endian bytes, so the digest is the same on every platform.
            data = np.ascontiguousarray(data, dtype=data.dtype.newbyteorder("<")).tobytes()
        stream.update(data)

    def nullable(self, name: str, values: np.ndarray | None, nulls: np.ndarray | None, n: int,
                 dtype: str) -> None:
        mask = np.ones(n, np.uint8) if values is None else (
            np.zeros(n, np.uint8) if nulls is None else nulls.astype(np.uint8))
        if values is not None:
            self._used.add(name)
        self.update(name + ".null", mask)
        data = np.zeros(n, dtype) if values is None else (
            values if nulls is None else np.where(nulls, 0, values)).astype(dtype)
        self.update(name, data)

    def text(self, name: str, text: Text | None, nulls: np.ndarray | None, n: int) -> None:
        """A text column: NULL mask, byte lengths (0 for NULL) and the bytes, as streams."""
        self.update(name + ".null", np.ones(n, np.uint8) if text is None else (
            np.zeros(n, np.uint8) if nulls is None else nulls.astype(np.uint8)))
        lengths = np.zeros(n, np.int64) if text is None else (
            text.lengths if nulls is None else np.where(nulls, 0, text.lengths))
        self.update(name + ".len", lengths.astype("<i8"))
        if text is not None:
            self.update(name, text.data if nulls is None else text.data[np.repeat(~nulls, text.lengths)])

    def hexdigest(self) -> str:
        combined = hashlib.sha256(f"resultsdb.series/{self.kind}/1".encode())
        skipped = {f"{name}{part}" for name in self._optional - self._used for part in ("", ".null")}
        for name in sorted(self._streams.keys() - skipped):
            combined.update(name.encode() + b"\0" + self._streams[name].digest())
        return combined.hexdigest()


@dataclass(frozen=True)
class Checked:
    """One validated chunk: rows ``start`` .. of the input, arrays per column."""

    start: int
    n: int
    ts: np.ndarray  # unix microseconds
    values: dict[str, Any]


class Batch:
    """The chunks of one write, in order: rules across chunks, counts, span and checksum."""

    layout: Layout
    kind: SeriesKind

    optional: frozenset[str] = frozenset()

    def __init__(self) -> None:
        self.hash = ContentHash(self.kind, self.optional)
        self.rows = 0
        self.first_ts: int | None = None
        self.last_ts: int | None = None

    def where(self, column: str, chunk: Chunk) -> col.Where:
        return col.Where(self.layout.table, column, chunk.start)

    def check(self, chunk: Chunk) -> Checked:
        checked = self._check(chunk)
        if checked.n:
            if self.first_ts is None:
                self.first_ts = int(checked.ts[0])
            self.last_ts = int(checked.ts[-1])
        self.rows += checked.n
        return checked

    def _check(self, chunk: Chunk) -> Checked:
        raise NotImplementedError

    def fields(self, checked: Checked, run_id: UUID, model_id: UUID | None) -> list[Field]:
        """The columns to encode for a checked chunk, with what the database decides filled in."""
        raise NotImplementedError

    def _ordered(self, values: np.ndarray, previous: int | None, where: col.Where, *,
                 strict: bool, what: str) -> None:
        joined = values if previous is None else np.concatenate(([previous], values))
        step = np.diff(joined)
        bad = step <= 0 if strict else step < 0
        if bad.any():
            i = int(np.argmax(bad)) + (0 if previous is None else -1) + 1
            rule = "strictly increasing (one row per timestamp)" if strict else "non-decreasing"
            raise where.fail(i, f"{what} must be {rule}: this row is "
                                f"{'not after' if strict else 'before'} the row before it")

    def nullable_floats(self, chunk: Chunk, name: str, *, nonnegative: str | None = None
                        ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """A nullable float column (None, None when missing or all NULL); ``nonnegative``
        is the message for a value < 0, which is then refused."""
        if name not in chunk.columns:
            return None, None
        values, nulls = col.floats(chunk.columns[name], self.where(name, chunk), nullable=True)
        if nulls is not None and nulls.all():
            return None, None
        if nonnegative is not None:
            negative = values < 0 if nulls is None else (values < 0) & ~nulls
            self.where(name, chunk).first(negative, nonnegative)
        return values, nulls


class EquityBatch(Batch):
    layout = EQUITY
    kind = "equity"

    def __init__(self) -> None:
        super().__init__()
        self.peak: float | None = None  # running peak of portfolio_value, set by start()

    def _check(self, chunk: Chunk) -> Checked:
        c = chunk.columns
        ts = col.timestamps(c["ts"], self.where("ts", chunk))
        self._ordered(ts, self.last_ts, self.where("ts", chunk), strict=True, what="ts")
        value, _ = col.floats(c["portfolio_value"], self.where("portfolio_value", chunk), nullable=False)
        benchmark = self.nullable_floats(chunk, "benchmark_value")
        drawdown = self.nullable_floats(chunk, "drawdown",
                                        nonnegative="must be >= 0 (a fraction below the peak)")
        h, n = self.hash, chunk.length
        h.update("ts", ts.astype("<i8"))
        h.update("portfolio_value", value.astype("<f8"))
        h.nullable("benchmark_value", *benchmark, n, "<f8")
        h.nullable("drawdown", *drawdown, n, "<f8")
        return Checked(chunk.start, n, ts, {"portfolio_value": value, "benchmark_value": benchmark,
                                            "drawdown": drawdown})

    def fields(self, checked: Checked, run_id: UUID, model_id: UUID | None) -> list[Field]:
        value = checked.values["portfolio_value"]
        benchmark, benchmark_nulls = checked.values["benchmark_value"]
        drawdown = self._drawdown(checked, value, *checked.values["drawdown"])
        return [
            Field.uuid(run_id), Field.uuid(model_id),
            Field(Kind.TIMESTAMPTZ, checked.ts),
            Field(Kind.FLOAT8, value),
            Field(Kind.FLOAT8, benchmark, benchmark_nulls),
            Field(Kind.FLOAT8, drawdown),
        ]

    def _drawdown(self, checked: Checked, value: np.ndarray, given: np.ndarray | None,
                  nulls: np.ndarray | None) -> np.ndarray:
        peak = np.maximum.accumulate(value)
        if self.peak is not None:
            peak = np.maximum(peak, self.peak)
        where = col.Where(EQUITY.table, "portfolio_value", checked.start)
        where.first(peak <= 0, "the running peak must be > 0 to compute a drawdown "
                               "(pass drawdown for a curve that is not positive)")
        if len(peak):
            self.peak = float(peak[-1])
        expected: np.ndarray = (peak - value) / peak
        if given is None:
            return expected
        off = np.abs(given - expected) > DRAWDOWN_ATOL + DRAWDOWN_RTOL * expected
        if nulls is not None:
            off &= ~nulls
        if off.any():
            i = int(np.argmax(off))
            raise col.Where(EQUITY.table, "drawdown", checked.start).fail(
                i, f"is {given[i]!r}, but portfolio_value's running peak gives {expected[i]!r} "
                   f"(tolerance {DRAWDOWN_ATOL:g} + {DRAWDOWN_RTOL:g} x expected)")
        # Stored as given, bit for bit; computed only where the caller left it out.
        stored: np.ndarray = given if nulls is None else np.where(nulls, expected, given)
        return stored


class TradeBatch(Batch):
    layout = TRADES
    kind = "trades"
    optional = frozenset({"fee", "slippage"})

    def __init__(self) -> None:
        super().__init__()
        self.last_seq: int | None = None
        self.seq_given: bool | None = None
        self.next_seq = 0  # the first seq to assign, set by the writer from the stored log

    def _check(self, chunk: Chunk) -> Checked:
        c = chunk.columns
        ts = col.timestamps(c["ts"], self.where("ts", chunk))
        self._ordered(ts, self.last_ts, self.where("ts", chunk), strict=False, what="ts")
        seq = None
        if "seq" in c:
            if self.seq_given is False:
                raise self.where("seq", chunk).fail(0, "given here but not in the rows before")
            where = self.where("seq", chunk)
            seq = col.integers(c["seq"], where)
            where.first(seq < 0, "must be >= 0")
            self._ordered(seq, self.last_seq, where, strict=True, what="seq")
            if len(seq):
                self.last_seq = int(seq[-1])
        elif self.seq_given:
            raise self.where("seq", chunk).fail(0, "missing here but given in the rows before")
        self.seq_given = seq is not None
        asset = col.texts(c["asset"], self.where("asset", chunk), min_chars=1, max_chars=64)
        action = col.texts(c["action"], self.where("action", chunk), min_chars=1, max_chars=8)
        col.allowed(action, ACTIONS, self.where("action", chunk))
        price, _ = col.floats(c["price"], self.where("price", chunk), nullable=False)
        quantity, _ = col.floats(c["quantity"], self.where("quantity", chunk), nullable=False)
        self.where("price", chunk).first(price <= 0, "must be > 0")
        self.where("quantity", chunk).first(quantity <= 0, "must be > 0")
        pnl = self.nullable_floats(chunk, "pnl")
        fee = self.nullable_floats(chunk, "fee", nonnegative="must be >= 0 (a cost)")
        slippage = self.nullable_floats(chunk, "slippage", nonnegative="must be >= 0 (a cost)")
        metadata: tuple[Text | None, np.ndarray | None] = (None, None)
        if "metadata" in c:
            text, nulls = col.json_objects(c["metadata"], self.where("metadata", chunk))
            metadata = (None, None) if nulls is not None and nulls.all() else (text, nulls)
        asset_text, action_text = Text.from_arrow(asset), Text.from_arrow(action)
        h, n = self.hash, chunk.length
        h.update("ts", ts.astype("<i8"))
        h.update("seq" if seq is not None else "seq.auto", b"" if seq is None else seq.astype("<i8"))
        h.text("asset", asset_text, None, n)
        h.text("action", action_text, None, n)
        h.update("price", price.astype("<f8"))
        h.update("quantity", quantity.astype("<f8"))
        h.nullable("pnl", *pnl, n, "<f8")
        h.nullable("fee", *fee, n, "<f8")
        h.nullable("slippage", *slippage, n, "<f8")
        h.text("metadata", *metadata, n)
        return Checked(chunk.start, n, ts, {"seq": seq, "asset": asset_text, "action": action_text,
                                            "price": price, "quantity": quantity, "pnl": pnl,
                                            "fee": fee, "slippage": slippage, "metadata": metadata})

    def fields(self, checked: Checked, run_id: UUID, model_id: UUID | None) -> list[Field]:
        v = checked.values
        seq = v["seq"]
        if seq is None:
            seq = np.arange(checked.start, checked.start + checked.n, dtype=np.int64) + self.next_seq
        metadata, metadata_nulls = v["metadata"]
        return [
            Field.uuid(run_id), Field.uuid(model_id),
            Field(Kind.INT8, seq),
            Field(Kind.TIMESTAMPTZ, checked.ts),
            Field(Kind.TEXT, v["asset"]),
            Field(Kind.TEXT, v["action"]),
            Field(Kind.FLOAT8, v["price"]),
            Field(Kind.FLOAT8, v["quantity"]),
            Field(Kind.FLOAT8, *v["pnl"]),
            Field(Kind.FLOAT8, *v["fee"]),
            Field(Kind.FLOAT8, *v["slippage"]),
            Field(Kind.JSONB, metadata, metadata_nulls),
        ]
