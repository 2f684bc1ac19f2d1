"""Data snapshots through the artifact store: a features DataFrame as Parquet.

``features_hash`` identifies the *data*, not the file: it is the sha256 of the frame's
Arrow IPC stream (index included, pandas metadata dropped), so the same frame hashes
the same whichever Parquet writer version or compression stored it. ``content_hash``
is the stored file's own sha256, which the store verifies on every read.
"""

from __future__ import annotations

from resultsdb.extras import require

require("series", "data snapshots (DataFrames as Parquet)")

import hashlib
import io
import tempfile
import warnings
from datetime import datetime
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from resultsdb.artifacts.blobs import pin_blobs, store_blob
from resultsdb.artifacts.store import ArtifactStore, BlobRef
from resultsdb.db import Database
from resultsdb.errors import ArtifactCorrupt, InvalidInput
from resultsdb.records import DataSnapshot
from resultsdb.repositories import data_snapshots

# Frames up to this size are serialised in memory; larger ones spill to a temporary file.
_SPOOL_BYTES = 64 << 20


class _HashSink:
    """A write-only file that only hashes (pyarrow writes the IPC stream into it)."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.closed = False

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self.digest.update(view)
        return view.nbytes

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def _from_pandas(frame: pd.DataFrame, **options: Any) -> pa.Table:
    with warnings.catch_warnings():
        # pyarrow reads DatetimeIndex.values, which pandas 3.1 deprecates (Pandas4Warning):
        # pyarrow's own business, and our callers should not see it on every snapshot.
        warnings.filterwarnings("ignore", message=r"DatetimeIndex\.values returning")
        return pa.Table.from_pandas(frame, **options)


def _canonical_table(frame: pd.DataFrame) -> pa.Table:
    return _from_pandas(frame, preserve_index=True).replace_schema_metadata(None)


def features_hash(frame: pd.DataFrame) -> str:
    """The sha256 of a frame's content: column names, types, values and index."""
    if not isinstance(frame, pd.DataFrame):
        raise InvalidInput(f"features: expected a pandas DataFrame, got {type(frame).__name__}",
                           field="features")
    table = _canonical_table(frame)
    sink = _HashSink()
    with pa.ipc.new_stream(pa.PythonFile(sink, mode="w"), table.schema) as writer:
        writer.write_table(table, max_chunksize=64 * 1024)  # fixed batching: same bytes each time
    return sink.digest.hexdigest()


def store_snapshot(db: Database, store: ArtifactStore, frame: pd.DataFrame, *, run_id: Any,
                   data_source: str, start_date: datetime, end_date: datetime) -> DataSnapshot:
    """Write ``frame`` as Parquet to the store and record the snapshot row that references it."""
    digest = features_hash(frame)
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as buffer:
        pq.write_table(_from_pandas(frame), buffer, compression="zstd")
        buffer.seek(0)
        ref = store_blob(db, store, buffer)

    def record(conn: Any) -> DataSnapshot:
        pin_blobs(conn, [ref])
        return data_snapshots.create(conn, {
            "run_id": run_id, "data_source": data_source, "start_date": start_date,
            "end_date": end_date, "features_hash": digest, "storage_path": ref.uri,
            "content_hash": ref.sha256, "size_bytes": ref.size,
        })

    return db.write(record)


def load_snapshot(store: ArtifactStore, snapshot: DataSnapshot) -> pd.DataFrame:
    """The frame a snapshot stored, verified twice: the file's hash, then the data's."""
    if snapshot.content_hash is None or snapshot.size_bytes is None:
        raise InvalidInput(f"data_snapshots {snapshot.id}: has no stored copy", field="content_hash",
                           table="data_snapshots")
    ref = BlobRef(uri=snapshot.storage_path or "", sha256=snapshot.content_hash,
                  size=snapshot.size_bytes)
    frame = pq.read_table(io.BytesIO(store.get(ref))).to_pandas()
    actual = features_hash(frame)
    if actual != snapshot.features_hash:
        raise ArtifactCorrupt(
            f"data_snapshots {snapshot.id}: the stored frame's features hash to {actual}, "
            f"not {snapshot.features_hash}", expected_sha256=snapshot.features_hash,
            actual_sha256=actual)
    return frame
