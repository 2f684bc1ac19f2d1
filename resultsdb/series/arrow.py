"""Archived series partitions as Arrow: the Parquet columns of each series table, and the
conversion from decoded binary COPY columns and back, exact to the bit (UUIDs as 16 bytes,
timestamps as microseconds, NULLs as validity bitmaps)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from resultsdb.records import SeriesTable
from resultsdb.series import copybin
from resultsdb.series.copybin import Field, Kind, Text


@dataclass(frozen=True)
class ArchiveTable:
    kinds: tuple[Kind, ...]
    schema: pa.Schema
    parent: SeriesTable
    # An older layout: the kinds of the columns the current one has after these (restored NULL).
    missing: tuple[Kind, ...] = ()


_UUID = pa.binary(16)
_TS = pa.timestamp("us", tz="UTC")
_TRADE_KINDS = (Kind.UUID, Kind.UUID, Kind.INT8, Kind.TIMESTAMPTZ, Kind.TEXT, Kind.TEXT,
                Kind.FLOAT8, Kind.FLOAT8, Kind.FLOAT8, Kind.JSONB)
_TRADE_FIELDS = [pa.field("run_id", _UUID, nullable=False), pa.field("model_id", _UUID),
                 pa.field("seq", pa.int64(), False), pa.field("ts", _TS, nullable=False),
                 pa.field("asset", pa.string(), False), pa.field("action", pa.string(), False),
                 pa.field("price", pa.float64(), False), pa.field("quantity", pa.float64(), False),
                 pa.field("pnl", pa.float64()), pa.field("metadata", pa.string())]
TABLES: dict[str, ArchiveTable] = {
    "equity_curves": ArchiveTable(
        (Kind.UUID, Kind.UUID, Kind.TIMESTAMPTZ, Kind.FLOAT8, Kind.FLOAT8, Kind.FLOAT8),
        pa.schema([pa.field("run_id", _UUID, nullable=False), ("model_id", _UUID),
                   pa.field("ts", _TS, nullable=False), pa.field("portfolio_value", pa.float64(), False),
                   ("benchmark_value", pa.float64()), ("drawdown", pa.float64())]),
        "equity_curves"),
    "trade_logs": ArchiveTable(
        (*_TRADE_KINDS, Kind.FLOAT8, Kind.FLOAT8),
        pa.schema([*_TRADE_FIELDS, ("fee", pa.float64()), ("slippage", pa.float64())]),
        "trade_logs"),
}
# Archives made before migration 0013 added fee and slippage: restored with those null.
LEGACY_TABLES: dict[str, tuple[ArchiveTable, ...]] = {
    "trade_logs": (ArchiveTable(_TRADE_KINDS, pa.schema(_TRADE_FIELDS), "trade_logs",
                                missing=(Kind.FLOAT8, Kind.FLOAT8)),),
}


def archived_as(parent: SeriesTable, schema: pa.Schema) -> ArchiveTable | None:
    """The layout of an archived ``parent`` partition whose Parquet file has ``schema``."""
    for spec in (TABLES[parent], *LEGACY_TABLES.get(parent, ())):
        if spec.schema == schema:
            return spec
    return None


def _validity(nulls: np.ndarray) -> pa.Buffer | None:
    return pa.py_buffer(np.packbits(~nulls, bitorder="little")) if nulls.any() else None


def to_arrow(columns: list[copybin.Column], spec: ArchiveTable) -> pa.Table:
    """Decoded COPY columns as an Arrow table of ``spec.schema`` (values exactly as stored)."""
    arrays: list[pa.Array] = []
    for column, kind, field in zip(columns, spec.kinds, spec.schema, strict=True):
        n, nulls = len(column.nulls), column.nulls
        if isinstance(column.values, Text):
            arrays.append(column.values.to_arrow(nulls))
        elif kind is Kind.UUID:
            arrays.append(pa.Array.from_buffers(_UUID, n, [_validity(nulls),
                                                           pa.py_buffer(column.values.tobytes())]))
        else:
            values = column.values.astype(column.values.dtype.newbyteorder("="))
            if kind is Kind.TIMESTAMPTZ:
                values = values + copybin.PG_EPOCH_US
            array = pa.array(values, mask=nulls if nulls.any() else None)
            arrays.append(array.view(_TS) if kind is Kind.TIMESTAMPTZ else array)
        assert arrays[-1].type == field.type, (field.name, arrays[-1].type)
    return pa.Table.from_arrays(arrays, schema=spec.schema)


def from_arrow(table: pa.Table, spec: ArchiveTable) -> list[Field]:
    """An Arrow table of ``spec.schema`` as fields to encode, the inverse of :func:`to_arrow`."""
    fields: list[Field] = []
    for kind, name in zip(spec.kinds, spec.schema.names, strict=True):
        array = table.column(name).combine_chunks()
        nulls = np.asarray(array.is_null()) if array.null_count else None
        if kind in (Kind.TEXT, Kind.JSONB):
            fields.append(Field(kind, Text.from_arrow(array), nulls))
            continue
        if kind is Kind.UUID:
            raw = np.frombuffer(array.buffers()[1], "V16")[array.offset: array.offset + len(array)]
            fields.append(Field(kind, raw, nulls))
            continue
        if kind is Kind.TIMESTAMPTZ:
            array = array.view(pa.int64())
        values = np.asarray(array.fill_null(0).to_numpy())
        fields.append(Field(kind, values, nulls))
    return fields
