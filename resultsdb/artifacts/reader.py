"""A binary reader that hashes what it reads and refuses to finish a corrupt blob."""

from __future__ import annotations

import hashlib
import io
from typing import IO, Any

from resultsdb.artifacts._errors import mapped
from resultsdb.errors import ArtifactCorrupt

_READALL_CHUNK = 4 << 20


class VerifyingReader(io.RawIOBase):
    """Reads a blob and checks it against its sha256 (and size, when known).

    With the size known, the read that would return the blob's last bytes verifies the
    hash first and raises :class:`ArtifactCorrupt` instead: a caller that reads to the end
    never receives a complete corrupt blob, and never sees a clean end of file for one.
    A blob longer or shorter than its size is corrupt too. Without a size, the check
    happens at end of file. After a failure every read raises again.
    """

    def __init__(self, raw: IO[bytes], *, sha256: str, size: int | None, where: str) -> None:
        super().__init__()
        self._raw = raw
        self._sha256 = sha256
        self._size = size
        self._where = where
        self._digest = hashlib.sha256()
        self._pos = 0
        self._verified = False
        self._failure: ArtifactCorrupt | None = None

    def readable(self) -> bool:
        return True

    @property
    def verified(self) -> bool:
        """True once every byte was read and matched the hash."""
        return self._verified

    def _corrupt(self, why: str, actual: str | None = None) -> ArtifactCorrupt:
        self._failure = ArtifactCorrupt(
            f"artifact {self._where} is corrupt: {why}", expected_sha256=self._sha256,
            actual_sha256=actual, expected_size=self._size, actual_size=self._pos)
        return self._failure

    def _finish(self) -> None:
        """All expected bytes are in: the object must end here and hash right."""
        if self._size is not None:
            with mapped(self._where):
                extra = self._raw.read(1)
            if extra:
                raise self._corrupt(f"longer than its recorded {self._size} bytes")
        actual = self._digest.hexdigest()
        if actual != self._sha256:
            raise self._corrupt(f"its bytes hash to {actual}", actual)
        self._verified = True

    def _next(self, n: int) -> bytes:
        if self._failure is not None:
            raise self._failure
        if self._verified or n == 0:
            return b""
        want = n if self._size is None else min(n, self._size - self._pos)
        if want == 0:  # a 0-byte blob, or everything read already
            self._finish()
            return b""
        with mapped(self._where):
            data = self._raw.read(want)
        if not data:
            if self._size is not None:
                raise self._corrupt(f"truncated: {self._pos} of {self._size} bytes")
            self._finish()
            return b""
        self._digest.update(data)
        self._pos += len(data)
        if self._size is not None and self._pos == self._size:
            self._finish()  # before these last bytes leave
        return bytes(data)

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return self.readall()
        return self._next(size)

    def readall(self) -> bytes:
        parts = []
        while chunk := self._next(_READALL_CHUNK):
            parts.append(chunk)
        if not self._verified:
            self._next(_READALL_CHUNK)  # raises if the end did not verify
        return b"".join(parts)

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._next(len(view))
        view[:len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()
