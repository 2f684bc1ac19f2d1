"""ArtifactStore on every backend: round trips, dedup, atomic visibility, verification, memory."""

from __future__ import annotations

import hashlib
import io
import os
import threading
import tracemalloc
from pathlib import Path

import pytest

from resultsdb.artifacts import ArtifactStore, BlobRef
from resultsdb.artifacts import keys as blob_keys
from resultsdb.errors import ArtifactCorrupt, ArtifactNotFound, InvalidArtifactKey, NotFound

MB = 1 << 20


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def objects(store: ArtifactStore, folder: str) -> list[str]:
    """Every object under ``root/folder`` as the backend lists it now."""
    path = store.path(folder)
    store.fs.invalidate_cache()
    try:
        return sorted(str(p) for p in store.fs.find(path))
    except FileNotFoundError:
        return []


def overwrite(store: ArtifactStore, sha256: str, data: bytes) -> None:
    """Replace a stored blob's bytes behind the store's back (bit rot, a bad copy)."""
    with store.fs.open(store.key(sha256), "wb") as f:
        f.write(data)
    store.fs.invalidate_cache()


class Stream(io.RawIOBase):
    """``size`` pseudo-random bytes, made on the fly; knows their sha256 once read."""

    def __init__(self, size: int, seed: int = 7) -> None:
        self.left = size
        self.block = hashlib.sha256(str(seed).encode()).digest() * (MB // 32)  # 1 MiB pattern
        self.offset = 0
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        out = bytearray()
        while len(out) < n:
            start = self.offset % len(self.block)
            piece = self.block[start:start + n - len(out)]
            out += piece
            self.offset += len(piece) + 1  # shift the pattern so blocks differ
        self.left -= n
        data = bytes(out)
        self.digest.update(data)
        return data


# -- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 4 * MB + 3])
def test_put_and_get_round_trip_for_bytes_files_and_paths(store: ArtifactStore, size: int,
                                                          tmp_path: Path) -> None:
    data = os.urandom(size)
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    refs = [store.put(data), store.put(io.BytesIO(data)), store.put(path), store.put(str(path)),
            store.put(bytearray(data)), store.put(memoryview(data))]
    assert {r.sha256 for r in refs} == {sha(data)}
    assert {r.size for r in refs} == {size}
    ref = refs[0]
    assert ref.uri.endswith(f"/sha256/{ref.sha256[:2]}/{ref.sha256[2:4]}/{ref.sha256}")
    assert ref.uri.startswith(store.url.split("://")[0] + "://")
    assert store.get(ref) == data
    with store.open(ref) as reader:
        assert reader.read() == data and reader.verified
    assert store.exists(ref.sha256) and store.size(ref.sha256) == size
    # Stored once, whatever the input type; no upload left behind.
    assert objects(store, "sha256") == [store.key(ref.sha256)]
    assert objects(store, "tmp") == []


def test_identical_content_is_stored_once_and_different_content_apart(store: ArtifactStore) -> None:
    a, b = store.put(b"weights v1"), store.put(b"weights v2")
    assert store.put(b"weights v1") == a
    assert a.sha256 != b.sha256
    assert objects(store, "sha256") == sorted([store.key(a.sha256), store.key(b.sha256)])


def test_concurrent_puts_of_the_same_content_leave_one_blob(store: ArtifactStore) -> None:
    data = os.urandom(3 * MB)
    barrier = threading.Barrier(6)
    refs: list[BlobRef] = []
    failures: list[BaseException] = []

    def put() -> None:
        try:
            barrier.wait()
            refs.append(store.put(io.BytesIO(data)))
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=put) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    assert len(refs) == 6 and len(set(refs)) == 1
    assert objects(store, "sha256") == [store.key(sha(data))]
    assert objects(store, "tmp") == []
    assert store.get(refs[0]) == data


def test_download_writes_the_file_only_when_verified(store: ArtifactStore, tmp_path: Path) -> None:
    data = os.urandom(MB + 5)
    ref = store.put(data)
    target = store.download(ref, tmp_path / "out.bin")
    assert target.read_bytes() == data
    overwrite(store, ref.sha256, data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(ArtifactCorrupt):
        store.download(ref, tmp_path / "bad.bin")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "artifacts") == ["out.bin"]


# -- verification -------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["flip-last-byte", "flip-first-byte", "truncate", "extend"])
def test_a_corrupt_blob_is_refused_before_its_last_bytes(store: ArtifactStore, damage: str) -> None:
    data = os.urandom(2 * MB + 17)
    ref = store.put(data)
    bad = {
        "flip-last-byte": data[:-1] + bytes([data[-1] ^ 0xFF]),
        "flip-first-byte": bytes([data[0] ^ 0xFF]) + data[1:],
        "truncate": data[:-100],
        "extend": data + b"!",
    }[damage]
    overwrite(store, ref.sha256, bad)
    with pytest.raises(ArtifactCorrupt) as info:
        store.get(ref)
    assert info.value.expected_sha256 == ref.sha256

    # Streaming: everything before the corrupt end may arrive, the completing read may not.
    received = bytearray()
    with store.open(ref) as reader, pytest.raises(ArtifactCorrupt):
        while chunk := reader.read(MB):
            received += chunk
    assert len(received) < len(data)
    assert bytes(received) != data
    with store.open(ref) as reader, pytest.raises(ArtifactCorrupt):
        reader.read()
    assert store.check(ref.sha256, ref.size) == "corrupt"
    assert store.check(ref.sha256) == "corrupt"  # without the size: caught at end of file


def test_every_read_after_a_failure_fails_again(store: ArtifactStore) -> None:
    ref = store.put(b"abc")
    overwrite(store, ref.sha256, b"abd")
    with store.open(ref) as reader:
        for _ in range(3):
            with pytest.raises(ArtifactCorrupt):
                reader.read(10)


def test_a_missing_blob_is_not_found(store: ArtifactStore) -> None:
    ref = store.put(b"here today")
    store.delete(ref.sha256)
    assert not store.exists(ref.sha256)
    with pytest.raises(ArtifactNotFound) as info:
        store.get(ref)
    assert isinstance(info.value, NotFound) and isinstance(info.value, LookupError)
    assert store.check(ref.sha256, ref.size) == "missing"
    assert store.delete(ref.sha256) is False


def test_a_put_repairs_a_truncated_blob_and_trusts_a_whole_one(store: ArtifactStore) -> None:
    data = os.urandom(MB)
    ref = store.put(data)
    overwrite(store, ref.sha256, data[: MB // 2])
    assert store.put(data) == ref  # wrong size: replaced by the good bytes
    assert store.get(ref) == data


def test_refs_with_unsafe_hashes_never_reach_a_key(store: ArtifactStore) -> None:
    for bad in ("../" * 10 + "etc/passwd", "A" * 64, "ab" * 31, "/abs", "0" * 63 + "\x00", ""):
        with pytest.raises(InvalidArtifactKey):
            store.get(BlobRef(uri="x", sha256=bad, size=1))
        with pytest.raises(InvalidArtifactKey):
            store.delete(bad)


def test_put_refuses_what_is_not_bytes_a_file_or_a_path(store: ArtifactStore) -> None:
    with pytest.raises(InvalidArtifactKey, match="bytes, a binary file or a path"):
        store.put(12345)  # type: ignore[arg-type]
    assert objects(store, "tmp") == []


def test_a_failing_source_leaves_nothing_behind(store: ArtifactStore) -> None:
    class Broken(io.RawIOBase):
        sent = 0

        def readable(self) -> bool:
            return True

        def read(self, n: int = -1) -> bytes:
            if self.sent > 6 * MB:
                raise OSError("source disk went away")
            self.sent += n
            return b"x" * n

    with pytest.raises(OSError, match="source disk went away"):
        store.put(Broken())
    assert objects(store, "sha256") == [] and objects(store, "tmp") == []


# -- memory ---------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["local", "s3"])  # memory holds every blob in RAM by design
def test_a_100_mb_stream_goes_in_and_out_in_bounded_memory(store: ArtifactStore, backend: str) -> None:
    size = 100 * MB
    source = Stream(size)
    tracemalloc.start()
    try:
        ref = store.put(source)
        _, put_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest = hashlib.sha256()
        with store.open(ref) as reader:
            while chunk := reader.read(MB):
                digest.update(chunk)
            assert reader.verified
        _, get_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert ref.size == size and ref.sha256 == source.digest.hexdigest() == digest.hexdigest()
    # Locally: the 4 MiB chunk in flight and its hash. On S3 add s3fs's 8 MiB part buffer
    # (which grows past 8 MiB before it is flushed), the copy it uploads and botocore's
    # checksum pass: about 30 MiB measured for 50, 100 and 200 MiB streams alike.
    bound = 16 * MB if backend == "local" else 48 * MB
    assert put_peak < bound, f"put peaked at {put_peak / MB:.1f} MiB for a 100 MiB stream"
    assert get_peak < bound, f"read peaked at {get_peak / MB:.1f} MiB for a 100 MiB blob"


# -- keys ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "file:///tmp/a/../b", "file:///tmp//b", "file:///", "memory://x/./y", "s3://bucket/a/../b",
    "s3://bucket//b", "s3://", "file:///tmp/a\x00b", "file:///tmp/a\\b",
])
def test_unsafe_store_roots_are_refused(url: str) -> None:
    with pytest.raises(InvalidArtifactKey):
        ArtifactStore(url)


@pytest.mark.parametrize("key", ["", "/abs", "a//b", "a/../b", "..", "a/.", "a\x00b", "a/", "a\\b",
                                 "a/\nb"])
def test_unsafe_relative_keys_are_refused(key: str, tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path.as_uri())
    with pytest.raises(InvalidArtifactKey):
        store.path(key)


def test_key_layout_and_upload_names() -> None:
    digest = sha(b"x")
    assert blob_keys.blob_key(digest) == f"sha256/{digest[:2]}/{digest[2:4]}/{digest}"
    tmp = blob_keys.new_tmp_key()
    started = blob_keys.tmp_started(tmp.split("/")[1])
    assert tmp.startswith("tmp/") and started is not None
    assert blob_keys.tmp_started("somebody-elses-file") is None


def test_store_from_settings_defaults_under_the_data_dir(tmp_path: Path) -> None:
    from resultsdb.config import Settings

    store = ArtifactStore.from_settings(Settings(data_dir=tmp_path))
    assert store.root == str((tmp_path / "artifacts").resolve())
    ref = store.put(b"default")
    assert (tmp_path / "artifacts" / "sha256" / ref.sha256[:2] / ref.sha256[2:4] / ref.sha256
            ).read_bytes() == b"default"


# -- object stores: straight to the content key ------------------------------------------------


def everything(store: ArtifactStore) -> list[str]:
    store.fs.invalidate_cache()
    return sorted(str(p) for p in store.fs.find(store.root))


@pytest.fixture
def s3_store(moto_endpoint: str) -> ArtifactStore:
    from tests.artifacts.conftest import make_bucket, s3_options

    return ArtifactStore(f"s3://{make_bucket(moto_endpoint)}/artifacts", **s3_options(moto_endpoint))


# 9 MiB: s3fs's file object, two parts one after the other. 20 MiB: two full 8 MiB parts
# or more go up side by side (resultsdb.artifacts._multipart).
DIRECT_SIZES = [9 * MB + 1, 20 * MB + 1]


@pytest.mark.parametrize("size", DIRECT_SIZES)
def test_s3_puts_rereadable_data_straight_to_its_content_key(
        s3_store: ArtifactStore, tmp_path: Path, size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from resultsdb.artifacts import _multipart

    side_by_side: list[int] = []
    real = _multipart.upload_verified
    monkeypatch.setattr(_multipart, "upload_verified", lambda *a, **k: side_by_side.append(1)
                        or real(*a, **k))
    data = os.urandom(size)  # more than one 8 MiB multipart part
    path = tmp_path / "weights.bin"
    path.write_bytes(data)
    with s3_store.stage(path) as staged:
        # Hashed, nothing sent: no temporary key, so no server-side copy to come.
        assert (staged.tmp, staged.sha256, staged.size) == (None, sha(data), len(data))
        assert everything(s3_store) == []
        ref = staged.commit()
    assert everything(s3_store) == [s3_store.key(sha(data))]
    assert s3_store.get(ref) == data
    # An open local file: read from where it stands to its end, as on every backend.
    with path.open("rb") as f:
        f.seek(MB)
        assert s3_store.put(f).sha256 == sha(data[MB:])
        assert f.tell() == len(data)
    assert len(objects(s3_store, "sha256")) == 2
    assert len(side_by_side) == (2 if size >= 16 * MB else 0)


@pytest.mark.slow
def test_a_100_mb_file_goes_straight_to_s3_in_bounded_memory(s3_store: ArtifactStore,
                                                             tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    with path.open("wb") as f:
        for _ in range(100):
            f.write(os.urandom(MB))
    tracemalloc.start()
    try:
        ref = s3_store.put(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert ref.sha256 == sha(path.read_bytes()) and s3_store.exists(ref.sha256)
    # Two 8 MiB parts in flight, one being filled, the read chunks and botocore's share:
    # about 53 MiB measured, flat in the file's size.
    assert peak < 64 * MB, f"put peaked at {peak / MB:.1f} MiB for a 100 MiB file"


def test_s3_does_not_send_content_it_already_holds(s3_store: ArtifactStore, tmp_path: Path) -> None:
    path = tmp_path / "weights.bin"
    path.write_bytes(b"stored once" * 1000)
    first = s3_store.put(path)
    with s3_store.stage(path) as staged:
        path.write_bytes(b"changed after hashing")  # would fail the upload, were one sent
        assert staged.commit() == first
    assert everything(s3_store) == [s3_store.key(first.sha256)]


@pytest.mark.parametrize("size", DIRECT_SIZES)
@pytest.mark.parametrize("change", ["other bytes", "shorter"])
def test_s3_source_changed_between_hash_and_upload_stores_nothing(
        s3_store: ArtifactStore, tmp_path: Path, size: int, change: str) -> None:
    from resultsdb.errors import ArtifactSourceChanged

    path = tmp_path / "weights.bin"
    before = os.urandom(size)
    # Same size, other bytes: only the second hash can tell. Or cut short by a writer.
    after = os.urandom(size) if change == "other bytes" else before[:size - MB]
    path.write_bytes(before)
    with s3_store.stage(path) as staged:
        path.write_bytes(after)
        with pytest.raises(ArtifactSourceChanged, match="data: changed while being stored"):
            staged.commit()
    # The upload was abandoned before completing: nothing under either hash, nor anywhere.
    assert everything(s3_store) == []
    assert not s3_store.exists(sha(before)) and not s3_store.exists(sha(after))
