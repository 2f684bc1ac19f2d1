"""The blobs ledger: claims before bytes become visible, pins in the saving transaction, gc.

The protocol that keeps gc from deleting a blob a save is about to reference:

1. :func:`store_blob` writes the bytes to a temporary key (hashing them), then *claims*
   the blob - upserts its ``blobs`` row with ``last_claimed_at = now()`` in a
   transaction of its own, committed - and only then publishes the bytes under the
   content key, after checking the store really holds them (a row proves nothing).
2. The saving transaction calls :func:`pin_blobs` (``for key share`` on the rows)
   before it writes the rows that reference the blobs. A pinned row is skipped by gc
   until the save ends; a row gc took first makes the pin wait, and if gc deleted it
   the pin raises :class:`ArtifactNotFound`: the save fails, no row points at nothing.
3. :func:`gc` locks candidates ``for update skip locked`` (unreferenced, last claimed
   before the grace period), re-checks references with a fresh snapshot now that it
   holds the locks, deletes the objects, then the rows, and commits.

A claim whose save has not pinned within the grace period is the one case left to
timing: keep the grace period far above the longest save (the default is a day).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from resultsdb.artifacts._sources import Data
from resultsdb.artifacts.store import ArtifactStore, BlobRef
from resultsdb.connection import Connection
from resultsdb.db import Database
from resultsdb.errors import ArtifactError, ArtifactNotFound, InvalidInput
from resultsdb.inputs import as_id
from resultsdb.records import Blob, ModelArtifact
from resultsdb.repositories import blobs as blobs_repo
from resultsdb.repositories import models

log = logging.getLogger(__name__)

DEFAULT_GRACE = timedelta(hours=24)
GC_BATCH = 500
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """``"90s"``, ``"15m"``, ``"24h"``, ``"7d"`` (a bare number is seconds)."""
    m = _DURATION.match(text)
    if m is None:
        raise InvalidInput(f"grace: {text!r} is not a duration such as 30m, 24h or 7d", field="grace")
    return timedelta(seconds=float(m.group(1)) * _UNIT_SECONDS[m.group(2)])


def store_blob(db: Database, store: ArtifactStore, data: Data) -> BlobRef:
    """Claim and store ``data``; its ref. Call before the transaction that references it.

    Outside a transaction the claim commits at once, so gc sees it however long the
    save takes to pin. Nothing is visible under the content key if this raises, and a
    claim row this call created is removed again.
    """
    with store.stage(data) as staged:
        claimed = db.write(lambda conn: claim(conn, staged.sha256, staged.size))
        try:
            return staged.commit()
        except ArtifactError:
            _retract(db, claimed)
            raise


def _retract(db: Database, claimed: Blob) -> None:
    """Remove the row our claim created for bytes that were then not stored (best effort:
    when the database is unreachable too, gc removes the row after the grace period)."""
    try:
        db.write(lambda conn: blobs_repo.retract_claim(conn, claimed.content_hash,
                                                       claimed.last_claimed_at))
    except Exception:
        log.warning("could not retract the claim of blob %s; gc will remove it",
                    claimed.content_hash, exc_info=True)


def claim(conn: Connection, sha256: str, size: int) -> Blob:
    """Insert or refresh the ledger row of a blob (waits while gc holds it)."""
    return blobs_repo.claim(conn, sha256, size)


def pin_blobs(conn: Connection, refs: Iterable[BlobRef | str]) -> list[Blob]:
    """Hold the ledger rows of ``refs`` until the transaction ends, so gc leaves them be.

    Call inside the transaction that writes the referencing rows, before writing them.
    ArtifactNotFound when one was collected after its claim (store it again and retry).
    """
    hashes = sorted({r.sha256 if isinstance(r, BlobRef) else r for r in refs})
    rows = blobs_repo.pin(conn, hashes)
    missing = sorted(set(hashes) - {b.content_hash for b in rows})
    if missing:
        raise ArtifactNotFound(
            f"blobs: {', '.join(missing)} were garbage-collected before being referenced; "
            "store them again", table="blobs", key=missing)
    return rows


def record_artifact(conn: Connection, model_version_id: Any, ref: BlobRef, *, artifact_type: str,
                    file_format: str | None = None) -> ModelArtifact:
    """Pin ``ref`` and write the model_artifacts row that references it (inside a transaction)."""
    with conn.transaction():
        pin_blobs(conn, [ref])
        return models.create_artifact(conn, {
            "model_version_id": as_id(model_version_id, field="model_version_id"),
            "artifact_type": artifact_type, "storage_path": ref.uri, "size_bytes": ref.size,
            "file_format": file_format, "content_hash": ref.sha256,
        })


@dataclass
class GcReport:
    """What one gc pass found and did (``dry_run``: what it would do)."""

    dry_run: bool
    grace_seconds: float
    deleted: list[str] = field(default_factory=list)
    bytes_freed: int = 0
    skipped: list[str] = field(default_factory=list)  # referenced again when re-checked
    failed: dict[str, str] = field(default_factory=dict)  # hash -> why its object stayed
    stale_uploads: list[str] = field(default_factory=list)


def gc(db: Database, store: ArtifactStore, *, grace: timedelta = DEFAULT_GRACE,
       dry_run: bool = False, batch: int = GC_BATCH) -> GcReport:
    """Delete blobs no row references and nobody claimed within ``grace``.

    Also removes temporary uploads older than ``grace`` (crashed puts). With
    ``dry_run`` nothing is locked or deleted; the report lists what would go.
    """
    if grace < timedelta(0):
        raise InvalidInput("grace: must not be negative", field="grace")
    report = GcReport(dry_run=dry_run, grace_seconds=grace.total_seconds())
    after = ""
    while True:
        if dry_run:
            rows = _collectable(db, report.grace_seconds, after, batch)
            report.deleted += [b.content_hash for b in rows]
            report.bytes_freed += sum(b.size_bytes for b in rows)
        else:
            rows = _collect_batch(db, store, report, after, batch)
        if len(rows) < batch:
            break
        after = rows[-1].content_hash
    cutoff = datetime.now(UTC) - grace
    for path in store.stale_uploads(cutoff):
        if not dry_run:
            try:
                store.remove_upload(path)
            except ArtifactError as exc:
                log.warning("gc: could not remove stale upload %s: %s", path, exc)
                continue
        report.stale_uploads.append(path)
    return report


def _collectable(db: Database, grace_seconds: float, after: str, limit: int) -> list[Blob]:
    return db.read(lambda c: blobs_repo.collectable(c, grace_seconds=grace_seconds, after=after,
                                                    limit=limit))


def _collect_batch(db: Database, store: ArtifactStore, report: GcReport, after: str,
                   batch: int) -> list[Blob]:
    """One transaction: lock a batch, re-check, delete objects, then rows. The rows it saw."""
    with db.transaction() as conn:
        rows = blobs_repo.lock_collectable(conn, grace_seconds=report.grace_seconds, after=after,
                                           limit=batch)
        if not rows:
            return rows
        # The candidates were chosen from the statement's snapshot; a save that referenced
        # one and committed before we got its lock is visible only to a new statement.
        referenced = {r.content_hash for r in blobs_repo.referenced_among(
            conn, [b.content_hash for b in rows])}
        gone: list[str] = []
        freed = 0
        for blob in rows:
            if blob.content_hash in referenced:
                report.skipped.append(blob.content_hash)
                continue
            try:
                store.delete(blob.content_hash)
            except ArtifactError as exc:
                # The row stays (locked until commit, then collectable again next run).
                report.failed[blob.content_hash] = str(exc)
                continue
            gone.append(blob.content_hash)
            freed += blob.size_bytes
        if gone:
            blobs_repo.delete(conn, gone)
    report.deleted += gone
    report.bytes_freed += freed
    return rows

