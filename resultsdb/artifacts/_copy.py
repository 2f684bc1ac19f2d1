"""Moving bytes while hashing them: a generic chunked loop, and a kernel-copy path for local files.

Both hash exactly the bytes that end up stored. The generic loop hashes each chunk on
a worker thread while the caller's thread writes it and reads the next (hashlib
releases the GIL), so it costs about max(hash, I/O) rather than their sum. The local
path copies inside the kernel (``copy_file_range``) and hashes the *destination* - a
private temporary file - as it grows: a source changed mid-copy can make the hash
differ from the source, never from the stored bytes.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

Write = Callable[[memoryview], object]
# copy_file_range refuses these for some file system pairs; the generic loop then does it.
_SYNC_EVERY = 32 << 20
_NO_KERNEL_COPY = {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF}


def chunks(data: Any, size: int) -> Iterator[memoryview]:
    """Chunks of ``data`` (bytes-like, or a binary file-like with read/readinto).

    A chunk stays valid until the one after the next is asked for: two buffers
    alternate, so no chunk is allocated per read (4 MiB allocations fault in fresh pages).
    """
    if isinstance(data, bytes | bytearray | memoryview):
        view = memoryview(data).cast("B")
        for start in range(0, len(view), size):
            yield view[start:start + size]
        return
    readinto = getattr(data, "readinto", None)
    if readinto is None or getattr(type(data), "readinto", None) is io.RawIOBase.readinto:
        # No readinto, or RawIOBase's abstract one (a subclass that implements only read).
        while block := data.read(size):
            yield memoryview(block)
        return
    buffers = [memoryview(bytearray(size)), memoryview(bytearray(size))]
    turn = 0
    while n := readinto(buffers[turn]):
        yield buffers[turn][:n]
        turn ^= 1


def copy_hashing(source: Iterator[memoryview], write: Write) -> tuple[str, int]:
    """Write every chunk of ``source``; the sha256 and size of what was written."""
    digest = hashlib.sha256()
    size = 0
    with ThreadPoolExecutor(1, thread_name_prefix="rdb-hash") as pool:
        for chunk in source:
            hashing = pool.submit(digest.update, chunk)
            write(chunk)
            hashing.result()  # before the next chunk reuses this buffer
            size += len(chunk)
    return digest.hexdigest(), size


def kernel_copy_hashing(fin: Any, dst: str, *, chunk: int, fsync: bool) -> tuple[str, int] | None:
    """Copy the open file ``fin`` to the new file ``dst`` in the kernel, hashing ``dst`` as it fills.

    None when the kernel cannot copy between these two files (nothing was copied;
    the caller's generic loop takes over).
    """
    digest = hashlib.sha256()
    state = {"copied": 0, "done": False}
    cond = threading.Condition()
    failure: list[BaseException] = []

    def hash_destination() -> None:
        hashed = 0
        buffer = memoryview(bytearray(chunk))
        try:
            with open(dst, "rb", buffering=0) as written:
                while True:
                    with cond:
                        while hashed >= state["copied"] and not state["done"]:
                            cond.wait()
                        limit, finished = state["copied"], state["done"]
                    while hashed < limit:
                        n = written.readinto(buffer[:min(chunk, limit - hashed)])
                        if not n:
                            raise OSError(errno.EIO, f"{dst} shrank while being hashed")
                        digest.update(buffer[:n])
                        hashed += n
                    if finished and hashed >= state["copied"]:
                        return
        except BaseException as exc:  # noqa: BLE001 - re-raised in the copying thread
            failure.append(exc)

    with open(dst, "wb", buffering=0) as fout:
        try:
            first = os.copy_file_range(fin.fileno(), fout.fileno(), chunk)
        except OSError as exc:
            if exc.errno in _NO_KERNEL_COPY:
                return None
            raise
        hasher = threading.Thread(target=hash_destination, name="rdb-hash", daemon=True)
        with cond:
            state["copied"] = first
        hasher.start()
        try:
            n, unsynced = first, first
            while n and not failure:
                n = os.copy_file_range(fin.fileno(), fout.fileno(), chunk)
                with cond:
                    state["copied"] += n
                    cond.notify()
                unsynced += n
                if fsync and unsynced >= _SYNC_EVERY:
                    # Write back while the hasher works, not all at the end: the final
                    # fsync then has little left and the disk time overlaps the hashing.
                    os.fdatasync(fout.fileno())
                    unsynced = 0
        finally:
            with cond:
                state["done"] = True
                cond.notify()
            hasher.join()
        if fsync and not failure:
            os.fsync(fout.fileno())
    if failure:
        raise failure[0]
    return digest.hexdigest(), state["copied"]
