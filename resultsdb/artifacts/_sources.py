"""What a put reads from: bytes, a path or a file, opened, hashed and guarded.

A source's own failures (a file that cannot be read) are marked :class:`SourceFailed`
so that the store does not report them as its own.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from resultsdb.artifacts import _copy
from resultsdb.artifacts._errors import SourceFailed
from resultsdb.errors import ArtifactSourceChanged

Data = bytes | bytearray | memoryview | IO[bytes] | str | os.PathLike[str]


def rereadable(data: Data) -> bool:
    """Data that can be read a second time cheaply: bytes, a local path, a local seekable file."""
    if isinstance(data, bytes | bytearray | memoryview | str | os.PathLike):
        return True
    if isinstance(data, io.BytesIO):
        return True
    try:
        data.fileno()
        return bool(data.seekable())
    except (AttributeError, OSError, ValueError):
        return False


def hash_source(data: Data, chunk_size: int) -> tuple[str, int]:
    """The sha256 and size of ``data`` (a file is rewound to where it was)."""
    if isinstance(data, bytes | bytearray | memoryview):
        view = memoryview(data).cast("B")
        return hashlib.sha256(view).hexdigest(), len(view)
    digest = hashlib.sha256()
    size = 0
    with reopened(data, rewind=True) as source:
        for chunk in guarded(_copy.chunks(source, chunk_size)):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


@contextmanager
def reopened(data: Data, *, rewind: bool = False) -> Iterator[Any]:
    """``data`` ready to read: a path opened; a file as it stands, put back where it was
    afterwards when ``rewind`` (the hashing pass, so that the upload reads the same bytes)."""
    if isinstance(data, str | os.PathLike):
        # Opened outside the store's error mapping: a missing source is the caller's.
        with open(data, "rb", buffering=0) as f:
            yield f
        return
    if isinstance(data, bytes | bytearray | memoryview):
        yield data
        return
    if not rewind:
        yield data
        return
    start = data.tell()
    try:
        yield data
    finally:
        data.seek(start)


def source_changed(sha256: str, size: int, sent: tuple[str, int]) -> ArtifactSourceChanged:
    return ArtifactSourceChanged(
        f"data: changed while being stored (hashed {size} bytes as {sha256[:12]}…, then read "
        f"{sent[1]} bytes as {sent[0][:12]}…); nothing was stored")


def guarded(chunks: Iterator[memoryview]) -> Iterator[memoryview]:
    """The chunks, with the source's own failures marked so they are not mapped as store errors."""
    while True:
        try:
            chunk = next(chunks)
        except StopIteration:
            return
        except Exception as exc:
            raise SourceFailed(exc) from exc
        yield chunk
