"""Translate what fsspec backends raise (OSError, botocore, aiohttp) into resultsdb errors.

s3fs turns S3 error codes into OSError subclasses (NoSuchKey -> FileNotFoundError,
AccessDenied -> PermissionError) but lets connection failures through as botocore or
aiohttp exceptions; those are recognised by module name, so neither library has to be
installed for the local backend.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager

from resultsdb.errors import (
    ArtifactError,
    ArtifactNotFound,
    ArtifactPermissionDenied,
    ArtifactStoreFull,
    ArtifactStoreUnavailable,
    ResultsDBError,
)

_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_DENIED = {errno.EACCES, errno.EPERM, errno.EROFS}
_UNREACHABLE = {errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.EHOSTUNREACH,
                errno.ENETUNREACH, errno.ETIMEDOUT, errno.EPIPE, errno.ENOTCONN}
# Exceptions from these libraries that mean "could not talk to the store".
_NETWORK_MODULES = ("botocore", "aiohttp", "urllib3", "aiobotocore", "requests")
_NETWORK_NAMES = ("Connect", "Connection", "Timeout", "Disconnected", "Endpoint", "ReadError",
                  "Payload", "IncompleteRead", "HTTPClientError", "ClientOSError")
_FULL_CODES = ("EntityTooLarge", "QuotaExceeded", "InsufficientStorage")


def _is_network(exc: BaseException) -> bool:
    for cls in type(exc).__mro__:
        module = cls.__module__.split(".")[0]
        if module in _NETWORK_MODULES and any(n in cls.__name__ for n in _NETWORK_NAMES):
            return True
    return isinstance(exc, ConnectionError | TimeoutError)


def map_store_error(exc: BaseException, where: str) -> ArtifactError:
    """The resultsdb error for ``exc``, raised while working on ``where`` (a URI)."""
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, FileNotFoundError):
        return ArtifactNotFound(f"artifact store: {where} does not exist", table="blobs", key=where)
    if isinstance(exc, PermissionError) or getattr(exc, "errno", None) in _DENIED:
        return ArtifactPermissionDenied(f"artifact store: permission denied on {where}: {text}")
    if getattr(exc, "errno", None) in _FULL or any(c in text for c in _FULL_CODES):
        return ArtifactStoreFull(f"artifact store: no space left writing {where}: {text}")
    if _is_network(exc) or getattr(exc, "errno", None) in _UNREACHABLE:
        return ArtifactStoreUnavailable(f"artifact store unreachable at {where}: {text}")
    return ArtifactError(f"artifact store: {type(exc).__name__} on {where}: {text}")


class SourceFailed(Exception):
    """Wraps an error raised by the caller's data source, so it is not taken for a store error."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(str(original))
        self.original = original


@contextmanager
def mapped(where: str) -> Iterator[None]:
    """Re-raise store failures inside the block as resultsdb errors naming ``where``."""
    try:
        yield
    except (ResultsDBError, SourceFailed):
        raise
    except Exception as exc:
        if isinstance(exc, ValueError | TypeError | AttributeError | AssertionError):
            raise  # our own bugs stay visible
        raise map_store_error(exc, where) from exc
