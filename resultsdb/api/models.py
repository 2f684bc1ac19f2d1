"""The model registry: save_model, numbered versions, promotion with an audit trail."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from resultsdb.api.base import Base, Ref
from resultsdb.connection import Connection
from resultsdb.errors import AlreadyExists, InvalidInput, NotFound
from resultsdb.fields import (
    FILE_FORMAT_PATTERN,
    CommitHash,
    FileFormat,
    LongText,
    NumberMap,
    ShortText,
    Slug,
    shown,
    text_problem,
)
from resultsdb.inputs import ModelCreate, ref_id, validate, validate_value
from resultsdb.records import (
    Configuration,
    DataSnapshot,
    Experiment,
    LineageRow,
    Model,
    ModelArtifact,
    ModelVersion,
    ModelVersionStatus,
    Run,
)
from resultsdb.repositories import configurations as configs_repo
from resultsdb.repositories import models as models_repo
from resultsdb.repositories import runs as runs_repo

ModelData = bytes | bytearray | memoryview | IO[bytes] | str | os.PathLike[str]


class SavedModel(BaseModel):
    model_config = ConfigDict(frozen=True)

    model: Model
    version: ModelVersion
    artifact: ModelArtifact


class ModelLineage(BaseModel):
    """Where a model version came from, as records."""

    model_config = ConfigDict(frozen=True)

    version: ModelVersion
    model: Model
    run: Run
    experiment: Experiment
    configurations: list[Configuration]  # root -> the version's own configuration
    snapshots: list[DataSnapshot]
    artifacts: list[ModelArtifact]

    @property
    def commit_hash(self) -> str | None:
        return self.version.commit_hash


class ModelsAPI(Base):
    artifact_store: Any

    def save_model(self, run: Ref, data: ModelData, model_type: str, config: Ref | None = None,
                   name: str | None = None, metadata: Mapping[str, Any] | None = None,
                   file_format: str | None = None, *, artifact_type: str = "weights",
                   commit_hash: str | None = None, metrics: Mapping[str, float] | None = None,
                   description: str | None = None) -> SavedModel:
        """Store a model's bytes and register them as a new version.

        The bytes go to the artifact store first (content-addressed: identical bytes
        are stored once, and storing is idempotent); then the model (created on first
        save of ``name``), its next version and the artifact row are written in one
        transaction. So no row ever points at a missing blob: a failure leaves at
        most an unreferenced blob, which gc collects after its grace period.

        ``data`` is bytes, a binary file object or a file path. ``name`` defaults to
        "<model_type>-<run id>"; saving under an existing name adds a version to that
        model, whose model_type must match.

        Every argument, and the run, configuration and model name it refers to, is
        checked before the store is touched: a refused call stores nothing.
        """
        from resultsdb.artifacts import record_artifact, store_blob

        run_id = ref_id(run, field="run", table="models", kind=Run)
        config_id = (None if config is None
                     else ref_id(config, field="config", table="models", kind=Configuration))
        data = _model_data(data)
        model_type = validate_value("model_type", model_type, Slug, table="models")
        model_name = f"{model_type}-{run_id}" if name is None else name
        new_model = validate(ModelCreate, {
            "run_id": run_id, "config_id": config_id, "model_type": model_type,
            "name": model_name, "metadata": {} if metadata is None else metadata}, table="models")
        version_fields = {
            "commit_hash": validate_value("commit_hash", commit_hash, CommitHash | None,
                                          table="model_versions"),
            "metrics": validate_value("metrics", {} if metrics is None else metrics, NumberMap,
                                      table="model_versions"),
            "description": validate_value("description", description, LongText | None,
                                          table="model_versions"),
        }
        artifact_type = validate_value("artifact_type", artifact_type, Slug, table="model_artifacts")
        fmt = validate_value("file_format", _format_of(data) if file_format is None else file_format,
                             FileFormat, table="model_artifacts")

        def same_type(model: Model) -> Model:
            if model.model_type != model_type:
                raise InvalidInput(
                    f"models.model_type: model {model_name!r} is a {model.model_type!r}, "
                    f"not {model_type!r}", field="model_type", table="models")
            return model

        def references(conn: Any) -> None:
            runs_repo.get(conn, run_id)
            if config_id is not None:
                configs_repo.get(conn, config_id)
            try:
                same_type(models_repo.get_by_name(conn, model_name))
            except NotFound:
                pass

        self.db.read(references)  # the transaction below checks again; this spares the store
        blob = store_blob(self.db, self.artifact_store, data)

        def model_of_name(conn: Any) -> Model:
            try:
                return models_repo.get_by_name(conn, model_name)
            except NotFound:
                pass
            try:
                with self.db.transaction():  # a savepoint: losing a race to create it is no error
                    return models_repo.create(conn, new_model)
            except AlreadyExists:
                return models_repo.get_by_name(conn, model_name)  # created meanwhile: add to it

        def rows(conn: Any) -> SavedModel:
            model = same_type(model_of_name(conn))
            version = models_repo.create_version(conn, {
                "model_id": model.id, "run_id": run_id, "config_id": config_id, **version_fields})
            # Pins the blob's ledger row first, so gc cannot collect it before we commit.
            artifact = record_artifact(conn, version.id, blob, artifact_type=artifact_type,
                                       file_format=fmt)
            return SavedModel(model=models_repo.get(conn, model.id), version=version, artifact=artifact)

        return self.db.write(rows)

    def get_model(self, model: Ref) -> Model:
        return self.db.read(lambda c: models_repo.get(c, models_repo.resolve(c, model)))

    def _of_model(self, model: Ref,
                  pick: Callable[[Connection, UUID], ModelVersion]) -> ModelVersion:
        """The one version ``pick`` finds for ``model``; NotFound naming the model when
        there is no such model, else naming the version that is not there."""
        def go(conn: Connection) -> ModelVersion:
            model_id = models_repo.resolve(conn, model)
            try:
                return pick(conn, model_id)
            except NotFound:
                models_repo.get(conn, model_id)
                raise
        return self.db.read(go)

    def promote(self, version: Ref, status: ModelVersionStatus = "production",
                reason: str | None = None, *, actor: str | None = None) -> ModelVersion:
        """Move a version to ``status``; to production, atomically archiving the version
        that was in production. Every change is audited (who, when, from, to, reason).

        Promotions of one model's versions queue on the model's row lock, so two
        concurrent promotions end with exactly one version in production
        (:func:`resultsdb.repositories.models.set_version_status`).
        """
        version_id = ref_id(version, field="version", table="model_versions", kind=ModelVersion)
        status = validate_value("status", status, ModelVersionStatus, table="model_versions")
        reason = validate_value("reason", reason, LongText | None, table="model_versions")
        actor = validate_value("actor", actor, ShortText | None, table="model_versions")

        return self.db.write(lambda c: models_repo.set_version_status(
            c, version_id, status, reason=reason, actor=actor))

    def get_production(self, model: Ref) -> ModelVersion:
        """The model's version in production; NotFound when none is."""
        return self._of_model(model, models_repo.production)

    def list_versions(self, model: Ref) -> list[ModelVersion]:
        """Every version of the model, oldest first."""
        def go(conn: Any) -> list[ModelVersion]:
            model_id = models_repo.resolve(conn, model)
            rows = models_repo.versions_of(conn, model_id)
            if not rows:
                models_repo.get(conn, model_id)
            return rows
        return self.db.read(go)

    def latest_version(self, model: Ref) -> ModelVersion:
        """The model's highest-numbered version; NotFound when it has none."""
        return self._of_model(model, models_repo.latest)

    def version_history(self, version: Ref) -> list[Any]:
        """The audit trail of a version's statuses, oldest first."""
        version_id = ref_id(version, field="version", table="model_versions", kind=ModelVersion)

        def go(conn: Any) -> list[Any]:
            rows = models_repo.transitions(conn, version_id)
            if not rows:  # every version has its creation audited: no rows, no version
                models_repo.get_version(conn, version_id)
            return rows
        return self.db.read(go)

    def lineage(self, version: Ref) -> ModelLineage:
        """Experiment, run, configuration chain, data snapshots, commit and artifacts
        of a model version - one query."""
        version_id = ref_id(version, field="version", table="model_versions", kind=ModelVersion)

        def go(conn: Connection) -> LineageRow:
            try:
                return models_repo.lineage(conn, version_id)
            except NotFound:
                models_repo.get_version(conn, version_id)
                raise
        row = self.db.read(go)
        return ModelLineage(
            version=ModelVersion.model_validate(row.version, strict=False),
            model=Model.model_validate(row.model, strict=False),
            run=Run.model_validate(row.run, strict=False),
            experiment=Experiment.model_validate(row.experiment, strict=False),
            configurations=[Configuration.model_validate(c, strict=False) for c in row.configurations],
            snapshots=[DataSnapshot.model_validate(s, strict=False) for s in row.snapshots],
            artifacts=[ModelArtifact.model_validate(a, strict=False) for a in row.artifacts],
        )


PromotionStatus = Literal["draft", "staging", "production", "archived"]


def _model_data(data: Any) -> Any:
    """``data`` as save_model stores it (a path as a Path); InvalidInput when it is none
    of bytes, a binary file or the path of a file."""
    if isinstance(data, bytes | bytearray | memoryview):
        return data
    if isinstance(data, str | os.PathLike):
        text = os.fspath(data)
        problem = text_problem(text) if isinstance(text, str) else "must be a str path"
        if problem is not None:
            raise InvalidInput(f"data: the path {problem}", field="data")
        if not Path(text).is_file():
            raise InvalidInput(f"data: no file at {shown(text)}", field="data")
        return Path(text)
    if hasattr(data, "read"):
        return data
    raise InvalidInput(f"data: must be bytes, a binary file or a file path, not "
                       f"{type(data).__name__}", field="data")


def _format_of(data: Any) -> str:
    """The file format a path's suffix names (lower case), when it is a valid one; else bin."""
    suffix = data.suffix.lstrip(".").lower() if isinstance(data, Path) else ""
    return suffix if re.fullmatch(FILE_FORMAT_PATTERN, suffix) else "bin"
