"""Store failures are typed errors, and when the bytes are not stored no row is written."""

from __future__ import annotations

import errno
import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from resultsdb.artifacts import ArtifactStore, record_artifact, store_blob
from resultsdb.artifacts._errors import map_store_error
from resultsdb.db import Database
from resultsdb.errors import (
    ArtifactError,
    ArtifactNotFound,
    ArtifactPermissionDenied,
    ArtifactStoreFull,
    ArtifactStoreUnavailable,
)
from resultsdb.records import ModelVersion
from tests.artifacts.conftest import CutProxy, bucket_keys, make_bucket, s3_options
from tests.artifacts.test_store import objects

MB = 1 << 20


def counts(conn: psycopg.Connection[Any]) -> tuple[int, int]:
    row = conn.execute("select (select count(*) from blobs), (select count(*) from model_artifacts)"
                       ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


class FailingWriter(io.RawIOBase):
    """A store file whose writes fail with ``error`` once ``after`` bytes went in."""

    def __init__(self, error: OSError, after: int) -> None:
        self.error, self.after, self.written = error, after, 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.written + len(data) > self.after:
            raise self.error
        self.written += len(data)
        return len(data)


@pytest.mark.parametrize(("error", "expected"), [
    (OSError(errno.ENOSPC, "No space left on device"), ArtifactStoreFull),
    (OSError(errno.EDQUOT, "Disk quota exceeded"), ArtifactStoreFull),
    (PermissionError(errno.EACCES, "Permission denied"), ArtifactPermissionDenied),
    (OSError(errno.EROFS, "Read-only file system"), ArtifactPermissionDenied),
    (ConnectionResetError(errno.ECONNRESET, "reset"), ArtifactStoreUnavailable),
])
def test_a_failing_write_is_a_typed_error_and_writes_no_row(
        db: Database, store: ArtifactStore, conn: psycopg.Connection[Any],
        new_version: Callable[[], ModelVersion], monkeypatch: pytest.MonkeyPatch,
        error: OSError, expected: type[ArtifactError]) -> None:
    version = new_version()
    real_open = store.fs.open

    def open_(path: str, mode: str = "rb", **kw: Any) -> Any:
        return FailingWriter(error, after=MB) if "w" in mode else real_open(path, mode, **kw)

    monkeypatch.setattr(store.fs, "open", open_)
    with pytest.raises(expected) as info:
        ref = store_blob(db, store, os.urandom(3 * MB))
        db.write(lambda c: record_artifact(c, version.id, ref, artifact_type="weights"))
    assert store.url.split("://")[0] in str(info.value)
    assert counts(conn) == (0, 0)
    monkeypatch.undo()
    assert objects(store, "sha256") == [] and objects(store, "tmp") == []


@pytest.mark.slow
def test_s3_stopped_mid_upload_is_a_typed_error_with_no_row_and_no_object(
        db: Database, conn: psycopg.Connection[Any], moto_endpoint: str, cut_proxy: CutProxy,
        new_version: Callable[[], ModelVersion]) -> None:
    bucket = make_bucket(moto_endpoint)
    store = ArtifactStore(f"s3://{bucket}/artifacts",
                          **s3_options(f"http://127.0.0.1:{cut_proxy.port}"))
    version = new_version()
    warm = store_blob(db, store, b"uploaded before the outage")

    class Source(io.RawIOBase):
        """40 MiB; the network goes after 20 MiB, with several multipart parts already sent."""

        sent = 0

        def readable(self) -> bool:
            return True

        def read(self, n: int = -1) -> bytes:
            if self.sent >= 40 * MB:
                return b""
            if self.sent >= 20 * MB and not cut_proxy.cut_done.is_set():
                cut_proxy.cut()
            self.sent += n
            return os.urandom(n)

    with pytest.raises(ArtifactStoreUnavailable, match="unreachable"):
        ref = store_blob(db, store, Source())
        db.write(lambda c: record_artifact(c, version.id, ref, artifact_type="weights"))
    # moto still runs behind the cut proxy: ask it directly what the bucket holds.
    assert bucket_keys(moto_endpoint, bucket) == [f"artifacts/sha256/{warm.sha256[:2]}/"
                                                  f"{warm.sha256[2:4]}/{warm.sha256}"]
    assert counts(conn) == (1, 0)  # only the earlier blob's claim


@pytest.mark.slow
def test_an_unreachable_s3_is_a_typed_error(moto_endpoint: str) -> None:
    bucket = make_bucket(moto_endpoint)
    proxy = CutProxy(int(moto_endpoint.rsplit(":", 1)[1]))
    store = ArtifactStore(f"s3://{bucket}/artifacts", **s3_options(f"http://127.0.0.1:{proxy.port}"))
    ref = store.put(b"x")
    proxy.cut()
    with pytest.raises(ArtifactStoreUnavailable):
        store.get(ref)
    with pytest.raises(ArtifactStoreUnavailable):
        store.put(b"y")


def test_a_missing_bucket_is_not_found(moto_endpoint: str) -> None:
    store = ArtifactStore("s3://rdb-no-such-bucket/artifacts", **s3_options(moto_endpoint))
    with pytest.raises(ArtifactNotFound):
        store.put(b"nowhere to go")


def test_backend_exceptions_map_to_typed_errors() -> None:
    from aiohttp import ClientConnectorError, ServerDisconnectedError
    from aiohttp.client_reqrep import ConnectionKey
    from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError
    from s3fs.errors import translate_boto_error

    def client_error(code: str) -> BaseException:
        return translate_boto_error(ClientError({"Error": {"Code": code, "Message": code}}, "PutObject"))

    key = ConnectionKey("127.0.0.1", 9, False, True, None, None, None)
    cases: list[tuple[BaseException, type[ArtifactError]]] = [
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), ArtifactStoreUnavailable),
        (ConnectTimeoutError(endpoint_url="http://127.0.0.1:9"), ArtifactStoreUnavailable),
        (ClientConnectorError(key, OSError(errno.ECONNREFUSED, "refused")), ArtifactStoreUnavailable),
        (ServerDisconnectedError(), ArtifactStoreUnavailable),
        (client_error("AccessDenied"), ArtifactPermissionDenied),
        (client_error("NoSuchKey"), ArtifactNotFound),
        (client_error("NoSuchBucket"), ArtifactNotFound),
        (FileNotFoundError(errno.ENOENT, "gone"), ArtifactNotFound),
        (OSError(errno.ENOSPC, "full"), ArtifactStoreFull),
        (OSError(errno.EIO, "I/O error"), ArtifactError),
    ]
    for exc, expected in cases:
        mapped = map_store_error(exc, "s3://bucket/key")
        assert type(mapped) is expected, (exc, mapped)
        assert "s3://bucket/key" in str(mapped)


@pytest.mark.slow
def test_s3_stopped_mid_direct_upload_of_a_file_leaves_no_row_and_no_object(
        db: Database, conn: psycopg.Connection[Any], moto_endpoint: str, cut_proxy: CutProxy,
        tmp_path: Path) -> None:
    """A local file goes straight to its content key (hashed first, claimed, then sent):
    cut mid-upload, the multipart upload is abandoned and the claim made for it removed."""
    bucket = make_bucket(moto_endpoint)
    store = ArtifactStore(f"s3://{bucket}/artifacts",
                          **s3_options(f"http://127.0.0.1:{cut_proxy.port}"))
    warm = store_blob(db, store, b"uploaded before the outage")
    path = tmp_path / "weights.bin"
    path.write_bytes(os.urandom(40 * MB))

    class Cutting(io.FileIO):
        """The file; the network goes 20 MiB into the upload (after the 40 MiB hashing pass)."""

        read_so_far = 0

        def readinto(self, buffer: Any) -> int | None:
            if self.read_so_far >= 60 * MB and not cut_proxy.cut_done.is_set():
                cut_proxy.cut()
            n = super().readinto(buffer)
            self.read_so_far += n or 0
            return n

    with Cutting(str(path), "rb") as source, pytest.raises(ArtifactStoreUnavailable):
        store_blob(db, store, source)
    assert bucket_keys(moto_endpoint, bucket) == [f"artifacts/sha256/{warm.sha256[:2]}/"
                                                  f"{warm.sha256[2:4]}/{warm.sha256}"]
    assert counts(conn) == (1, 0)  # the claim made for the cut upload was retracted
