"""Artifact storage: content-addressed blobs on fsspec, with verify, gc and version cleanup.

Saving a model's bytes so that nothing partial, lost or unverifiable can result::

    from resultsdb.artifacts import ArtifactStore, pin_blobs, store_blob

    store = ArtifactStore.from_settings()          # RESULTSDB_ARTIFACTS_URL
    ref = store_blob(db, store, "weights.pt")      # claim + streamed, hashed, deduplicated put

    def save(conn):
        pin_blobs(conn, [ref])                     # gc leaves it alone until we commit
        ...                                        # model, version, model_artifacts rows
    db.write(save)

    data = store.get(ref)                          # verified before it is returned
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from resultsdb.artifacts.blobs import (
    DEFAULT_GRACE,
    GcReport,
    claim,
    gc,
    parse_duration,
    pin_blobs,
    record_artifact,
    store_blob,
)
from resultsdb.artifacts.cleanup import CleanupReport, cleanup_versions
from resultsdb.artifacts.reader import VerifyingReader
from resultsdb.artifacts.store import ArtifactStore, BlobRef, StagedBlob
from resultsdb.artifacts.verify import BlobProblem, VerifyReport, totals, verify

if TYPE_CHECKING:
    from resultsdb.artifacts.snapshots import features_hash, load_snapshot, store_snapshot


def __getattr__(name: str) -> Any:
    """Data snapshots (DataFrames as Parquet: the ``[series]`` extra), imported on first use."""
    if name in ("features_hash", "load_snapshot", "store_snapshot"):
        from resultsdb.artifacts import snapshots

        return getattr(snapshots, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "DEFAULT_GRACE", "ArtifactStore", "BlobProblem", "BlobRef", "CleanupReport", "GcReport",
    "StagedBlob", "VerifyReport", "VerifyingReader", "claim", "cleanup_versions", "features_hash",
    "gc", "load_snapshot", "parse_duration", "pin_blobs", "record_artifact", "store_blob",
    "store_snapshot", "totals", "verify",
]
