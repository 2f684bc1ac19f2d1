"""Model registry: models, their numbered versions, the status audit trail, artifacts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from resultsdb.inputs import (
    ModelArtifactCreate,
    ModelArtifactUpdate,
    ModelCreate,
    ModelUpdate,
    ModelVersionCreate,
    ModelVersionUpdate,
    as_id,
    validate,
)
from resultsdb.records import (
    Model,
    ModelArtifact,
    ModelVersion,
    ModelVersionStatus,
    ModelVersionTransition,
)
from resultsdb.repositories._base import (
    Connection,
    IdLike,
    delete_row,
    fetch_one,
    get_row,
    page,
    queries,
    update_row,
)

TABLE = "models"
VERSIONS = "model_versions"
ARTIFACTS = "model_artifacts"
UPDATABLE = frozenset({"config_id", "model_type", "name", "metadata"})
VERSION_UPDATABLE = frozenset({"status", "metrics", "description"})
ARTIFACT_UPDATABLE = frozenset({"storage_path", "file_format"})


# -- models ---------------------------------------------------------------------------

def get(conn: Connection, id: IdLike) -> Model:
    """The model with this id; NotFound when there is none."""
    return cast(Model, get_row(conn, "model_by_id", id, table=TABLE))


def get_by_name(conn: Connection, name: str) -> Model:
    """The model called ``name``; NotFound when there is none."""
    return cast(Model, fetch_one(conn, "model_by_name", table=TABLE, key={"name": name},
                                 name=name))


def list_page(conn: Connection, *, limit: int = 100, after: IdLike | None = None) -> list[Model]:
    """Up to ``limit`` models after the id ``after``, oldest first."""
    return page(conn, "models_page", limit=limit, after=after)


def create(conn: Connection, data: ModelCreate | Mapping[str, Any]) -> Model:
    """Insert a model (no versions yet); AlreadyExists when the name is taken."""
    row = validate(ModelCreate, data, table=TABLE)
    return cast(Model, queries().one(conn, "insert_model", **row.model_dump()))


def update(conn: Connection, id: IdLike, /, **changes: Any) -> Model:
    """Change name, model_type, metadata or config_id."""
    return cast(Model, update_row(
        conn, query="update_model", get_query="model_by_id", table=TABLE, model=ModelUpdate,
        updatable=UPDATABLE, id=id, changes=changes))


def delete(conn: Connection, id: IdLike) -> None:
    """Delete a model with its versions and artifacts; ProtectedRow while one is in production."""
    delete_row(conn, "delete_model", id, table=TABLE)


# -- versions -------------------------------------------------------------------------

def get_version(conn: Connection, id: IdLike) -> ModelVersion:
    """The model version with this id; NotFound when there is none."""
    return cast(ModelVersion, get_row(conn, "model_version_by_id", id, table=VERSIONS))


def versions_page(conn: Connection, *, limit: int = 100,
                  after: IdLike | None = None) -> list[ModelVersion]:
    """Up to ``limit`` versions of any model after the id ``after``, oldest first."""
    return page(conn, "model_versions_page", limit=limit, after=after)


def versions_of(conn: Connection, model_id: IdLike) -> list[ModelVersion]:
    """Every version of one model, version 1 first."""
    model = as_id(model_id, field="model_id", table=VERSIONS)
    return cast(list[ModelVersion], queries().many(conn, "versions_of_model", model_id=model))


def create_version(conn: Connection, data: ModelVersionCreate | Mapping[str, Any]) -> ModelVersion:
    """Insert the model's next version (1, 2, 3 ...); NotFound when the model does not exist."""
    row = validate(ModelVersionCreate, data, table=VERSIONS)
    return cast(ModelVersion, fetch_one(conn, "insert_model_version", table=TABLE,
                                        key={"id": row.model_id}, **row.model_dump()))


def update_version(conn: Connection, id: IdLike, /, **changes: Any) -> ModelVersion:
    """Change status, metrics or description; InvalidTransition for a disallowed status."""
    return cast(ModelVersion, update_row(
        conn, query="update_model_version", get_query="model_version_by_id", table=VERSIONS,
        model=ModelVersionUpdate, updatable=VERSION_UPDATABLE, id=id, changes=changes))


def set_version_status(conn: Connection, id: IdLike, status: ModelVersionStatus, *,
                       reason: str | None = None, actor: str | None = None) -> ModelVersion:
    """Move a version to ``status``, recording who (default: the database user) and why.

    AlreadyExists when another version of the model is already in production.
    """
    with conn.transaction():
        # The audit trigger reads these settings; they last until this transaction ends.
        queries().execute(conn, "set_audit_context", actor=actor, reason=reason)
        return update_version(conn, id, status=status)


def delete_version(conn: Connection, id: IdLike) -> None:
    """Delete a version and its artifacts; ProtectedRow while it is in production."""
    delete_row(conn, "delete_model_version", id, table=VERSIONS)


def transitions(conn: Connection, model_version_id: IdLike) -> list[ModelVersionTransition]:
    """The audit trail of a version's statuses, oldest first, creation included."""
    version = as_id(model_version_id, field="model_version_id", table=VERSIONS)
    return cast(list[ModelVersionTransition], queries().many(
        conn, "transitions_of_model_version", model_version_id=version))


# -- artifacts ------------------------------------------------------------------------

def get_artifact(conn: Connection, id: IdLike) -> ModelArtifact:
    """The artifact row with this id; NotFound when there is none."""
    return cast(ModelArtifact, get_row(conn, "model_artifact_by_id", id, table=ARTIFACTS))


def artifacts_page(conn: Connection, *, limit: int = 100,
                   after: IdLike | None = None) -> list[ModelArtifact]:
    """Up to ``limit`` artifacts of any version after the id ``after``, oldest first."""
    return page(conn, "model_artifacts_page", limit=limit, after=after)


def artifacts_of(conn: Connection, model_version_id: IdLike) -> list[ModelArtifact]:
    """The artifacts one model version owns, oldest first."""
    version = as_id(model_version_id, field="model_version_id", table=ARTIFACTS)
    return cast(list[ModelArtifact], queries().many(
        conn, "artifacts_of_model_version", model_version_id=version))


def create_artifact(conn: Connection,
                    data: ModelArtifactCreate | Mapping[str, Any]) -> ModelArtifact:
    """Record an artifact (its bytes are already stored under ``storage_path``)."""
    row = validate(ModelArtifactCreate, data, table=ARTIFACTS)
    return cast(ModelArtifact, queries().one(conn, "insert_model_artifact", **row.model_dump()))


def update_artifact(conn: Connection, id: IdLike, /, **changes: Any) -> ModelArtifact:
    """Change storage_path or file_format; the content (hash, size, type) is fixed."""
    return cast(ModelArtifact, update_row(
        conn, query="update_model_artifact", get_query="model_artifact_by_id", table=ARTIFACTS,
        model=ModelArtifactUpdate, updatable=ARTIFACT_UPDATABLE, id=id, changes=changes))


def delete_artifact(conn: Connection, id: IdLike) -> None:
    """Delete an artifact row (not the stored bytes)."""
    delete_row(conn, "delete_model_artifact", id, table=ARTIFACTS)
