"""The database side of artifacts on every backend: claims, verify, gc and its races, cleanup."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from resultsdb.artifacts import (
    ArtifactStore,
    BlobRef,
    cleanup_versions,
    gc,
    pin_blobs,
    record_artifact,
    store_blob,
    verify,
)
from resultsdb.artifacts import keys as blob_keys
from resultsdb.db import Database
from resultsdb.errors import ArtifactNotFound, InvalidInput, NotFound
from resultsdb.records import Model, ModelVersion, Run
from resultsdb.repositories import data_snapshots, models
from tests.artifacts.conftest import wait_until
from tests.artifacts.test_store import objects, overwrite, sha
from tests.threads import in_thread

MB = 1 << 20
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def blob_rows(conn: psycopg.Connection[Any]) -> dict[str, int]:
    return dict(conn.execute("select content_hash, size_bytes from blobs").fetchall())


def backdate(conn: psycopg.Connection[Any], *hashes: str, days: int = 30) -> None:
    """Pretend these blobs were last claimed long ago (a put long finished)."""
    conn.execute("update blobs set last_claimed_at = now() - make_interval(days => %s) "
                 "where content_hash = any(%s)", (days, list(hashes)))


def lock_waiters(conn: psycopg.Connection[Any]) -> int:
    """Sessions of this database waiting for a row or table lock right now."""
    row = conn.execute("select count(*) from pg_stat_activity "
                       "where datname = current_database() and wait_event_type = 'Lock'").fetchone()
    return int(row[0]) if row else 0


def save(db: Database, version: ModelVersion, ref: BlobRef) -> Any:
    """What save_model does once the bytes are stored: pin, then write the row, one transaction."""
    return db.write(lambda c: record_artifact(c, version.id, ref, artifact_type="weights",
                                              file_format="pt"))


class Paused:
    """Hold ``store.delete`` (as gc calls it, with its row locks taken) until released."""

    def __init__(self, store: ArtifactStore, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        real = store.delete

        def delete(sha256: str) -> bool:
            self.entered.set()
            assert self.release.wait(30), "never released"
            return real(sha256)

        monkeypatch.setattr(store, "delete", delete)


# -- claims and saves ---------------------------------------------------------------------


def test_store_blob_claims_the_blob_and_the_save_references_it(
        db: Database, store: ArtifactStore, conn: psycopg.Connection[Any],
        new_version: Callable[[], ModelVersion]) -> None:
    data = os.urandom(MB + 1)
    ref = store_blob(db, store, data)
    assert blob_rows(conn) == {ref.sha256: len(data)}
    version = new_version()
    artifact = save(db, version, ref)
    assert (artifact.content_hash, artifact.size_bytes, artifact.storage_path) == (
        ref.sha256, len(data), ref.uri)
    assert store.get(ref) == data
    # The same bytes for another version: one blob, one ledger row, two references.
    again = store_blob(db, store, data)
    save(db, new_version(), again)
    assert again == ref and len(blob_rows(conn)) == 1
    assert objects(store, "sha256") == [store.key(ref.sha256)]


def test_pin_refuses_a_blob_that_was_never_claimed(db: Database, store: ArtifactStore,
                                                   new_version: Callable[[], ModelVersion],
                                                   conn: psycopg.Connection[Any]) -> None:
    ref = store.put(b"stored without a claim")
    with pytest.raises(ArtifactNotFound, match="garbage-collected"):
        save(db, new_version(), ref)
    assert conn.execute("select count(*) from model_artifacts").fetchone()[0] == 0


# -- verify ----------------------------------------------------------------------------------


def test_verify_reports_missing_and_corrupt_blobs_with_their_rows(
        db: Database, store: ArtifactStore, run: Run,
        new_version: Callable[[], ModelVersion]) -> None:
    good, lost, rotten = (os.urandom(MB // 2 + i) for i in range(3))
    refs = [store_blob(db, store, d) for d in (good, lost, rotten)]
    versions = [new_version() for _ in refs]
    artifacts = [save(db, v, r) for v, r in zip(versions, refs, strict=True)]
    snapshot = db.write(lambda c: data_snapshots.create(c, {
        "run_id": run.id, "data_source": "binance:BTCUSDT:1h", "start_date": T0, "end_date": T0,
        "features_hash": sha(b"f"), "storage_path": refs[2].uri, "content_hash": refs[2].sha256,
        "size_bytes": refs[2].size}))
    clean = verify(db, store)
    assert clean.ok and clean.checked == 3 and clean.bytes_checked == sum(r.size for r in refs)

    store.delete(refs[1].sha256)
    overwrite(store, refs[2].sha256, rotten[::-1])
    seen: list[int] = []
    report = verify(db, store, workers=2, progress=seen.append)
    assert not report.ok and report.checked == 3
    assert [(p.content_hash, p.problem) for p in report.problems] == sorted(
        [(refs[1].sha256, "missing"), (refs[2].sha256, "corrupt")])
    by_hash = {p.content_hash: p for p in report.problems}
    [missing_row] = by_hash[refs[1].sha256].references
    assert (missing_row.table_name, missing_row.row_id, missing_row.owner_id) == (
        "model_artifacts", artifacts[1].id, versions[1].id)
    corrupt_rows = {(r.table_name, r.row_id, r.owner_id) for r in by_hash[refs[2].sha256].references}
    assert corrupt_rows == {("model_artifacts", artifacts[2].id, versions[2].id),
                            ("data_snapshots", snapshot.id, run.id)}
    assert sum(seen) == report.bytes_checked >= refs[0].size


# -- gc ----------------------------------------------------------------------------------------


def test_gc_deletes_only_unreferenced_blobs_past_their_grace_period(
        db: Database, store: ArtifactStore, conn: psycopg.Connection[Any],
        new_version: Callable[[], ModelVersion]) -> None:
    kept, orphan, fresh = (store_blob(db, store, os.urandom(1000 + i)) for i in range(3))
    save(db, new_version(), kept)
    backdate(conn, kept.sha256, orphan.sha256)
    stale = store.path(blob_keys.TMP + "/20200101T000000Z-" + "0" * 32)
    live = store.path(blob_keys.new_tmp_key())
    for path in (stale, live):
        with store.fs.open(path, "wb") as f:
            f.write(b"an upload")

    dry = gc(db, store, grace=timedelta(hours=1), dry_run=True)
    assert (dry.deleted, dry.bytes_freed, dry.stale_uploads) == ([orphan.sha256], orphan.size, [stale])
    assert store.exists(orphan.sha256) and store.fs.exists(stale)
    assert set(blob_rows(conn)) == {kept.sha256, orphan.sha256, fresh.sha256}

    done = gc(db, store, grace=timedelta(hours=1))
    assert (done.deleted, done.bytes_freed, done.stale_uploads) == ([orphan.sha256], orphan.size, [stale])
    assert not store.exists(orphan.sha256)
    assert store.exists(kept.sha256) and store.exists(fresh.sha256)
    assert set(blob_rows(conn)) == {kept.sha256, fresh.sha256}
    assert objects(store, "tmp") == [live]
    # With no grace at all the fresh, unreferenced claim goes too; the referenced one never.
    assert gc(db, store, grace=timedelta(0)).deleted == [fresh.sha256]
    assert store.exists(kept.sha256) and set(blob_rows(conn)) == {kept.sha256}
    with pytest.raises(InvalidInput):
        gc(db, store, grace=timedelta(seconds=-1))


def test_gc_works_in_batches(db: Database, store: ArtifactStore, conn: psycopg.Connection[Any]) -> None:
    refs = [store_blob(db, store, f"blob {i}".encode()) for i in range(7)]
    report = gc(db, store, grace=timedelta(0), batch=3)
    assert sorted(report.deleted) == sorted(r.sha256 for r in refs)
    assert blob_rows(conn) == {} and objects(store, "sha256") == []


def test_gc_leaves_a_blob_whose_save_is_in_flight(
        db: Database, store: ArtifactStore, conn: psycopg.Connection[Any],
        new_version: Callable[[], ModelVersion]) -> None:
    version = new_version()
    ref = store_blob(db, store, b"weights being saved")
    backdate(conn, ref.sha256)  # even a claim far past the grace period
    with db.transaction() as tx:  # save_model, not yet committed
        pin_blobs(tx, [ref])
        models.create_artifact(tx, {"model_version_id": version.id, "artifact_type": "weights",
                                    "storage_path": ref.uri, "size_bytes": ref.size,
                                    "content_hash": ref.sha256})
        thread, outcome = in_thread(lambda: gc(db, store, grace=timedelta(0)))
        thread.join(30)
        assert not thread.is_alive(), "gc waited for the save instead of skipping its blob"
        assert outcome["value"].deleted == []
        assert store.exists(ref.sha256)
    assert gc(db, store, grace=timedelta(0)).deleted == []  # committed: referenced now
    assert store.get(ref) == b"weights being saved"
    assert verify(db, store).ok


def test_a_save_that_pins_while_gc_holds_the_blob_fails_without_a_row(
        db: Database, store: ArtifactStore, conn: psycopg.Connection[Any],
        new_version: Callable[[], ModelVersion], monkeypatch: pytest.MonkeyPatch) -> None:
    version = new_version()
    data = b"weights gc is about to take"
    ref = store_blob(db, store, data)
    paused = Paused(store, monkeypatch)
    collector, collected = in_thread(lambda: gc(db, store, grace=timedelta(0)))
    assert paused.entered.wait(30)  # gc holds the row lock, the object still exists
    saver, saved = in_thread(lambda: save(db, version, ref))
    wait_until(lambda: lock_waiters(conn) >= 1, what="the save to wait for gc's lock")
    paused.release.set()
    collector.join(30)
    saver.join(30)
    assert collected["value"].deleted == [ref.sha256]
    assert isinstance(saved.get("error"), ArtifactNotFound), saved
    assert conn.execute("select count(*) from model_artifacts").fetchone()[0] == 0
    assert not store.exists(ref.sha256) and blob_rows(conn) == {}
    # Storing again puts the bytes back: the save then succeeds and verifies.
    monkeypatch.undo()
    again = store_blob(db, store, data)
    save(db, version, again)
    assert store.get(again) == data and verify(db, store).ok


def test_a_put_that_finds_its_blob_while_gc_deletes_it_stores_it_again(
        db: Database, store: ArtifactStore, conn: psycopg.Connection[Any],
        new_version: Callable[[], ModelVersion], monkeypatch: pytest.MonkeyPatch) -> None:
    data = os.urandom(MB)
    old = store_blob(db, store, data)  # an old, unreferenced blob of the same content
    backdate(conn, old.sha256)
    paused = Paused(store, monkeypatch)
    collector, collected = in_thread(lambda: gc(db, store, grace=timedelta(hours=1)))
    assert paused.entered.wait(30)
    assert store.exists(old.sha256)  # a put that trusted what it sees would dedup onto this
    putter, put = in_thread(lambda: store_blob(db, store, data))
    wait_until(lambda: lock_waiters(conn) >= 1, what="the claim to wait for gc's lock")
    paused.release.set()
    collector.join(30)
    putter.join(30)
    assert collected["value"].deleted == [old.sha256]
    ref = put["value"]
    assert ref == old
    assert store.exists(ref.sha256), "the put returned a ref to a blob gc deleted"
    assert ref.sha256 in blob_rows(conn)
    save(db, new_version(), ref)
    assert store.get(ref) == data and verify(db, store).ok


# -- version cleanup -------------------------------------------------------------------------


def test_cleanup_keeps_the_newest_and_production_and_frees_deleted_blobs(
        db: Database, store: ArtifactStore, conn: psycopg.Connection[Any], model: Model,
        new_version: Callable[[], ModelVersion]) -> None:
    versions = [new_version() for _ in range(6)]
    shared = store_blob(db, store, b"weights shared by v1 and v6")
    own = [store_blob(db, store, f"weights of v{v.version}".encode()) for v in versions]
    for v, ref in zip(versions, own, strict=True):
        save(db, v, ref)
    save(db, versions[0], shared)
    save(db, versions[5], shared)
    db.write(lambda c: models.set_version_status(c, versions[1].id, "production"))
    db.write(lambda c: models.set_version_status(c, versions[2].id, "archived"))

    def statuses() -> dict[int, str]:
        return {v.version: v.status for v in db.read(lambda c: models.versions_of(c, model.id))}

    before = statuses()
    dry = cleanup_versions(db, model.name, keep=3, dry_run=True)
    assert dry.versions == [1] and statuses() == before  # v3 already archived, v2 in production
    archived = cleanup_versions(db, model.id, keep=3, actor="janitor")
    assert archived.versions == [1]
    assert statuses() == {1: "archived", 2: "production", 3: "archived", 4: "draft", 5: "draft",
                          6: "draft"}
    trail = db.read(lambda c: models.transitions(c, versions[0].id))
    assert (trail[-1].to_status, trail[-1].changed_by, trail[-1].reason) == (
        "archived", "janitor", "cleanup: keep newest 3")

    deleted = cleanup_versions(db, str(model.id), keep=2, action="delete")
    assert deleted.versions == [1, 3, 4]
    assert statuses() == {2: "production", 5: "draft", 6: "draft"}
    backdate(conn, *(r.sha256 for r in [*own, shared]))
    report = gc(db, store, grace=timedelta(hours=1))
    assert sorted(report.deleted) == sorted(own[i].sha256 for i in (0, 2, 3))
    assert store.exists(shared.sha256), "v6 still references the blob v1 shared"
    assert verify(db, store).ok

    assert cleanup_versions(db, model.id, keep=0).versions == [5, 6]
    assert statuses() == {2: "production", 5: "archived", 6: "archived"}
    with pytest.raises(InvalidInput):
        cleanup_versions(db, model.id, keep=-1)
    with pytest.raises(NotFound):
        cleanup_versions(db, "no-such-model", keep=1)
