"""Validated inputs: what callers may write, checked before the database sees it.

Each ``*Create`` model mirrors its table's CHECK constraints (lengths, patterns,
ranges, JSON shapes; the value types are in :mod:`resultsdb.fields`), so bad
input fails here with a message naming the field, and nothing reaches the
server. The database constraints stay the final word.

Models are strict: no silent coercion, except that ids may be given as ``str``
or ``UUID``. Datetimes must carry a timezone (a naive one is rejected, never
assumed to be UTC). Numbers, text and JSON follow :mod:`resultsdb.fields`' rules.
Tags may be a mapping or a list of labels (``["gpu", "v2"]`` becomes
``{"gpu": true, "v2": true}``). A reference is a record of its kind, its UUID or
the UUID's string (:func:`ref_id`).

``*Update`` models hold the columns a repository lets callers change. Their
fields default to ``None`` without being validated, so only the keys a caller
gives are checked; ``None`` itself passes only where the column is nullable.

:func:`validate` is the one place a pydantic ``ValidationError`` becomes
:class:`resultsdb.errors.InvalidInput`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from resultsdb.errors import InvalidInput
from resultsdb.fields import (
    CommitHash,
    DataSource,
    FileFormat,
    FiniteFloat,
    Id,
    JsonObject,
    Labels,
    LongText,
    Name,
    NumberMap,
    Sha256,
    ShortText,
    Size,
    Slug,
    StoragePath,
    SummaryMetrics,
    Tags,
    Timestamp,
    a_or_an,
    fail,
    json_path,
    shown,
)
from resultsdb.records import (
    ExperimentStatus,
    ModelVersionStatus,
    RunStatus,
    TrialStatus,
)

M = TypeVar("M", bound=BaseModel)

MAX_PAGE_SIZE = 1000


class Input(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False,
                              defer_build=True)  # built when first used, not at import


def _unset() -> Any:
    # Update fields start unset; a default is never validated, so None here
    # does not make a NOT NULL column accept None from a caller.
    return Field(default=None)


# -- experiments and runs ----------------------------------------------------------------

class ExperimentCreate(Input):
    name: Name
    description: LongText | None = None
    tags: Tags = Field(default_factory=dict)
    status: ExperimentStatus = "active"


class ExperimentUpdate(Input):
    name: Name = _unset()
    description: LongText | None = None
    tags: Tags = _unset()
    status: ExperimentStatus = _unset()


_ENDED = ("completed", "failed", "killed")


class RunCreate(Input):
    experiment_id: Id
    parent_run_id: Id | None = None
    name: Name | None = None
    run_type: Slug = "training"
    status: RunStatus = "running"
    start_time: Timestamp | None = None
    end_time: Timestamp | None = None
    summary_metrics: SummaryMetrics = Field(default_factory=dict)
    tags: Tags = Field(default_factory=dict)
    user_id: Id | None = None
    error_type: ShortText | None = None
    error_message: LongText | None = None

    @field_validator("end_time")
    @classmethod
    def _end_after_start(cls, end: Any, info: ValidationInfo) -> Any:
        if end is None:
            return end
        if info.data.get("status") not in _ENDED:
            raise fail("end_time", "must be empty until the run has ended "
                                    "(status completed, failed or killed)")
        start = info.data.get("start_time")
        if start is None:
            raise fail("end_time", "needs a start_time")
        if end < start:
            raise fail("end_time", "must not be before start_time")
        return end


class RunUpdate(Input):
    name: Name | None = None
    status: RunStatus = _unset()
    start_time: Timestamp | None = None
    end_time: Timestamp | None = None
    summary_metrics: SummaryMetrics = _unset()
    tags: Tags = _unset()
    error_type: ShortText | None = None
    error_message: LongText | None = None


# -- configurations, models, snapshots, trials -----------------------------------------

class ConfigurationCreate(Input):
    run_id: Id
    name: Name
    config_type: Slug
    parameters: JsonObject = Field(default_factory=dict)
    parent_id: Id | None = None


class ConfigurationUpdate(Input):
    config_type: Slug = _unset()
    parent_id: Id | None = None


class ModelCreate(Input):
    run_id: Id
    config_id: Id | None = None
    model_type: Slug
    name: Name
    metadata: JsonObject = Field(default_factory=dict)


class ModelUpdate(Input):
    config_id: Id | None = None
    model_type: Slug = _unset()
    name: Name = _unset()
    metadata: JsonObject = _unset()


class ModelVersionCreate(Input):
    model_id: Id
    run_id: Id
    config_id: Id | None = None
    commit_hash: CommitHash | None = None
    status: ModelVersionStatus = "draft"
    metrics: NumberMap = Field(default_factory=dict)
    description: LongText | None = None


class ModelVersionUpdate(Input):
    # The status changes only through repositories.models.set_version_status.
    metrics: NumberMap = _unset()
    description: LongText | None = None


class ModelArtifactCreate(Input):
    model_version_id: Id
    artifact_type: Slug
    storage_path: StoragePath
    size_bytes: Size
    file_format: FileFormat | None = None
    content_hash: Sha256


class ModelArtifactUpdate(Input):
    storage_path: StoragePath = _unset()
    file_format: FileFormat | None = None


class DataSnapshotCreate(Input):
    run_id: Id
    data_source: DataSource
    start_date: Timestamp
    end_date: Timestamp
    features_hash: Sha256
    storage_path: StoragePath | None = None
    content_hash: Sha256 | None = None
    size_bytes: Size | None = None

    @field_validator("end_date")
    @classmethod
    def _range_ordered(cls, end: Any, info: ValidationInfo) -> Any:
        start = info.data.get("start_date")
        if start is not None and end < start:
            raise fail("end_date", "must not be before start_date")
        return end


class DataSnapshotUpdate(Input):
    storage_path: StoragePath | None = None
    content_hash: Sha256 | None = None
    size_bytes: Size | None = None


class TrialCreate(Input):
    run_id: Id
    parameters: JsonObject = Field(default_factory=dict)
    status: TrialStatus = "running"
    # validate_default: a completed trial left without objective_value must fail.
    objective_value: FiniteFloat | None = Field(default=None, validate_default=True)
    metrics: NumberMap = Field(default_factory=dict)
    trial_run_id: Id | None = None

    @field_validator("objective_value")
    @classmethod
    def _completed_has_objective(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.data.get("status") == "completed":
            raise fail("objective_value", "a completed trial needs an objective_value")
        return value


class TrialUpdate(Input):
    trial_run_id: Id | None = None
    objective_value: FiniteFloat | None = None
    metrics: NumberMap = _unset()
    status: TrialStatus = _unset()


# -- turning ValidationError into InvalidInput --------------------------------------------

def _problem(error: Mapping[str, Any]) -> str:
    kind = error.get("type")
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "is required"
    return str(error.get("msg", "is invalid"))


def invalid_input(exc: ValidationError, *, table: str | None,
                  at: tuple[int | str, ...] = ()) -> InvalidInput:
    """An InvalidInput naming every field at fault; its ``field`` is the first one.

    ``at`` is where the validated value sits in the caller's arguments, e.g.
    ``("points", 3)`` for the fourth point of a batch.
    """
    errors = exc.errors(include_url=False, include_input=False)
    where = f"{table}." if table else ""
    locs = [at + tuple(e["loc"]) for e in errors]
    parts = [f"{where}{json_path(loc) or '(input)'}: {_problem(e)}"
             for loc, e in zip(locs, errors, strict=True)]
    first = str(locs[0][0]) if locs and locs[0] else None
    return InvalidInput("; ".join(parts), field=first, table=table)


def validate(model: type[M], data: M | Mapping[str, Any], *, table: str,
             at: tuple[int | str, ...] = ()) -> M:
    """``data`` as a validated ``model``; InvalidInput when it is not acceptable."""
    if isinstance(data, model):
        return data
    if not isinstance(data, Mapping):
        where = f"{table}.{json_path(at)}" if at else table
        raise InvalidInput(
            f"{where}: expected a mapping of fields or a {model.__name__}, "
            f"not {type(data).__name__}", field=str(at[0]) if at else None, table=table)
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise invalid_input(exc, table=table, at=at) from exc


def validate_changes(model: type[BaseModel], changes: Mapping[str, Any], *, table: str,
                     updatable: frozenset[str]) -> dict[str, Any]:
    """The changes as a JSON patch, after checking each key is updatable and each value valid."""
    for key in sorted(changes):
        if key not in updatable:
            raise InvalidInput(
                f"{table}.{key}: is not an updatable field (updatable: {', '.join(sorted(updatable))})",
                field=key, table=table)
    checked = validate(model, changes, table=table)
    return checked.model_dump(mode="json", include=set(changes))


_ID = TypeAdapter(Id)


def as_id(value: object, *, field: str = "id", table: str | None = None) -> UUID:
    """A UUID from a ``UUID`` or its string form; InvalidInput naming ``field`` otherwise."""
    if isinstance(value, UUID):
        return value
    try:
        return _ID.validate_python(value)
    except ValidationError as exc:
        where = f"{table}.{field}" if table else field
        raise InvalidInput(f"{where}: must be a UUID, got {shown(value)}", field=field,
                           table=table) from exc


def ref_id(value: object, *, field: str = "id", table: str | None = None,
           kind: type[BaseModel] | None = None) -> UUID:
    """The id a reference names: a record, a UUID or its string form; InvalidInput naming
    ``field`` otherwise. Names are looked up by the repositories that own them
    (``experiments.resolve``, ``models.resolve``).

    With ``kind``, a record must be one of that kind: a Model passed as a run is refused
    by its type, where its id would be looked up among runs and not found.
    """
    if isinstance(value, UUID):
        return value
    record_id = getattr(value, "id", value)
    if isinstance(value, BaseModel):
        problem = (f"expected {a_or_an(kind.__name__)}, its id or the id as a string, not "
                   f"{shown(value)}" if kind is not None and not isinstance(value, kind)
                   else None if isinstance(record_id, UUID) else f"{shown(value)} has no id")
        if problem is not None:
            raise InvalidInput(f"{table}.{field}: {problem}" if table else f"{field}: {problem}",
                               field=field, table=table)
    return as_id(record_id, field=field, table=table)


def is_uuid(value: object) -> bool:
    """Whether ``value`` is a UUID or a string that parses as one (else: a name)."""
    if isinstance(value, UUID):
        return True
    try:
        UUID(str(value))
    except ValueError:
        return False
    return True


def as_bool(value: object, *, field: str) -> bool:
    """A flag: True or False only (a truthy "no" must not mean yes)."""
    if not isinstance(value, bool):
        raise InvalidInput(f"{field}: must be True or False, got {shown(value)}", field=field)
    return value


def as_labels(value: object, *, field: str, table: str | None = None) -> list[str]:
    labels: list[str] = validate_value(field, value, Labels, table=table)
    return labels


def as_tags(value: object, *, field: str, table: str | None = None) -> dict[str, Any]:
    """A tags object from a mapping or a list of labels (each becomes ``{label: true}``)."""
    tags: dict[str, Any] = validate_value(field, value, Tags, table=table)
    return tags


def as_limit(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE_SIZE:
        raise InvalidInput(f"limit: must be an integer from 1 to {MAX_PAGE_SIZE}, got {shown(value)}",
                           field="limit")
    return value


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def validate_value(field: str, value: Any, kind: Any = Timestamp | None, *,
                   table: str | None = None) -> Any:
    """One argument checked against a field type (default: an optional aware datetime);
    InvalidInput naming ``field`` when it does not fit."""
    adapter = _ADAPTERS.get(kind)
    if adapter is None:
        adapter = _ADAPTERS[kind] = TypeAdapter(kind, config={"strict": True, "allow_inf_nan": False})
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        raise invalid_input(exc, table=table, at=(field,)) from exc
