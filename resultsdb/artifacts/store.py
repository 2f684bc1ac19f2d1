"""A content-addressed blob store over any fsspec file system (local, S3, memory).

``put`` streams its input in chunks to a temporary key while computing the sha256,
then makes the object visible under ``sha256/ab/cd/<digest>`` only once it is whole:
a reader never sees a partial blob, and identical content is stored once. On object
stores (S3), input that can be read twice - bytes, a local path, a seekable local file -
is hashed first and uploaded straight to its content key instead: an S3 object is
visible only once its upload completes, so no temporary key and server-side copy are
needed, and content already stored is not uploaded at all. ``open`` and
``get`` hash what they read and raise :class:`~resultsdb.errors.ArtifactCorrupt`
instead of handing out the bytes that would complete a corrupt read. Every backend
failure arrives as an :class:`~resultsdb.errors.ArtifactError`.

The store knows nothing about the database; :mod:`resultsdb.artifacts.blobs` adds the
claims that make garbage collection safe.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import fsspec
from fsspec.implementations.local import LocalFileSystem
from fsspec.spec import AbstractBufferedFile

from resultsdb.artifacts import _copy, _multipart, keys
from resultsdb.artifacts import _sources as sources
from resultsdb.artifacts._errors import SourceFailed, mapped
from resultsdb.artifacts._sources import Data
from resultsdb.artifacts.reader import VerifyingReader
from resultsdb.config import Settings
from resultsdb.errors import ArtifactCorrupt, InvalidArtifactKey
from resultsdb.extras import require

# 4 MiB: large enough that per-chunk overhead vanishes and hashing overlaps writing well,
# small enough that a put holds a few MiB whatever the blob's size.
CHUNK_SIZE = 4 << 20
# s3fs uploads a multipart part each time its buffer passes this; its default is 50 MiB.
S3_BLOCK_SIZE = 8 << 20

BlobStatus = Literal["ok", "missing", "corrupt"]


@dataclass(frozen=True)
class BlobRef:
    """Where a blob is (``uri``, informative), what it is (``sha256``) and how long (``size``).

    A store finds a blob by its hash, never by parsing ``uri``: rows stay valid when
    the store moves.
    """

    uri: str
    sha256: str
    size: int


class StagedBlob:
    """Bytes hashed and ready to publish; :meth:`commit` makes them visible.

    Either written under a temporary key (``tmp``), or - on object stores, for input
    that can be read again - only hashed so far (``source``): commit uploads them
    straight to the content key.
    """

    def __init__(self, store: ArtifactStore, tmp: str | None, sha256: str, size: int,
                 source: Any = None) -> None:
        self.store, self.tmp, self.sha256, self.size = store, tmp, sha256, size
        self.source = source
        self.committed = False
        self.tmp_consumed = False  # moved into place: nothing left to clean up

    def commit(self) -> BlobRef:
        """Publish under the content key. Returns the ref; idempotent.

        An object already there with the same size is the same content (dedup): the
        temporary copy is dropped. A missing or wrong-sized one is replaced, atomically
        (rename on local disks, server-side copy on S3). The store is asked each time:
        no database row is trusted to say what the store holds.
        """
        if not self.committed:
            if self.tmp is None:
                self.store._upload_direct(self.source, self.sha256, self.size)
            else:
                self.tmp_consumed = self.store._publish(self.tmp, self.sha256, self.size)
            self.committed = True
        return self.store.ref(self.sha256, self.size)


class ArtifactStore:
    """Content-addressed blobs under one fsspec URL (``file://``, ``s3://``, ``memory://``)."""

    def __init__(self, url: str, *, fsync: bool = True, chunk_size: int = CHUNK_SIZE,
                 **storage_options: Any) -> None:
        if "\x00" in url:
            raise InvalidArtifactKey("artifact store URL contains NUL", field="artifacts_url")
        protocol = url.split("://", 1)[0] if "://" in url else "file"
        if protocol == "s3":
            require("s3", "an s3:// artifact store")
            # Listings cached in the client would make a blob deleted by another process look
            # present: every existence check must ask the store.
            storage_options.setdefault("use_listings_cache", False)
            storage_options.setdefault("default_block_size", S3_BLOCK_SIZE)
        fs, root = fsspec.core.url_to_fs(url, **storage_options)
        self.fs: fsspec.AbstractFileSystem = fs
        self.local = isinstance(fs, LocalFileSystem)
        self.root = keys.check_root(root, absolute=self.local or protocol == "memory")
        self.url = url
        self.fsync = fsync and self.local
        self.chunk_size = chunk_size

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **options: Any) -> ArtifactStore:
        """The store ``RESULTSDB_ARTIFACTS_URL`` names (default ``file://<data_dir>/artifacts``)."""
        return cls((settings or Settings()).resolved_artifacts_url(), **options)

    def __repr__(self) -> str:
        return f"ArtifactStore({self.fs.unstrip_protocol(self.root)!r})"

    # -- keys ------------------------------------------------------------------------

    def path(self, relative: str) -> str:
        """The backend path of a key relative to the root (checked: no ``..``, no absolute path)."""
        return f"{self.root}/{keys.check_relative(relative)}"

    def key(self, sha256: str) -> str:
        return self.path(keys.blob_key(sha256))

    def uri(self, sha256: str) -> str:
        return str(self.fs.unstrip_protocol(self.key(sha256)))

    def ref(self, sha256: str, size: int) -> BlobRef:
        return BlobRef(uri=self.uri(sha256), sha256=sha256, size=size)

    # -- writing ---------------------------------------------------------------------

    def put(self, data: Data) -> BlobRef:
        """Store ``data`` (bytes, a binary file-like, or a local path) once; its ref."""
        with self.stage(data) as staged:
            return staged.commit()

    @contextmanager
    def stage(self, data: Data) -> Iterator[StagedBlob]:
        """Write ``data`` to a temporary key, hashing as it goes; yield it uncommitted.

        Whatever happens inside the block, the temporary key is gone afterwards: committed
        into place or deleted. Nothing is visible under the content key until commit.
        """
        if not self.local and self.fs.protocol != "memory" and sources.rereadable(data):
            try:  # the source only: its failures are the caller's, not the store's
                sha256, size = sources.hash_source(data, self.chunk_size)
            except SourceFailed as failed:
                raise failed.original from None
            yield StagedBlob(self, None, sha256, size, source=data)
            return
        tmp = self.path(keys.new_tmp_key())
        staged: StagedBlob | None = None
        try:
            sha256, size = self._write_hashing(data, tmp)
            staged = StagedBlob(self, tmp, sha256, size)
            yield staged
        finally:
            if staged is None or not staged.tmp_consumed:
                self._discard(tmp)

    def _write_hashing(self, data: Data, tmp: str) -> tuple[str, int]:
        if not isinstance(data, str | os.PathLike | bytes | bytearray | memoryview) \
                and not hasattr(data, "read"):
            raise InvalidArtifactKey(
                f"artifact data must be bytes, a binary file or a path, not {type(data).__name__}",
                field="data")
        path = data if isinstance(data, str | os.PathLike) else None
        with ExitStack() as stack:
            source = stack.enter_context(sources.reopened(data))
            try:
                with mapped(self.fs.unstrip_protocol(tmp)):
                    if self.local:
                        self.fs.makedirs(self.fs._parent(tmp), exist_ok=True)
                        if path is not None:
                            copied = _copy.kernel_copy_hashing(source, tmp, chunk=self.chunk_size,
                                                               fsync=self.fsync)
                            if copied is not None:
                                return copied
                    return self._stream(sources.guarded(_copy.chunks(source, self.chunk_size)), tmp)
            except SourceFailed as failed:
                raise failed.original from None  # the caller's source broke, not the store

    def _stream(self, source: Iterator[memoryview], tmp: str) -> tuple[str, int]:
        f = self.fs.open(tmp, "wb")
        ok = False
        try:
            result = _copy.copy_hashing(source, f.write)
            if self.fsync:
                f.flush()
                os.fsync(f.fileno())
            ok = True
        finally:
            if ok:
                f.close()  # completes the multipart upload (S3): still only the tmp key
            else:
                _abandon(f)
        return result

    def _upload_direct(self, data: Data, sha256: str, size: int) -> bool:
        """Upload hashed ``data`` straight to its content key; False when it is already there.

        The bytes are hashed again as they are sent; if they differ from the first pass
        (the source changed), the upload is abandoned before it completes, so nothing
        appears under the key, and :class:`ArtifactSourceChanged` is raised.
        """
        final = self.key(sha256)
        with mapped(self.fs.unstrip_protocol(final)):
            if self._size(final) == size:
                return False  # already stored: deduplicated, nothing sent
        with sources.reopened(data) as source:
            try:
                if size >= 2 * S3_BLOCK_SIZE and hasattr(self.fs, "call_s3"):
                    with mapped(self.fs.unstrip_protocol(final)):
                        sent = _multipart.upload_verified(
                            self.fs, final, sources.guarded(_copy.chunks(source, self.chunk_size)),
                            part_size=S3_BLOCK_SIZE, expected=(sha256, size))
                        self.fs.invalidate_cache(final)
                    if sent != (sha256, size):
                        raise sources.source_changed(sha256, size, sent)
                    return True
                with mapped(self.fs.unstrip_protocol(final)):
                    f = self.fs.open(final, "wb")
                    ok = False
                    try:
                        sent = _copy.copy_hashing(sources.guarded(_copy.chunks(source, self.chunk_size)),
                                                  f.write)
                        if sent != (sha256, size):
                            raise sources.source_changed(sha256, size, sent)
                        ok = True
                    finally:
                        if ok:
                            f.close()  # completes the upload: the object appears whole
                        else:
                            _abandon(f)
                    self.fs.invalidate_cache(final)
            except SourceFailed as failed:
                raise failed.original from None
        return True

    def _publish(self, tmp: str, sha256: str, size: int) -> bool:
        """Make ``tmp`` visible as blob ``sha256``; True when it was moved (False: deduplicated)."""
        final = self.key(sha256)
        with mapped(self.fs.unstrip_protocol(final)):
            if self._size(final) == size:
                return False  # already stored: deduplicated
            if self.local:
                self.fs.makedirs(self.fs._parent(final), exist_ok=True)
                # rename(2) within one file system: the blob appears whole or not at all.
                os.replace(tmp, final)
                if self.fsync:
                    _fsync_dir(os.path.dirname(final))
            else:
                # A server-side copy then delete (no bytes through us): on S3 the copy lands
                # whole or not at all, which is what makes the final key safe to read.
                self.fs.cp_file(tmp, final)
                self.fs.rm_file(tmp)
            self.fs.invalidate_cache(final)
        return True

    def _discard(self, tmp: str) -> None:
        try:
            self.fs.rm_file(tmp)
        except FileNotFoundError:
            pass
        except Exception:  # noqa: BLE001, S110 - cleanup is best effort: gc sweeps stale tmp keys
            pass

    # -- reading ---------------------------------------------------------------------

    def _size(self, path: str) -> int | None:
        """The size of the object at ``path`` as the store reports it now; None when absent."""
        self.fs.invalidate_cache(path)
        try:
            info = self.fs.info(path)
        except FileNotFoundError:
            return None
        if info.get("type") == "directory":
            return None
        return int(info["size"])

    def exists(self, sha256: str) -> bool:
        with mapped(self.uri(sha256)):
            return self._size(self.key(sha256)) is not None

    def size(self, sha256: str) -> int:
        """The stored size of a blob; ArtifactNotFound when it is absent."""
        with mapped(self.uri(sha256)):
            size = self._size(self.key(sha256))
        if size is None:
            with mapped(self.uri(sha256)):
                raise FileNotFoundError(self.key(sha256))
        return size

    def open(self, ref: BlobRef | str, size: int | None = None) -> VerifyingReader:
        """A binary reader over a blob that verifies as it goes.

        ``ref`` is a BlobRef or a hash (then ``size`` may be given). The read that would
        complete a corrupt blob raises ArtifactCorrupt instead of returning its bytes.
        """
        sha256, expected = (ref.sha256, ref.size) if isinstance(ref, BlobRef) else (ref, size)
        keys.check_sha256(sha256)
        uri = self.uri(sha256)
        with mapped(uri):
            raw = self.fs.open(self.key(sha256), "rb", block_size=self.chunk_size)
        return VerifyingReader(raw, sha256=sha256, size=expected, where=uri)

    def get(self, ref: BlobRef | str) -> bytes:
        """A blob's bytes, verified before any of them are returned."""
        with self.open(ref) as reader:
            return reader.read()

    def download(self, ref: BlobRef | str, path: str | os.PathLike[str]) -> Path:
        """Copy a blob to a local file, verified; the file appears only when it is whole."""
        target = Path(path)
        partial = target.with_name(f".{target.name}.{keys.new_tmp_key().rsplit('/', 1)[1]}.part")
        sha256, size = (ref.sha256, ref.size) if isinstance(ref, BlobRef) else (ref, None)
        try:
            if self.local:
                copied = self._kernel_download(sha256, str(partial))
            elif self.fs.protocol != "memory":
                copied = self._fetch_download(sha256, str(partial))
            else:
                copied = None
            if copied is None:
                with self.open(ref) as reader, open(partial, "wb") as out:
                    shutil.copyfileobj(reader, out, self.chunk_size)
            elif copied != (sha256, size if size is not None else copied[1]):
                raise ArtifactCorrupt(
                    f"artifact {self.uri(sha256)} is corrupt: {copied[1]} bytes hashing to {copied[0]}",
                    expected_sha256=sha256, actual_sha256=copied[0], expected_size=size,
                    actual_size=copied[1])
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        return target

    def _kernel_download(self, sha256: str, partial: str) -> tuple[str, int] | None:
        """Local store: copy in the kernel, hashing the copy (what the caller gets) as it fills."""
        with mapped(self.uri(sha256)), open(self.key(sha256), "rb", buffering=0) as blob:
            return _copy.kernel_copy_hashing(blob, partial, chunk=self.chunk_size, fsync=False)

    def _fetch_download(self, sha256: str, partial: str) -> tuple[str, int]:
        """Object store: the backend's own download (s3fs: ranged GETs in parallel), then hash
        the local copy - what the caller gets - before it is renamed into place."""
        with mapped(self.uri(sha256)):
            self.fs.get_file(self.key(sha256), partial)
        return sources.hash_source(partial, self.chunk_size)

    def check(self, sha256: str, size: int | None = None,
              progress: Callable[[int], None] | None = None) -> BlobStatus:
        """Re-hash one blob: ``ok``, ``missing`` or ``corrupt`` (store failures still raise)."""
        from resultsdb.errors import ArtifactNotFound

        try:
            with self.open(sha256, size) as reader:
                while chunk := reader.read(self.chunk_size):
                    if progress:
                        progress(len(chunk))
        except ArtifactNotFound:
            return "missing"
        except ArtifactCorrupt:
            return "corrupt"
        return "ok"

    # -- deleting --------------------------------------------------------------------

    def delete(self, sha256: str) -> bool:
        """Delete a blob; False when it was not there."""
        path = self.key(sha256)
        with mapped(self.uri(sha256)):
            # Asked first: S3 reports success for deleting a key that is not there.
            if self._size(path) is None:
                return False
            try:
                self.fs.rm_file(path)
            except FileNotFoundError:
                return False
            self.fs.invalidate_cache(path)
        return True

    def stale_uploads(self, older_than: datetime) -> list[str]:
        """Temporary keys of uploads that started before ``older_than`` (crashed or abandoned)."""
        folder = self.path(keys.TMP)
        with mapped(self.fs.unstrip_protocol(folder)):
            self.fs.invalidate_cache(folder)
            try:
                names = self.fs.ls(folder, detail=False)
            except FileNotFoundError:
                return []
        stale = []
        for name in names:
            started = keys.tmp_started(str(name).rstrip("/").rsplit("/", 1)[-1])
            if started is not None and started < older_than:
                stale.append(str(name))
        return stale

    def remove_upload(self, path: str) -> None:
        with mapped(self.fs.unstrip_protocol(path)):
            self.fs.rm_file(path)

    def blob_hashes(self) -> Iterator[str]:
        """Every hash stored under ``sha256/`` (a full listing: slow on large buckets)."""
        folder = self.path(keys.BLOBS)
        with mapped(self.fs.unstrip_protocol(folder)):
            self.fs.invalidate_cache(folder)
            try:
                found = self.fs.find(folder)
            except FileNotFoundError:
                return
        for path in found:
            name = str(path).rsplit("/", 1)[-1]
            try:
                yield keys.check_sha256(name)
            except InvalidArtifactKey:
                continue  # not ours


def _abandon(f: Any) -> None:
    """Drop a half-written file without completing it: no partial object, not even at tmp."""
    try:
        if isinstance(f, AbstractBufferedFile):
            f.discard()  # aborts an S3 multipart upload (the store may be unreachable: best effort)
    except Exception:  # noqa: BLE001, S110 - the write error is the one to report
        pass
    finally:
        if isinstance(f, AbstractBufferedFile):
            # close() would upload the buffered rest: mark it closed so that neither we nor
            # its __del__ ever complete a partial object.
            f.closed = True
        else:
            f.close()


def _fsync_dir(directory: str) -> None:
    """Make a rename in ``directory`` durable (POSIX: fsync the directory itself)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

