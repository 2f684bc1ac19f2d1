"""What callers pass as a series, cut into chunks of raw columns.

Accepted: a pandas DataFrame (``ts`` as a column or as a DatetimeIndex), a pyarrow
Table or RecordBatch, a mapping of column name to array (numpy, pandas, Arrow or a
list), or an iterable of records (mappings, or tuples in the order the series
documents). Chunks are views or slices where the input allows, so a chunk costs
little memory beyond the caller's own data; a generator is consumed one chunk at a
time and never held whole.

A source is *replayable* when it can be read twice (everything except one-shot
iterators): those are validated completely before anything is sent, and a write
interrupted before COMMIT can be retried from them.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa

from resultsdb.errors import InvalidInput, InvalidSeriesRow

CHUNK_ROWS = 131_072


@dataclass(frozen=True)
class Chunk:
    """Rows ``start`` .. ``start + length - 1`` of the input, column by column (as given)."""

    start: int
    length: int
    columns: Mapping[str, Any]


@dataclass(frozen=True)
class Layout:
    """The columns a series accepts: all of them, the required ones, the tuple order."""

    table: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    positional: tuple[str, ...]


class Source:
    replayable: bool = True

    def chunks(self, rows: int | None = None) -> Iterator[Chunk]:
        """Chunks of ``rows`` rows (default :data:`CHUNK_ROWS`), in input order."""
        raise NotImplementedError


def source(data: Any, layout: Layout) -> Source:
    """The source for ``data``; InvalidInput when it is none of the accepted kinds."""
    if isinstance(data, pd.DataFrame):
        return _FrameSource(data, layout)
    if isinstance(data, pa.Table | pa.RecordBatch):
        table = data if isinstance(data, pa.Table) else pa.Table.from_batches([data])
        return _ArraysSource(_checked_names({n: table.column(n) for n in table.column_names}, layout),
                             layout)
    if isinstance(data, Mapping):
        return _ArraysSource(_checked_names(dict(data), layout), layout)
    if isinstance(data, str | bytes) or not isinstance(data, Iterable):
        raise InvalidInput(f"{layout.table}.data: expected a DataFrame, an Arrow table, a mapping "
                           f"of columns or an iterable of records, not {type(data).__name__}",
                           field="data", table=layout.table)
    return _RecordSource(data, layout)


def _checked_names(columns: dict[Any, Any], layout: Layout) -> dict[str, Any]:
    unknown = [str(name) for name in columns if name not in layout.columns]
    if unknown:
        raise InvalidInput(f"{layout.table}.{unknown[0]}: unknown column (expected some of "
                           f"{', '.join(layout.columns)})", field=unknown[0], table=layout.table)
    missing = [name for name in layout.required if name not in columns]
    if missing:
        raise InvalidInput(f"{layout.table}.{missing[0]}: column is required", field=missing[0],
                           table=layout.table)
    return columns


def _length(name: str, values: Any, layout: Layout) -> int:
    try:
        return len(values)
    except TypeError:
        raise InvalidInput(f"{layout.table}.{name}: expected an array, not {type(values).__name__}",
                           field=name, table=layout.table) from None


class _ArraysSource(Source):
    def __init__(self, columns: dict[str, Any], layout: Layout) -> None:
        lengths = {name: _length(name, values, layout) for name, values in columns.items()}
        if len(set(lengths.values())) > 1:
            first = next(iter(lengths))
            other = next(n for n, length in lengths.items() if length != lengths[first])
            raise InvalidInput(f"{layout.table}.{other}: has {lengths[other]} rows, {first} has "
                               f"{lengths[first]}", field=other, table=layout.table)
        self.columns = columns
        self.length = next(iter(lengths.values()), 0)

    def chunks(self, rows: int | None = None) -> Iterator[Chunk]:
        rows = rows or CHUNK_ROWS
        for start in range(0, self.length, rows):
            stop = min(start + rows, self.length)
            yield Chunk(start, stop - start,
                        {name: _slice(values, start, stop) for name, values in self.columns.items()})


def _slice(values: Any, start: int, stop: int) -> Any:
    if isinstance(values, pd.Series | pd.Index):
        return values[start:stop] if isinstance(values, pd.Index) else values.iloc[start:stop]
    if isinstance(values, pa.ChunkedArray | pa.Array):
        return values.slice(start, stop - start)
    return values[start:stop]


class _FrameSource(_ArraysSource):
    def __init__(self, frame: pd.DataFrame, layout: Layout) -> None:
        columns: dict[Any, Any] = {name: frame[name] for name in frame.columns}
        if len(set(frame.columns)) != len(frame.columns):
            duplicate = next(str(c) for c in frame.columns if list(frame.columns).count(c) > 1)
            raise InvalidInput(f"{layout.table}.{duplicate}: column appears twice", field=duplicate,
                               table=layout.table)
        if "ts" not in columns and isinstance(frame.index, pd.DatetimeIndex):
            columns["ts"] = frame.index  # a time-indexed frame, as pandas users keep series
        super().__init__(_checked_names(columns, layout), layout)


class _RecordSource(Source):
    def __init__(self, records: Iterable[Any], layout: Layout) -> None:
        self.records = records
        self.layout = layout
        # A list or tuple can be read twice; an iterator cannot.
        self.replayable = isinstance(records, Sequence)

    def chunks(self, rows: int | None = None) -> Iterator[Chunk]:
        rows = rows or CHUNK_ROWS
        iterator = iter(self.records)
        start = 0
        while batch := list(itertools.islice(iterator, rows)):
            yield Chunk(start, len(batch), self._columns(batch, start))
            start += len(batch)

    def _columns(self, batch: list[Any], start: int) -> dict[str, Any]:
        layout = self.layout
        first = batch[0]
        if isinstance(first, Mapping):
            return self._from_mappings(batch, start)
        if isinstance(first, tuple | list):
            return self._from_tuples(batch, start)
        raise InvalidSeriesRow(f"{layout.table}: row {start}: expected a mapping or a tuple, not "
                               f"{type(first).__name__}", field=layout.positional[0],
                               table=layout.table, row=start)

    def _fail(self, row: int, column: str, problem: str) -> InvalidSeriesRow:
        return InvalidSeriesRow(f"{self.layout.table}.{column}: row {row}: {problem}", field=column,
                                table=self.layout.table, row=row)

    def _from_mappings(self, batch: list[Any], start: int) -> dict[str, Any]:
        layout = self.layout
        names: set[Any] = set()
        for i, row in enumerate(batch):
            if not isinstance(row, Mapping):
                raise self._fail(start + i, layout.positional[0],
                                 f"expected a mapping like the rows before, not {type(row).__name__}")
            names.update(row)
        unknown = names - set(layout.columns)
        if unknown:
            i = next(i for i, row in enumerate(batch) if set(row) & unknown)
            name = str(sorted(set(batch[i]) & unknown, key=str)[0])
            raise self._fail(start + i, name,
                             f"unknown column (expected some of {', '.join(layout.columns)})")
        for name in layout.required:
            if name not in names:
                raise self._fail(start, name, "is required")
        return {name: [row.get(name) for row in batch] for name in layout.columns if name in names}

    def _from_tuples(self, batch: list[Any], start: int) -> dict[str, Any]:
        layout = self.layout
        lo, hi = len(layout.required), len(layout.positional)
        width = len(batch[0]) if isinstance(batch[0], tuple | list) else -1
        # C-speed checks for the usual case; the loop below only finds the culprit.
        if len(set(map(type, batch))) != 1 or set(map(len, batch)) != {width} or not lo <= width <= hi:
            for i, row in enumerate(batch):
                if type(row) is not type(batch[0]) or len(row) != width or not lo <= width <= hi:
                    wanted = f"{lo} to {hi} values ({', '.join(layout.positional)})"
                    got = f"{len(row)} values" if isinstance(row, tuple | list) else type(row).__name__
                    raise self._fail(start + i, layout.positional[0],
                                     f"expected a tuple of {wanted}, got {got}")
        return {name: list(map(operator.itemgetter(i), batch))
                for i, name in enumerate(layout.positional[:width])}
