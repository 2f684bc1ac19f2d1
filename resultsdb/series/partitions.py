"""Series partitions: made before a write, archived whole to Parquet, restored.

Each month of run creation is one partition of ``equity_curves`` and one of
``trade_logs`` (see docs/design.md). A write makes sure its run's month exists first
(:func:`ensure_for_run`: once per month per Database, then free), so rows never pile
up in the DEFAULT partition while maintenance lags behind.

:func:`archive` writes every month partition holding only runs created before a date
to Parquet through fsspec (a local folder or ``s3://...``): it streams the partition
out with binary COPY into row groups as the file uploads, reads the file back and checks
the row count and the sha256 of the rows re-encoded against what the server sent. Only
then, in one short transaction, it locks the partition against writes, checks that the
rows are still those, writes a JSON manifest beside the file and drops the partition.
Anything failing leaves the partition, and no manifest. :func:`restore` does the reverse
and checks the same count and checksum before it commits. The runs' rows and
``series_batches`` stay in the database throughout. Every DDL step runs under
``lock_timeout`` (:mod:`resultsdb.ddl`); what each step locks is in docs/design.md.
"""

from __future__ import annotations

import hashlib
import json
import logging
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any, Literal
from uuid import UUID

import fsspec
import numpy as np
import pyarrow.parquet as pq
from psycopg import errors as pgerrors
from pydantic import BaseModel, ConfigDict

from resultsdb import ddl
from resultsdb.config import Settings
from resultsdb.connection import Connection
from resultsdb.db import Database
from resultsdb.errors import (
    CommitOutcomeUnknown,
    DatabaseError,
    InvalidInput,
    SeriesArchiveError,
    Timeout,
)
from resultsdb.records import Progress, SeriesPartition
from resultsdb.repositories import series as series_repo
from resultsdb.series import copybin
from resultsdb.series.arrow import TABLES, ArchiveTable, archived_as, from_arrow, to_arrow
from resultsdb.series.copybin import Field
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

    def create(conn: Connection) -> list[str]:
        with ddl.lock_timeout(db, conn, f"creating the series partitions of {month}"):
            return [p.name for p in series_repo.ensure_run_partition(conn, run_id)]

    try:
        created = db.write(create)
    except Timeout as exc:
        # Attaching waits for everyone reading the DEFAULT partition. Rather than queue the
        # series tables behind that, this write's rows go to DEFAULT; the next one tries again.
        log.warning("%s", exc)
        return []
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
    parent: Literal["equity_curves", "trade_logs"]
    name: str
    month: datetime
    lower_bound: UUID
    upper_bound: UUID
    rows: int
    checksum: str  # sha256 of the partition's rows in binary COPY format
    data_file: str
    data_bytes: int
    archived_at: datetime


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
    """Archive, verify and drop each partition of :func:`archivable`; their manifests.

    ``storage_options`` go to fsspec (e.g. ``endpoint_url`` or ``key`` for S3). What each
    step locks, and for how long, is in docs/design.md (Retention).
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
    spec = TABLES[part.parent]
    partial = f"{root}/{part.name}.parquet.partial"
    try:
        rows, checksum = _export(db, fs, part, spec, partial)
        _verify(fs, partial, spec, rows, checksum, part.name)
        data_file = f"{part.name}-{checksum[:16]}.parquet"
        fs.mv(partial, f"{root}/{data_file}")
    finally:
        if fs.exists(partial):  # a failed export leaves no half file behind
            fs.rm(partial)
    manifest = ArchivedPartition(
        parent=part.parent, name=part.name, month=part.month, lower_bound=part.lower_bound,
        upper_bound=part.upper_bound, rows=rows, checksum=checksum, data_file=data_file,
        data_bytes=fs.size(f"{root}/{data_file}"), archived_at=datetime.now(UTC))
    _drop_if_unchanged(db, fs, root, part, spec, manifest)
    return manifest


@contextmanager
def _rows(conn: Connection, name: str, spec: ArchiveTable) -> Iterator[CopyOut]:
    """The partition's rows, streamed with binary COPY (its ``pieces()``)."""
    with series_repo.copy_partition_out(conn, spec.parent, name) as copy:
        yield CopyOut(copy, conn)


def _body(piece: bytearray) -> memoryview:
    """A piece's rows without the COPY header and trailer: what the checksum is over."""
    return memoryview(piece)[len(copybin.HEADER): -len(copybin.TRAILER)]


def _export(db: Database, fs: Any, part: SeriesPartition, spec: ArchiveTable,
            partial: str) -> tuple[int, str]:
    """Stream the partition into a Parquet file at ``partial``; (rows, checksum).

    One COPY, as the upload goes: it holds ACCESS SHARE on the partition, which blocks only
    DDL on it. Writes to the month go on; :func:`_drop_if_unchanged` sees whether any did.
    """
    digest, rows = hashlib.sha256(), 0
    with fs.open(partial, "wb") as out, pq.ParquetWriter(out, spec.schema) as writer:
        with db.transaction() as conn, ddl.lock_timeout(db, conn, f"archiving {part.name}"), \
                _rows(conn, part.name, spec) as reader:
            for piece, starts, ends in reader.pieces():
                digest.update(_body(piece))
                table = to_arrow(copybin.decode_variable(piece, starts, ends, spec.kinds), spec)
                writer.write_table(table)
                rows += table.num_rows
        # The transaction is over: the rest of the upload holds no lock.
    if reader.rowcount != rows:
        raise SeriesArchiveError(f"{part.name}: the server sent {reader.rowcount} rows, "
                                 f"{rows} were written")
    return rows, digest.hexdigest()


def _drop_if_unchanged(db: Database, fs: Any, root: str, part: SeriesPartition, spec: ArchiveTable,
                       manifest: ArchivedPartition) -> None:
    """Drop the partition if it still holds exactly the archived rows; else keep it.

    In one short transaction: a SHARE lock (writers of the month wait, readers do not), the
    rows read again and hashed (no Parquet, no upload), the manifest written, then DROP,
    whose ACCESS EXCLUSIVE lock on the series table lasts until the commit right after.
    Any failure before the commit removes the manifest and the data file: the partition is
    still there, and archiving it again starts afresh.
    """
    written = [f"{root}/{part.name}-{manifest.checksum[:16]}.json", f"{root}/{manifest.data_file}"]
    try:
        with db.transaction() as conn, ddl.lock_timeout(db, conn, f"dropping {part.name} once archived"):
            series_repo.lock_partition_for_archive(conn, part.name)
            digest = hashlib.sha256()
            with _rows(conn, part.name, spec) as reader:
                for piece, _, _ in reader.pieces():
                    digest.update(_body(piece))
            if (reader.rowcount, digest.hexdigest()) != (manifest.rows, manifest.checksum):
                raise SeriesArchiveError(
                    f"{part.name}: its rows changed while it was being archived (it holds "
                    f"{reader.rowcount} rows, {manifest.rows} were exported); nothing was dropped, "
                    "archive it again")
            with fs.open(written[0], "w") as f:
                f.write(manifest.model_dump_json(indent=2))
            series_repo.drop_partition(conn, part.name)
    except CommitOutcomeUnknown:
        raise  # the drop may have committed: its archive must stay
    except BaseException:
        for path in written:
            if fs.exists(path):
                fs.rm(path)
        raise


def _encoded(fs: Any, path: str, spec: ArchiveTable
             ) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Each row group of a Parquet file, re-encoded as binary COPY rows twice: as archived
    (what the manifest's checksum is over) and in ``spec``'s layout (what a restore copies
    in). They differ only for a file in an older layout (trade_logs archived before
    migration 0013: fee and slippage are restored NULL)."""
    with fs.open(path, "rb") as f:
        parquet = pq.ParquetFile(f)
        found = archived_as(spec.parent, parquet.schema_arrow)
        if found is None:
            raise SeriesArchiveError(f"{path}: its columns are not those of an archived partition "
                                     f"({parquet.schema_arrow} instead of {spec.schema})")
        for i in range(parquet.num_row_groups):
            table = parquet.read_row_group(i)
            fields = from_arrow(table, found)
            archived = copybin.encode(fields, table.num_rows)
            current = archived if not found.missing else copybin.encode(
                [*fields, *(Field(kind, None) for kind in found.missing)], table.num_rows)
            yield table.num_rows, archived, current


def _verify(fs: Any, path: str, spec: ArchiveTable, rows: int, checksum: str, name: str) -> None:
    digest, count = hashlib.sha256(), 0
    for n, body, _ in _encoded(fs, path, spec):
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

    For each, the month's partitions are made again in a short transaction of their own
    (rows the DEFAULT partition took for that range move in). Then, in a second one, the
    rows are copied in as they download, and the row count and checksum must match the
    manifest before it commits: nothing else is locked during the download. Restoring a
    partition whose rows are back already fails on the series keys and changes nothing.
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
    spec = TABLES[manifest.parent]
    # Attaching holds ACCESS EXCLUSIVE on the DEFAULT partition until the commit: so it
    # commits before the download, not after it.
    with db.transaction() as conn, ddl.lock_timeout(db, conn, f"restoring {manifest.name}"):
        series_repo.ensure_month_partition(conn, manifest.month)
        _check_bounds(conn, manifest)
    with db.transaction() as conn, ddl.lock_timeout(db, conn, f"restoring {manifest.name}"):
        digest, rows = hashlib.sha256(), 0
        with series_repo.copy_partition_in(conn, spec.parent, manifest.name) as copy:
            copy.write(copybin.HEADER)
            for n, archived, body in _encoded(fs, f"{root}/{manifest.data_file}", spec):
                digest.update(archived.data)
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
