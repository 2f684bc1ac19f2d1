"""Re-hash every blob the database references; report the missing and corrupt ones with their rows."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from resultsdb.artifacts.store import ArtifactStore, BlobStatus
from resultsdb.db import Database
from resultsdb.records import BlobReference, BlobTotals, ReferencedBlob
from resultsdb.repositories import blobs as blobs_repo

PAGE = 1000


@dataclass
class BlobProblem:
    content_hash: str
    problem: BlobStatus  # "missing" or "corrupt"
    references: list[BlobReference]


@dataclass
class VerifyReport:
    checked: int = 0
    bytes_checked: int = 0
    problems: list[BlobProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def missing(self) -> list[BlobProblem]:
        return [p for p in self.problems if p.problem == "missing"]

    @property
    def corrupt(self) -> list[BlobProblem]:
        return [p for p in self.problems if p.problem == "corrupt"]


def totals(db: Database) -> BlobTotals:
    """How many distinct blobs rows reference and their bytes (a progress bar's total)."""
    return db.read(blobs_repo.referenced_totals)


def _page(db: Database, after: str) -> list[ReferencedBlob]:
    return db.read(lambda c: blobs_repo.referenced_page(c, after=after, limit=PAGE))


def verify(db: Database, store: ArtifactStore, *, workers: int = 4,
           progress: Callable[[int], None] | None = None) -> VerifyReport:
    """Re-hash each blob that model_artifacts or data_snapshots reference, once per hash.

    ``progress(n)`` is called with each batch of bytes hashed (from worker threads,
    serialised). Store failures other than a missing object still raise: an
    unreachable store is not a verdict on the blobs.
    """
    report = VerifyReport()
    lock = threading.Lock()

    def advance(n: int) -> None:
        with lock:
            report.bytes_checked += n
            if progress:
                progress(n)

    def check(blob: ReferencedBlob) -> tuple[str, BlobStatus]:
        return blob.content_hash, store.check(blob.content_hash, blob.size_bytes, advance)

    bad: dict[str, BlobStatus] = {}
    after = ""
    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="rdb-verify") as pool:
        while True:
            page = _page(db, after)
            for sha256, status in pool.map(check, page):
                report.checked += 1
                if status != "ok":
                    bad[sha256] = status
            if len(page) < PAGE:
                break
            after = page[-1].content_hash
    if bad:
        refs = db.read(lambda c: blobs_repo.references_to(c, sorted(bad)))
        by_hash: dict[str, list[BlobReference]] = {}
        for ref in refs:
            by_hash.setdefault(ref.content_hash, []).append(ref)
        report.problems = [BlobProblem(h, bad[h], by_hash.get(h, [])) for h in sorted(bad)]
    return report
