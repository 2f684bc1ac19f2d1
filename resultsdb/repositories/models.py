"""Model registry: models, their numbered versions, the status audit trail, artifacts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from resultsdb.fields import Name
from resultsdb.inputs import (
    ModelArtifactCreate,
    ModelArtifactUpdate,
    ModelCreate,
    ModelUpdate,
    ModelVersionCreate,
    ModelVersionUpdate,
    as_id,
    as_limit,
    is_uuid,
    ref_id,
    validate,
    validate_value,
)
from resultsdb.records import (
    LineageRow,
    Model,
    ModelArtifact,
    ModelListing,
    ModelVersion,
    ModelVersionStatus,
    ModelVersionTransition,
)
from resultsdb.repositories.common import Connection, IdLike, after_id, update_row

TABLE = "models"
VERSIONS = "model_versions"
ARTIFACTS = "model_artifacts"
UPDATABLE = frozenset({"config_id", "model_type", "name", "metadata"})
# A version's status changes only through set_version_status (locked, audited).
VERSION_UPDATABLE = frozenset({"metrics", "description"})
ARTIFACT_UPDATABLE = frozenset({"storage_path", "file_format"})


# -- models ---------------------------------------------------------------------------

def get(conn: Connection, id: IdLike) -> Model:
    """The model with this id; NotFound when there is none."""
    return conn.q.model_by_id(id=as_id(id, table=TABLE))


def get_by_name(conn: Connection, name: str) -> Model:
    """The model called ``name``; NotFound when there is none."""
    return conn.q.model_by_name(name=name)


def resolve(conn: Connection, model: Any, *, field: str = "model") -> UUID:
    """The id of a model given as a record, an id, or its name (NotFound for an unknown name)."""
    if isinstance(model, str) and not is_uuid(model):
        validate_value(field, model, Name, table=TABLE)
        return get_by_name(conn, model).id
    return ref_id(model, field=field, table=TABLE, kind=Model)


def list_page(conn: Connection, *, limit: int = 100, after: IdLike | None = None) -> list[Model]:
    """Up to ``limit`` models after the id ``after``, oldest first."""
    return conn.q.models_page(limit=as_limit(limit), after=after_id(after))


def listing(conn: Connection, *, experiment_id: UUID | None, after: UUID | None,
            limit: int) -> list[ModelListing]:
    """Models (of one experiment's runs if given), oldest first, with their latest and
    production version numbers, a keyset page at a time."""
    return conn.q.model_listing_page(experiment_id=experiment_id, after=after, limit=limit)


def create(conn: Connection, data: ModelCreate | Mapping[str, Any]) -> Model:
    """Insert a model (no versions yet); AlreadyExists when the name is taken."""
    row = validate(ModelCreate, data, table=TABLE)
    return conn.q.insert_model(**row.model_dump())


def update(conn: Connection, id: IdLike, /, **changes: Any) -> Model:
    """Change name, model_type, metadata or config_id."""
    row_id = as_id(id, table=TABLE)
    return update_row(changes, model=ModelUpdate, updatable=UPDATABLE, table=TABLE,
                      apply=lambda patch: conn.q.update_model(id=row_id, patch=patch),
                      current=lambda: conn.q.model_by_id(id=row_id))


def delete(conn: Connection, id: IdLike) -> None:
    """Delete a model with its versions and artifacts; ProtectedRow while one is in production."""
    conn.q.delete_model(id=as_id(id, table=TABLE))


# -- versions -------------------------------------------------------------------------

def get_version(conn: Connection, id: IdLike) -> ModelVersion:
    """The model version with this id; NotFound when there is none."""
    return conn.q.model_version_by_id(id=as_id(id, table=VERSIONS))


def versions_page(conn: Connection, *, limit: int = 100,
                  after: IdLike | None = None) -> list[ModelVersion]:
    """Up to ``limit`` versions of any model after the id ``after``, oldest first."""
    return conn.q.model_versions_page(limit=as_limit(limit), after=after_id(after))


def versions_of(conn: Connection, model_id: IdLike) -> list[ModelVersion]:
    """Every version of one model, version 1 first."""
    model = as_id(model_id, field="model_id", table=VERSIONS)
    return conn.q.versions_of_model(model_id=model)


def production(conn: Connection, model_id: UUID) -> ModelVersion:
    """The model's version in production; NotFound when none is."""
    return conn.q.production_version(model_id=model_id)


def latest(conn: Connection, model_id: UUID) -> ModelVersion:
    """The model's highest-numbered version; NotFound when it has none."""
    return conn.q.latest_version(model_id=model_id)


def create_version(conn: Connection, data: ModelVersionCreate | Mapping[str, Any]) -> ModelVersion:
    """Insert the model's next version (1, 2, 3 ...); NotFound when the model does not exist."""
    row = validate(ModelVersionCreate, data, table=VERSIONS)
    return conn.q.insert_model_version(**row.model_dump())


def update_version(conn: Connection, id: IdLike, /, **changes: Any) -> ModelVersion:
    """Change metrics or description (the status: set_version_status)."""
    row_id = as_id(id, table=VERSIONS)
    return update_row(changes, model=ModelVersionUpdate, updatable=VERSION_UPDATABLE,
                      table=VERSIONS,
                      apply=lambda patch: conn.q.update_model_version(id=row_id, patch=patch),
                      current=lambda: conn.q.model_version_by_id(id=row_id))


def set_version_status(conn: Connection, id: IdLike, status: ModelVersionStatus, *,
                       reason: str | None = None, actor: str | None = None) -> ModelVersion:
    """Move a version to ``status``, recording who (default: the database user) and why;
    to production, archiving the model's version that was in production.

    The one way a version's status changes. Changes to one model's versions queue on the
    model's row lock, so concurrent promotions end with exactly one version in production.
    InvalidTransition for a change the status machine refuses.
    """
    version_id = as_id(id, table=VERSIONS)
    status = validate_value("status", status, ModelVersionStatus, table=VERSIONS)
    with conn.transaction():
        conn.q.lock_model(model_id=get_version(conn, version_id).model_id)
        # Read again under the lock: a promotion that committed while we waited may have
        # archived this version, and deciding on the older status would leave the model
        # with no production version.
        current = get_version(conn, version_id)
        # The audit trigger reads these settings; they last until this transaction ends.
        conn.q.set_audit_context(actor=actor, reason=reason)
        if status == "production":
            conn.q.archive_production_except(model_id=current.model_id, keep_id=version_id)
        if current.status == status:
            return current
        return conn.q.set_version_status(id=version_id, status=status)


def versions_to_clean(conn: Connection, model_id: UUID, *, keep: int) -> list[ModelVersion]:
    """The versions older than the newest ``keep``, never the production one, oldest first;
    locked until the transaction ends so that no promotion slips in."""
    return conn.q.versions_to_clean(model_id=model_id, keep=keep)


def delete_version(conn: Connection, id: IdLike) -> None:
    """Delete a version and its artifacts; ProtectedRow while it is in production."""
    conn.q.delete_model_version(id=as_id(id, table=VERSIONS))


def transitions(conn: Connection, model_version_id: IdLike) -> list[ModelVersionTransition]:
    """The audit trail of a version's statuses, oldest first, creation included."""
    version = as_id(model_version_id, field="model_version_id", table=VERSIONS)
    return conn.q.transitions_of_model_version(model_version_id=version)


def lineage(conn: Connection, version_id: UUID) -> LineageRow:
    """Where a version came from (model, run, experiment, configuration chain, snapshots,
    artifacts), in one query; NotFound when there is no such version."""
    return conn.q.model_version_lineage(version_id=version_id)


# -- artifacts ------------------------------------------------------------------------

def get_artifact(conn: Connection, id: IdLike) -> ModelArtifact:
    """The artifact row with this id; NotFound when there is none."""
    return conn.q.model_artifact_by_id(id=as_id(id, table=ARTIFACTS))


def artifacts_page(conn: Connection, *, limit: int = 100,
                   after: IdLike | None = None) -> list[ModelArtifact]:
    """Up to ``limit`` artifacts of any version after the id ``after``, oldest first."""
    return conn.q.model_artifacts_page(limit=as_limit(limit), after=after_id(after))


def artifacts_of(conn: Connection, model_version_id: IdLike) -> list[ModelArtifact]:
    """The artifacts one model version owns, oldest first."""
    version = as_id(model_version_id, field="model_version_id", table=ARTIFACTS)
    return conn.q.artifacts_of_model_version(model_version_id=version)


def create_artifact(conn: Connection,
                    data: ModelArtifactCreate | Mapping[str, Any]) -> ModelArtifact:
    """Record an artifact (its bytes are already stored under ``storage_path``)."""
    row = validate(ModelArtifactCreate, data, table=ARTIFACTS)
    return conn.q.insert_model_artifact(**row.model_dump())


def update_artifact(conn: Connection, id: IdLike, /, **changes: Any) -> ModelArtifact:
    """Change storage_path or file_format; the content (hash, size, type) is fixed."""
    row_id = as_id(id, table=ARTIFACTS)
    return update_row(changes, model=ModelArtifactUpdate, updatable=ARTIFACT_UPDATABLE,
                      table=ARTIFACTS,
                      apply=lambda patch: conn.q.update_model_artifact(id=row_id, patch=patch),
                      current=lambda: conn.q.model_artifact_by_id(id=row_id))


def delete_artifact(conn: Connection, id: IdLike) -> None:
    """Delete an artifact row (not the stored bytes)."""
    conn.q.delete_model_artifact(id=as_id(id, table=ARTIFACTS))
