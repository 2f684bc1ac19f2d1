"""Where blobs live in the store, and the checks every name passes before it becomes a key.

Layout under the store's root (see docs/design.md, "Artifact store")::

    sha256/ab/cd/abcd1234...   a blob: its sha256, fanned out by the first two bytes
    tmp/20250101T120000Z-<uuid> an upload in progress (never read; gc sweeps stale ones)

Nothing a caller names (a model, a type, a file name) reaches a key: keys are made of
a validated hex digest and names generated here. The store's root, which the operator
configures, is validated too.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from resultsdb.errors import InvalidArtifactKey

ALGORITHM = "sha256"
BLOBS = ALGORITHM
TMP = "tmp"

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_TMP_NAME = re.compile(r"^(\d{8}T\d{6}Z)-[0-9a-f]{32}$")
# One key component: printable, no separators or NUL; '.' and '..' are refused separately.
_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f\\]")


def check_sha256(value: object, *, field: str = "sha256") -> str:
    """``value`` if it is a sha256 hex digest (64 lower-case hex characters), else InvalidArtifactKey."""
    if not isinstance(value, str) or not _SHA256.match(value):
        raise InvalidArtifactKey(
            f"artifact {field}: must be a sha256 digest (64 lower-case hex characters), got {value!r}",
            field=field)
    return value


def check_component(part: str, *, what: str = "key component") -> str:
    """One path component: not empty, not ``.``/``..``, no ``/``, backslash, NUL or control character."""
    if not part or part in (".", "..") or "/" in part or _BAD_CHARS.search(part):
        raise InvalidArtifactKey(f"artifact store: unsafe {what} {part!r}", field="key")
    return part


def check_relative(key: str) -> str:
    """A relative key: components joined by single ``/``, each one safe (no absolute path, no ``..``)."""
    if not isinstance(key, str) or not key or key.startswith("/") or key.endswith("/"):
        raise InvalidArtifactKey(f"artifact store: {key!r} is not a relative key", field="key")
    for part in key.split("/"):
        check_component(part, what=f"component of key {key!r}:")
    return key


def check_root(path: str, *, absolute: bool) -> str:
    """The store's root as fsspec gives it (``/data/artifacts``, ``bucket/prefix``), checked.

    A local root is absolute; an object-store root starts with its bucket. Either way no
    component may be empty, ``.`` or ``..``: a root that climbs out of where the operator
    pointed it is refused rather than normalised.
    """
    body = path.rstrip("/")
    if absolute:
        if not body.startswith("/"):
            raise InvalidArtifactKey(f"artifact store root {path!r} must be an absolute path",
                                     field="artifacts_url")
        body = body[1:]
    if not body:
        if absolute:
            raise InvalidArtifactKey("artifact store root must not be the file system root",
                                     field="artifacts_url")
        raise InvalidArtifactKey("artifact store root must name a bucket or folder",
                                 field="artifacts_url")
    try:
        check_relative(body)
    except InvalidArtifactKey:
        raise InvalidArtifactKey(f"artifact store root {path!r} has an unsafe component",
                                 field="artifacts_url") from None
    return ("/" if absolute else "") + body


def blob_key(sha256: str) -> str:
    """The key of a blob, relative to the root: ``sha256/ab/cd/<digest>``."""
    digest = check_sha256(sha256)
    return f"{BLOBS}/{digest[:2]}/{digest[2:4]}/{digest}"


def new_tmp_key(now: datetime | None = None) -> str:
    """A fresh upload key, relative to the root; its name carries its start time for gc."""
    at = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{TMP}/{at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex}"


def tmp_started(name: str) -> datetime | None:
    """When the upload named ``name`` (the last component of a tmp key) started; None if not ours."""
    m = _TMP_NAME.match(name)
    if m is None:
        return None
    return datetime.strptime(m.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
