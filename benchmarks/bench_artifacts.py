"""Artifact store throughput: put and get of a ~256 MiB file against a raw fsspec copy of it.

``put`` reads, hashes (sha256, on a second thread while it writes), writes to a
temporary key and renames; ``get`` (``download``) reads, verifies and writes a local
file. The baselines move the same bytes with fsspec's own ``put_file``/``get_file``
and no hashing. Locally the store fsyncs what it writes (a row must never outlive its
blob across a crash), so its put is compared with a copy that fsyncs too; the
no-fsync pair is reported beside it. S3 runs against moto on loopback when
``RESULTSDB_BENCH_S3`` is not ``0``.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fsspec

from benchmarks._harness import ROOT, Bench, Result
from resultsdb.artifacts import ArtifactStore, BlobRef
from resultsdb.artifacts.store import S3_BLOCK_SIZE

MB = 1 << 20
SIZE = int(os.environ.get("RESULTSDB_BENCH_ARTIFACT_MB", "256")) * MB
S3_SIZE = 64 * MB
REPEAT = 5


def _source(folder: Path, size: int) -> Path:
    path = folder / f"source-{size // MB}mb.bin"
    block = os.urandom(MB)
    with path.open("wb") as f:
        for i in range(size // MB):
            f.write(block[i % 251:] + block[:i % 251])  # distinct blocks, cheap to make
    return path


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _mbps(fn: Callable[[], object], size: int, reset: Callable[[], object]) -> float:
    reset()
    start = time.perf_counter()
    fn()
    return size / MB / (time.perf_counter() - start)


def _pair(ours: Callable[[], object], raw: Callable[[], object], size: int,
          reset: Callable[[], object]) -> tuple[float, float]:
    """Median MB/s of each, runs interleaved so that drift in the machine hits both alike."""
    a: list[float] = []
    b: list[float] = []
    _mbps(ours, size, reset), _mbps(raw, size, reset)  # warm-up
    for _ in range(REPEAT):
        a.append(_mbps(ours, size, reset))
        b.append(_mbps(raw, size, reset))
    return statistics.median(a), statistics.median(b)


def _local(folder: Path) -> list[Result]:
    src = _source(folder, SIZE)
    fs = fsspec.filesystem("file")
    raw_dir = folder / "raw"
    raw_dir.mkdir()
    raw_key = str(raw_dir / "copy.bin")
    out = str(folder / "out.bin")
    results: list[Result] = []
    note = f"{SIZE // MB} MiB file, local disk"
    for fsync in (True, False):
        store = ArtifactStore((folder / f"store-{fsync}").as_uri(), fsync=fsync)
        ref = store.put(src)

        def reset(store: ArtifactStore = store, ref: BlobRef = ref) -> None:
            store.delete(ref.sha256)  # else the next put is a dedup hit, not a write
            Path(raw_key).unlink(missing_ok=True)

        def raw_put(fsync: bool = fsync) -> None:
            fs.put_file(str(src), raw_key)
            if fsync:
                _fsync(raw_key)

        def put(store: ArtifactStore = store) -> None:
            store.put(src)

        ours, raw = _pair(put, raw_put, SIZE, reset)
        label = "fsync" if fsync else "no fsync"
        results.append(Result("artifacts (local)", f"put ({label})", ours, "MB/s",
                              f"fsspec put_file{' + fsync' if fsync else ''}", raw, note=note))
    store = ArtifactStore((folder / "store-get").as_uri())
    ref = store.put(src)
    fs.put_file(str(src), raw_key)

    def reset_out() -> None:
        Path(out).unlink(missing_ok=True)

    ours, raw = _pair(lambda: store.download(ref, out), lambda: fs.get_file(raw_key, out), SIZE,
                      reset_out)
    results.append(Result("artifacts (local)", "get: download, verified", ours, "MB/s",
                          "fsspec get_file", raw, note=note))

    # The ceiling of any verified copy: sha256 alone over the same bytes (page cache,
    # no copy at all). A verified get cannot beat it, whatever it overlaps.
    def sha256_only() -> None:
        with open(src, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            hashlib.sha256(m).digest()

    hashed, raw = _pair(sha256_only, lambda: fs.get_file(raw_key, out), SIZE, reset_out)
    results.append(Result("artifacts (local)", "sha256 alone (no copy): the ceiling of a verified get",
                          hashed, "MB/s", "fsspec get_file", raw,
                          note="hashlib over an mmap of the file, page cache"))

    def read_all(reader_factory: Callable[[], object]) -> None:
        with reader_factory() as r:  # type: ignore[attr-defined]
            while r.read(4 * MB):
                pass

    ours, raw = _pair(lambda: read_all(lambda: store.open(ref)),
                      lambda: read_all(lambda: fs.open(raw_key, "rb")), SIZE, lambda: None)
    results.append(Result("artifacts (local)", "open + read, verified", ours, "MB/s",
                          "fsspec open + read", raw,
                          note="page cache; bound by sha256 (the price of verifying)"))
    return results


_MOTO = ("import sys\nfrom moto.server import ThreadedMotoServer\n"
         "s = ThreadedMotoServer(ip_address='127.0.0.1', port=0, verbose=False)\ns.start()\n"
         "print(s.get_host_and_port()[1], flush=True)\nsys.stdin.read()\n")


def _s3(folder: Path) -> list[Result]:
    import boto3

    child = subprocess.Popen([sys.executable, "-c", _MOTO], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert child.stdout is not None
        endpoint = f"http://127.0.0.1:{int(child.stdout.readline())}"
        bucket = f"bench-{uuid.uuid4().hex[:8]}"
        creds = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **creds
                     ).create_bucket(Bucket=bucket)
        options: dict[str, Any] = {"key": "bench", "secret": "bench", "endpoint_url": endpoint,
                   "skip_instance_cache": True, "use_listings_cache": False,
                   "client_kwargs": {"region_name": "us-east-1"}}
        src = _source(folder, S3_SIZE)
        store = ArtifactStore(f"s3://{bucket}/store", **options)
        fs = fsspec.filesystem("s3", **options)
        raw_key = f"{bucket}/raw/copy.bin"
        ref = store.put(src)
        note = f"{S3_SIZE // MB} MiB file, moto on loopback"

        def reset() -> None:
            store.delete(ref.sha256)

        # Same part size for both, so the comparison is about what the store adds.
        ours, raw = _pair(lambda: store.put(src),
                          lambda: fs.put_file(str(src), raw_key, chunksize=8 * MB), S3_SIZE, reset)
        results = [Result("artifacts (S3)", "put", ours, "MB/s", "s3fs put_file", raw, note=note)]
        store.put(src)
        out = str(folder / "s3-out.bin")
        # s3fs downloads an object larger than its block size as concurrent ranged GETs of
        # that size. The store's block size is S3_BLOCK_SIZE (8 MiB); s3fs's default is
        # 50 MiB. Against the same ranges the ratio is what verifying costs; against the
        # defaults it also carries the part size, which on moto (one Python process on
        # loopback) favours few large ranges, unlike S3 itself.
        same = fsspec.filesystem("s3", default_block_size=S3_BLOCK_SIZE, **options)
        for raw_fs, label in ((same, f"{S3_BLOCK_SIZE // MB} MiB ranges, as the store's"),
                              (fs, "s3fs's default 50 MiB ranges")):
            def raw_get(raw_fs: Any = raw_fs) -> None:
                raw_fs.get_file(raw_key, out)

            ours, raw = _pair(lambda: store.download(ref, out), raw_get, S3_SIZE,
                              lambda: Path(out).unlink(missing_ok=True))
            results.append(Result("artifacts (S3)", "get: download, verified", ours, "MB/s",
                                  f"s3fs get_file, {label}", raw, note=note))
        return results
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)


def run(bench: Bench) -> list[Result]:
    (ROOT / ".resultsdb").mkdir(exist_ok=True)
    # On the project's disk (where the default store lives), not a RAM-backed /tmp.
    folder = Path(tempfile.mkdtemp(prefix="bench-artifacts-", dir=ROOT / ".resultsdb"))
    try:
        results = _local(folder)
        if os.environ.get("RESULTSDB_BENCH_S3", "1") != "0":
            results += _s3(folder)
        for r in results:
            print(f"  {r.name}: {r.value:,.0f} MB/s vs {r.baseline_value:,.0f} MB/s "
                  f"({r.ratio:.2f}x)", flush=True)
        return results
    finally:
        shutil.rmtree(folder, ignore_errors=True)
