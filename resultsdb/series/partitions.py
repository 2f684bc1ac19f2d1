"""Series partitions: made before a write, archived whole to Parquet, restored.

Each month of run creation is one partition of ``equity_curves`` and one of
``trade_logs`` (see docs/design.md). A write makes sure its run's month exists first
(:func:`ensure_for_run`: once per month per Database, then free), so rows never pile
up in the DEFAULT partition while maintenance lags behind.

:func:`archive` writes every month partition holding only runs created before a date
to Parquet through fsspec (a local folder or ``s3://...``). In one transaction per
partition it blocks writes to it, streams it out with binary COPY into row groups,
reads the file back and checks the row count and the sha256 of the rows re-encoded
against what the server sent, writes a JSON manifest beside it, then detaches and
drops the partition. Anything failing rolls back: the partition stays.
:func:`restore` does the reverse and checks the same count and checksum before it
commits. The runs' rows and ``series_batches`` stay in the database throughout.
"""

from __future__ import annotations

import hashlib
import json
import logging
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal
from uuid import UUID

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from psycopg import errors as pgerrors
from pydantic import BaseModel, ConfigDict

from resultsdb.config import Settings
from resultsdb.connection import Connection
from resultsdb.db import Database
from resultsdb.errors import DatabaseError, InvalidInput, SeriesArchiveError
from resultsdb.records import Progress, SeriesPartition, SeriesTable
from resultsdb.repositories import series as series_repo
from resultsdb.series import copybin
from resultsdb.series.copybin import Field, Kind, Text
from resultsdb.series.copyout import CopyOut

ARCHIVE_FORMAT: Literal["resultsdb.series-archive/1"] = "resultsdb.series-archive/1"
log = logging.getLogger(__name__)
_ENSURED: weakref.WeakKeyDictionary[Database, set[str]] = weakref.WeakKeyDictionary()


# -- partitions ahead of writes ------------------------------------------------------------


def month_of(run_id: UUID) -> str | None:
    """``YYYYMM`` of the month a UUIDv7 run id was made in (None for other UUIDs)."""
    if run_id.version != 7:
        return None
    made = datetime.fromtimestamp((run_id.int >> 80) / 1000, UTC)
    return f"{made:%Y%m}"


def ensure_for_run(db: Database, run_id: UUID) -> list[str]:
    """Create the run's month partitions if missing; the names created.

    Asks the server once per month per Database; ensure_series_partition() itself is
    idempotent and cheap when the partition exists, so a stale cache costs nothing.
    """
    month = month_of(run_id)
    seen = _ENSURED.setdefault(db, set())
    if month is None or month in seen:
        return []
    try:
        created = db.write(lambda c: [p.name for p in series_repo.ensure_run_partition(c, run_id)])
    except DatabaseError as exc:
        if not isinstance(exc.__cause__, pgerrors.InsufficientPrivilege):
            raise
        # A writer role without DDL rights: the rows wait in the DEFAULT partition until
        # maintenance (maintain_series_partitions, run by the owner) makes the month.
        log.info("cannot create the series partitions of %s: %s", month, exc)
        created = []
    seen.add(month)
    return created


def forget(db: Database) -> None:
    """Drop what :func:`ensure_for_run` remembers (partitions were dropped or restored)."""
    _ENSURED.pop(db, None)


# -- archive format ------------------------------------------------------------------------


class ArchivedPartition(BaseModel):
    """The manifest written beside an archived partition's Parquet file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["resultsdb.series-archive/1"] = ARCHIVE_FORMAT
    parent: SeriesTable
    name: str
    month: datetime
    lower_bound: UUID
    upper_bound: UUID
    rows: int
    checksum: str  # sha256 of the partition's rows in binary COPY format
    data_file: str
    data_bytes: int
    archived_at: datetime


@dataclass(frozen=True)
class _Table:
    kinds: tuple[Kind, ...]
    schema: pa.Schema


_UUID = pa.binary(16)
_TS = pa.timestamp("us", tz="UTC")
_TABLES = {
    "equity_curves": _Table(
        (Kind.UUID, Kind.UUID, Kind.TIMESTAMPTZ, Kind.FLOAT8, Kind.FLOAT8, Kind.FLOAT8),
        pa.schema([pa.field("run_id", _UUID, nullable=False), ("model_id", _UUID),
                   pa.field("ts", _TS, nullable=False), pa.field("portfolio_value", pa.float64(), False),
                   ("benchmark_value", pa.float64()), ("drawdown", pa.float64())]),
    ),
    "trade_logs": _Table(
        (Kind.UUID, Kind.UUID, Kind.INT8, Kind.TIMESTAMPTZ, Kind.TEXT, Kind.TEXT, Kind.FLOAT8,
         Kind.FLOAT8, Kind.FLOAT8, Kind.JSONB),
        pa.schema([pa.field("run_id", _UUID, nullable=False), ("model_id", _UUID),
                   pa.field("seq", pa.int64(), False), pa.field("ts", _TS, nullable=False),
                   pa.field("asset", pa.string(), False), pa.field("action", pa.string(), False),
                   pa.field("price", pa.float64(), False), pa.field("quantity", pa.float64(), False),
                   ("pnl", pa.float64()), ("metadata", pa.string())]),
    ),
}


def _validity(nulls: np.ndarray) -> pa.Buffer | None:
    return pa.py_buffer(np.packbits(~nulls, bitorder="little")) if nulls.any() else None


def _to_arrow(columns: list[copybin.Column], spec: _Table) -> pa.Table:
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


def _fields(table: pa.Table, spec: _Table) -> list[Field]:
    """An Arrow table of ``spec.schema`` as fields to encode, the inverse of :func:`_to_arrow`."""
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


# -- archive and restore -------------------------------------------------------------------


def default_archive_url(settings: Settings) -> str:
    """Where archives go unless told: ``<data_dir>/archive`` (beside the embedded server's data)."""
    return (settings.data_dir.resolve() / "archive").as_uri()


def parse_before(text: str) -> datetime:
    """``YYYY-MM-DD`` (midnight UTC: a date names a calendar day) or an ISO time with offset."""
    try:
        if len(text) == 10:
            return _instant(date.fromisoformat(text))
        return _instant(datetime.fromisoformat(text))
    except ValueError as exc:
        raise InvalidInput(f"before: {exc}", field="before") from None


def _instant(before: date | datetime) -> datetime:
    if isinstance(before, datetime):
        if before.utcoffset() is None:
            raise InvalidInput("before: must be a timezone-aware datetime (or a date: midnight UTC)",
                               field="before")
        return before
    return datetime(before.year, before.month, before.day, tzinfo=UTC)


def archivable(db: Database, before: date | datetime) -> list[SeriesPartition]:
    """The month partitions :func:`archive` would take: runs all created before ``before``."""
    moment = _instant(before)
    return db.read(lambda c: series_repo.month_partitions(c, moment))


def archive(db: Database, before: date | datetime, url: str, *,
            progress: Progress | None = None, **storage_options: Any) -> list[ArchivedPartition]:
    """Archive, verify, detach and drop each partition of :func:`archivable`; their manifests.

    ``storage_options`` go to fsspec (e.g. ``endpoint_url`` or ``key`` for S3).
    ``progress(done, total)``, if given, hears of each partition archived.
    """
    fs, root = fsspec.core.url_to_fs(url, **storage_options)
    fs.makedirs(root, exist_ok=True)
    planned = archivable(db, before)
    done: list[ArchivedPartition] = []
    try:
        for partition in planned:
            if progress is not None:
                progress(len(done), len(planned))
            done.append(_archive_one(db, fs, root, partition))
        if progress is not None:
            progress(len(done), len(planned))
    finally:
        forget(db)
    return done


def _archive_one(db: Database, fs: Any, root: str, part: SeriesPartition) -> ArchivedPartition:
    spec = _TABLES[part.parent]
    partial = f"{root}/{part.name}.parquet.partial"
    try:
        return _export(db, fs, root, part, spec, partial)
    finally:
        if fs.exists(partial):  # a failed export leaves no half file behind
            fs.rm(partial)


def _export(db: Database, fs: Any, root: str, part: SeriesPartition, spec: _Table,
            partial: str) -> ArchivedPartition:
    with db.transaction() as conn:
        series_repo.lock_partition_for_archive(conn, part.name)
        digest, rows = hashlib.sha256(), 0
        with fs.open(partial, "wb") as out, pq.ParquetWriter(out, spec.schema) as writer, \
                series_repo.copy_partition_out(conn, part.parent, part.name) as copy:
            reader = CopyOut(copy, conn)
            for piece, starts, ends in reader.pieces():
                digest.update(memoryview(piece)[len(copybin.HEADER): -len(copybin.TRAILER)])
                table = _to_arrow(copybin.decode_variable(piece, starts, ends, spec.kinds), spec)
                writer.write_table(table)
                rows += table.num_rows
        checksum = digest.hexdigest()
        if reader.rowcount != rows:
            raise SeriesArchiveError(f"{part.name}: the server sent {reader.rowcount} rows, "
                                     f"{rows} were written")
        _verify(fs, partial, spec, rows, checksum, part.name)
        data_file = f"{part.name}-{checksum[:16]}.parquet"
        fs.mv(partial, f"{root}/{data_file}")
        manifest = ArchivedPartition(
            parent=part.parent, name=part.name, month=part.month, lower_bound=part.lower_bound,
            upper_bound=part.upper_bound, rows=rows, checksum=checksum, data_file=data_file,
            data_bytes=fs.size(f"{root}/{data_file}"), archived_at=datetime.now(UTC))
        with fs.open(f"{root}/{part.name}-{checksum[:16]}.json", "w") as f:
            f.write(manifest.model_dump_json(indent=2))
        series_repo.detach_and_drop(conn, part.parent, part.name)
    return manifest


def _encoded(fs: Any, path: str, spec: _Table) -> Iterator[tuple[int, np.ndarray]]:
    """Each row group of a Parquet file, re-encoded as binary COPY rows."""
    with fs.open(path, "rb") as f:
        parquet = pq.ParquetFile(f)
        if parquet.schema_arrow != spec.schema:
            raise SeriesArchiveError(f"{path}: its columns are not those of an archived partition "
                                     f"({parquet.schema_arrow} instead of {spec.schema})")
        for i in range(parquet.num_row_groups):
            table = parquet.read_row_group(i)
            yield table.num_rows, copybin.encode(_fields(table, spec), table.num_rows)


def _verify(fs: Any, path: str, spec: _Table, rows: int, checksum: str, name: str) -> None:
    digest, count = hashlib.sha256(), 0
    for n, body in _encoded(fs, path, spec):
        digest.update(body.data)
        count += n
    if count != rows or digest.hexdigest() != checksum:
        raise SeriesArchiveError(
            f"{name}: the Parquet file reads back as {count} rows with checksum "
            f"{digest.hexdigest()[:16]}..., not the {rows} rows ({checksum[:16]}...) the server sent")


def manifests(url: str, **storage_options: Any) -> list[ArchivedPartition]:
    """The archived partitions found at ``url``, oldest month first."""
    fs, root = fsspec.core.url_to_fs(url, **storage_options)
    found = []
    for path in sorted(fs.glob(f"{root}/*.json")):
        with fs.open(path, "r") as f:
            document = json.load(f)
        if isinstance(document, dict) and document.get("format") == ARCHIVE_FORMAT:
            found.append(ArchivedPartition.model_validate(document))
    return sorted(found, key=lambda m: (m.month, m.parent, m.name))


def restore(db: Database, url: str, *, names: Sequence[str] | None = None,
            progress: Progress | None = None, **storage_options: Any) -> list[ArchivedPartition]:
    """Bring back archived partitions (all found at ``url``, or those ``names``); their manifests.

    Each is restored in one transaction: the month's partitions are made again (rows the
    DEFAULT partition took for that range move in), the rows are copied in, and the row
    count and checksum must match the manifest before it commits. Restoring a partition
    whose rows are back already fails on the series keys and changes nothing.
    ``progress(done, total)``, if given, hears of each partition restored.
    """
    fs, root = fsspec.core.url_to_fs(url, **storage_options)
    found = manifests(url, **storage_options)
    if names is not None:
        missing = sorted(set(names) - {m.name for m in found})
        if missing:
            raise SeriesArchiveError(f"{url}: no archive of {', '.join(missing)}")
        found = [m for m in found if m.name in set(names)]
    try:
        for done, manifest in enumerate(found):
            if progress is not None:
                progress(done, len(found))
            _restore_one(db, fs, root, manifest)
        if progress is not None:
            progress(len(found), len(found))
    finally:
        forget(db)
    return found


def _restore_one(db: Database, fs: Any, root: str, manifest: ArchivedPartition) -> None:
    spec = _TABLES[manifest.parent]
    with db.transaction() as conn:
        series_repo.ensure_month_partition(conn, manifest.month)
        _check_bounds(conn, manifest)
        digest, rows = hashlib.sha256(), 0
        with series_repo.copy_partition_in(conn, manifest.parent, manifest.name) as copy:
            copy.write(copybin.HEADER)
            for n, body in _encoded(fs, f"{root}/{manifest.data_file}", spec):
                digest.update(body.data)
                copy.write(body.data)
                rows += n
            copy.write(copybin.TRAILER)
        copied = copy.cursor.rowcount
        if rows != manifest.rows or copied != manifest.rows or digest.hexdigest() != manifest.checksum:
            raise SeriesArchiveError(
                f"{manifest.name}: {manifest.data_file} holds {rows} rows with checksum "
                f"{digest.hexdigest()[:16]}..., the manifest says {manifest.rows} "
                f"({manifest.checksum[:16]}...); nothing restored")


def _check_bounds(conn: Connection, manifest: ArchivedPartition) -> None:
    found = series_repo.partition_by_name(conn, manifest.name)
    if found is None or (found.lower_bound, found.upper_bound) != (manifest.lower_bound,
                                                                    manifest.upper_bound):
        raise SeriesArchiveError(f"{manifest.name}: the partition made for {manifest.month:%Y-%m} "
                                 "does not have the archived bounds")
