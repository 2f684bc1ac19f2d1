"""The numpy COPY encoder and decoder agree with PostgreSQL byte for byte, on every path."""

from __future__ import annotations

import uuid

import numpy as np
import psycopg
import pyarrow as pa
import pytest

from resultsdb.series import copybin
from resultsdb.series.copybin import Field, Kind, Text
from resultsdb.series.copyout import CopyOut

N = 7
STAMPS = np.array([0, 1, -1, 946_684_800_000_000, 1_700_000_000_123_456, -2_000_000_000_000_000,
                   4_102_444_800_000_000], np.int64)
FLOATS = np.array([1.5, -0.0, 5e-324, 1.7976931348623157e308, -2.5, np.pi, 1e-300])
NULLS = np.array([False, True, False, False, True, False, True])
U = uuid.UUID("01900000-0000-7000-8000-0000000000ab")


def fields(kind: str) -> list[Field]:
    texts = Text.from_arrow(pa.array(["a", "héllo", "", "x" * 70, "tab\tand\nnewline", "ü", "z"]))
    docs = Text.from_arrow(pa.array(['{"a": 1}', None, "{}", '{"b": [1, 2]}', None, '{"é": "x"}', None]))
    base = [Field.uuid(U), Field.uuid(None), Field(Kind.INT8, np.arange(N, dtype=np.int64) * 1000 - 3),
            Field(Kind.TIMESTAMPTZ, STAMPS), Field(Kind.FLOAT8, FLOATS)]
    if kind == "fixed":
        return base
    if kind == "nulls":
        return [*base, Field(Kind.FLOAT8, FLOATS, NULLS)]
    return [*base, Field(Kind.FLOAT8, FLOATS, NULLS), Field(Kind.TEXT, texts), Field(Kind.JSONB, docs, NULLS)]


COLUMNS = {"fixed": "u, m, i, ts, f", "nulls": "u, m, i, ts, f, g", "text": "u, m, i, ts, f, g, s, j"}


@pytest.fixture
def table(conn: psycopg.Connection) -> str:
    conn.execute("create table t (u uuid, m uuid, i int8, ts timestamptz, f float8, g float8, "
                 "s text, j jsonb)")
    return "t"


def load(conn: psycopg.Connection, body: np.ndarray, columns: str) -> None:
    with conn.cursor() as cur, cur.copy(f"copy t ({columns}) from stdin (format binary)") as copy:
        copy.write(copybin.HEADER)
        copy.write(memoryview(body))
        copy.write(copybin.TRAILER)


def dump(conn: psycopg.Connection, columns: str) -> tuple[bytearray, np.ndarray, np.ndarray]:
    with conn.cursor() as cur, cur.copy(f"copy (select {columns} from t order by i) to stdout "
                                        "(format binary)") as copy:
        return CopyOut(copy, conn).collect_rows()


@pytest.mark.parametrize("kind", ["fixed", "nulls", "text"])
def test_encoded_rows_load_and_come_back_as_the_same_bytes(conn: psycopg.Connection, table: str,
                                                           kind: str) -> None:
    body = copybin.encode(fields(kind), N)
    load(conn, body, COLUMNS[kind])
    stream, starts, ends = dump(conn, COLUMNS[kind])
    assert bytes(stream[19:-2]) == body.tobytes()  # the server writes what we wrote
    rows = conn.execute("select u, m, i, f, g, s, j from t order by i").fetchall()
    assert [r[0] for r in rows] == [U] * N and [r[1] for r in rows] == [None] * N
    assert [r[3] for r in rows] == FLOATS.tolist()
    if kind != "fixed":
        assert [r[4] is None for r in rows] == NULLS.tolist()
    if kind == "text":
        assert [r[5] for r in rows][:3] == ["a", "héllo", ""]
        assert [r[6] for r in rows] == [{"a": 1}, None, {}, {"b": [1, 2]}, None, {"é": "x"}, None]
    kinds = [f.kind for f in fields(kind)]
    decoded = copybin.decode_variable(stream, starts, ends, kinds)
    assert decoded[3].values.astype(np.int64).tolist() == (STAMPS - copybin.PG_EPOCH_US).tolist()
    assert decoded[4].values.astype(np.float64).tobytes() == FLOATS.tobytes()
    assert decoded[1].nulls.all() and not decoded[0].nulls.any()


def test_padded_and_scattered_encodings_are_identical() -> None:
    rng = np.random.default_rng(0)
    n = 5000
    names = pa.array(rng.choice(["BTCUSDT", "ETH", "", "ü" * 30], n))
    nulls = rng.random(n) < 0.3
    docs = Text.from_arrow(pa.array([None if m else f'{{"k": {i}}}' for i, m in enumerate(nulls)]))
    columns = [Field.uuid(U), Field.uuid(None), Field(Kind.INT8, np.arange(n, dtype=np.int64)),
               Field(Kind.FLOAT8, rng.random(n), nulls), Field(Kind.TEXT, Text.from_arrow(names)),
               Field(Kind.JSONB, docs, nulls)]
    sizes = [copybin._sizes(f, n) for f in columns]
    padded = copybin._encode_padded(columns, sizes, [int(s.max()) for s in sizes], n)
    scattered = copybin._encode_scattered(columns, sizes, n)
    assert padded.tobytes() == scattered.tobytes()


def test_one_huge_value_takes_the_scatter_path(monkeypatch: pytest.MonkeyPatch) -> None:
    used = []
    monkeypatch.setattr(copybin, "_encode_scattered",
                        lambda *a, real=copybin._encode_scattered: used.append(1) or real(*a))
    values = ["x"] * 999 + ["y" * 100_000]
    body = copybin.encode([Field(Kind.TEXT, Text.from_arrow(pa.array(values)))], 1000)
    assert used and len(body) == 1000 * (2 + 4) + 999 + 100_000


def test_fixed_decoding_refuses_a_null_or_a_short_stream() -> None:
    kinds = [Kind.TIMESTAMPTZ, Kind.FLOAT8]
    good = copybin.HEADER + copybin.encode([Field(Kind.TIMESTAMPTZ, STAMPS), Field(Kind.FLOAT8, FLOATS)],
                                           N).tobytes() + copybin.TRAILER
    _, values = copybin.decode_fixed(good, kinds)
    assert values.astype(np.float64).tobytes() == FLOATS.tobytes()
    with_null = copybin.HEADER + copybin.encode(
        [Field(Kind.TIMESTAMPTZ, STAMPS), Field(Kind.FLOAT8, FLOATS, NULLS)], N).tobytes() + copybin.TRAILER
    with pytest.raises(copybin.CopyFormatError):
        copybin.decode_fixed(with_null, kinds)
    with pytest.raises(copybin.CopyFormatError, match="trailer"):
        copybin.decode_fixed(good[:-2], kinds)
    with pytest.raises(copybin.CopyFormatError, match="header"):
        copybin.decode_fixed(good[1:], kinds)


def test_text_round_trips_through_arrow_buffers() -> None:
    array = pa.array(["a", None, "bcd", "é"]).slice(1)
    text = Text.from_arrow(array)
    assert text.lengths.tolist() == [0, 3, 2]
    assert text.to_arrow(np.array([True, False, False])).to_pylist() == [None, "bcd", "é"]
