"""The blobs ledger: claims, pins and garbage collection of stored artifact bytes, and the
rows that reference them (what ``verify`` checks)."""

from __future__ import annotations

from datetime import datetime

from resultsdb.records import Blob, BlobReference, BlobTotals, ReferencedBlob
from resultsdb.repositories.common import Connection


def claim(conn: Connection, content_hash: str, size_bytes: int) -> Blob:
    """Insert or refresh the ledger row of a blob about to be referenced (waits while gc
    holds it)."""
    return conn.q.claim_blob(content_hash=content_hash, size_bytes=size_bytes)


def retract_claim(conn: Connection, content_hash: str, claimed_at: datetime) -> int:
    """Undo the claim that created the row at ``claimed_at`` while nothing refreshed or
    references it; the rows removed (0 or 1)."""
    return conn.q.retract_blob_claim(content_hash=content_hash, claimed_at=claimed_at)


def pin(conn: Connection, hashes: list[str]) -> list[Blob]:
    """Lock the rows of ``hashes`` until the transaction ends; those missing were collected."""
    return conn.q.pin_blobs(hashes=hashes)


def collectable(conn: Connection, *, grace_seconds: float, after: str, limit: int) -> list[Blob]:
    """Blobs nothing references and nobody claimed within the grace period (locks nothing)."""
    return conn.q.collectable_blobs(grace_seconds=grace_seconds, after=after, limit=limit)


def lock_collectable(conn: Connection, *, grace_seconds: float, after: str,
                     limit: int) -> list[Blob]:
    """As :func:`collectable`, each row locked until the transaction ends."""
    return conn.q.lock_collectable_blobs(grace_seconds=grace_seconds, after=after, limit=limit)


def referenced_among(conn: Connection, hashes: list[str]) -> list[ReferencedBlob]:
    """Which of ``hashes`` rows reference now."""
    return conn.q.referenced_among(hashes=hashes)


def delete(conn: Connection, hashes: list[str]) -> int:
    """Forget the rows of ``hashes`` (their objects are deleted already)."""
    return conn.q.delete_blobs(hashes=hashes)


def referenced_page(conn: Connection, *, after: str, limit: int) -> list[ReferencedBlob]:
    """Distinct referenced content hashes after ``after``, in hash order."""
    return conn.q.referenced_blobs_page(after=after, limit=limit)


def referenced_totals(conn: Connection) -> BlobTotals:
    """How many distinct blobs rows reference, and their bytes."""
    return conn.q.referenced_blob_totals()


def references_to(conn: Connection, hashes: list[str]) -> list[BlobReference]:
    """Every row that references one of ``hashes``."""
    return conn.q.references_to_blobs(hashes=hashes)
