"""The exceptions resultsdb raises: a hierarchy, never bare strings.

Everything derives from :class:`ResultsDBError`. Input problems also derive
from ``ValueError`` and missing rows from ``LookupError``, so generic handlers
keep working. Messages name the table and field and say what is wrong with the
value; they never contain a password.
"""

from __future__ import annotations


class ResultsDBError(Exception):
    """Base class of every resultsdb error."""


class InvalidInput(ResultsDBError, ValueError):
    """A value was rejected, before or by the database. Nothing was written."""

    def __init__(self, message: str, *, field: str | None = None, table: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.table = table


class Ambiguous(InvalidInput):
    """A reference (a short id, a name) matches several rows; ``candidates`` lists them.

    Nothing was read or written with it: give more of the id, or a name that is unique.
    """

    def __init__(self, message: str, *, candidates: tuple[object, ...], field: str | None = None,
                 table: str | None = None) -> None:
        super().__init__(message, field=field, table=table)
        self.candidates = candidates


class InvalidSeriesRow(InvalidInput):
    """A bulk series write was refused: ``field`` is the column, ``row`` the first bad row.

    ``row`` counts from 0 in the caller's input order. Nothing was written.
    """

    def __init__(self, message: str, *, field: str, table: str, row: int) -> None:
        super().__init__(message, field=field, table=table)
        self.row = row


class SeriesArchiveError(ResultsDBError):
    """A series archive did not verify (row count or checksum), or cannot be restored.

    Raised before anything is dropped or attached: the database is as it was.
    """


class ConstraintViolation(InvalidInput):
    """The database refused a row: a check, not-null or foreign-key constraint."""

    def __init__(
        self,
        message: str,
        *,
        constraint: str | None = None,
        table: str | None = None,
        field: str | None = None,
        columns: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message, field=field, table=table)
        self.constraint = constraint
        self.columns = columns


class AlreadyExists(ConstraintViolation):
    """A unique key already holds that value."""




class StillReferenced(ConstraintViolation):
    """A delete was refused because other rows still reference the row (ON DELETE RESTRICT)."""


class InvalidTransition(ConstraintViolation):
    """A status change that the table's state machine does not allow."""

    def __init__(self, message: str, *, table: str | None = None,
                 from_status: str | None = None, to_status: str | None = None) -> None:
        super().__init__(message, table=table, field="status", columns=("status",))
        self.from_status = from_status
        self.to_status = to_status


class ProtectedRow(ConstraintViolation):
    """The row is protected from this change (e.g. deleting a production model version)."""


class NotFound(ResultsDBError, LookupError):
    """No row with that key."""

    def __init__(self, message: str, *, table: str | None = None, key: object = None) -> None:
        super().__init__(message)
        self.table = table
        self.key = key


class ReferenceNotFound(ConstraintViolation, NotFound):
    """A foreign key points at a row that does not exist.

    Also a NotFound: the API has one rule, a referenced object that does not exist is
    NotFound, whether a lookup or the database's foreign key finds it missing.
    """

    key: object = None


class DatabaseError(ResultsDBError):
    """A database failure that is not about the caller's input."""


class DatabaseUnavailable(DatabaseError):
    """The server cannot be reached, or the connection broke before the work committed."""


class Timeout(DatabaseError, TimeoutError):
    """A statement ran past statement_timeout, or no pooled connection freed up in time."""


class TransientError(DatabaseError):
    """Serialization failure or deadlock: the whole transaction may be retried."""


class CommitOutcomeUnknown(DatabaseError):
    """The connection broke while COMMIT was in flight: the work may or may not be stored.

    Never retried automatically; check the data (or use an idempotent write) and retry.
    """


class AuthenticationFailed(DatabaseError):
    """The server refused the login (SQLSTATE class 28): wrong or missing password, a role
    that does not exist or may not log in, no pg_hba.conf entry. Raised at once, not retried."""


class DatabaseNotFound(DatabaseError):
    """The database the URL names does not exist (3D000); ``resultsdb init`` creates it."""


class SchemaNotMigrated(DatabaseError):
    """A table of the schema is missing and migrations are pending: run ``resultsdb migrate``."""


class ResourceExhausted(DatabaseError):
    """The server ran out of a resource (SQLSTATE class 53: disk full, out of memory).

    Not retried: a retry would fail the same way until someone frees the resource.
    """


class MigrationError(ResultsDBError):
    """Applying or rolling back migrations failed."""


class MissingExtra(ResultsDBError, ImportError):
    """A part of resultsdb was used whose optional packages are not installed. The
    message names the extra that installs them (``pip install 'resultsdb[series]'``)."""

    def __init__(self, message: str, *, extra: str, missing: list[str]) -> None:
        super().__init__(message)
        self.extra = extra
        self.missing = missing


class QueryRegistryError(ResultsDBError):
    """A named-query file is malformed, or a query was called wrongly."""


# -- artifact store ------------------------------------------------------------------


class ArtifactError(ResultsDBError):
    """The artifact store failed, or a blob is not what its reference says."""


class InvalidArtifactKey(ArtifactError, InvalidInput):
    """A name that would reach a store key is unsafe (``..``, NUL, an absolute path ...)."""


class ArtifactNotFound(ArtifactError, NotFound):
    """No object under that hash in the store (or gc collected it before it was referenced)."""


class ArtifactCorrupt(ArtifactError):
    """The stored bytes do not hash (or measure) to what the reference says.

    Raised before the bytes that would complete a corrupt read are handed out.
    """

    def __init__(self, message: str, *, expected_sha256: str, actual_sha256: str | None = None,
                 expected_size: int | None = None, actual_size: int | None = None) -> None:
        super().__init__(message)
        self.expected_sha256 = expected_sha256
        self.actual_sha256 = actual_sha256
        self.expected_size = expected_size
        self.actual_size = actual_size


class ArtifactSourceChanged(ArtifactError):
    """The data being stored changed between hashing it and uploading it (nothing was stored)."""


class ArtifactStoreUnavailable(ArtifactError):
    """The store cannot be reached (S3 endpoint down, connection cut, timeouts)."""


class ArtifactPermissionDenied(ArtifactError, PermissionError):
    """The store refused access (file permissions, S3 AccessDenied)."""


class ArtifactStoreFull(ArtifactError):
    """The store has no room left (disk full, quota exceeded)."""
