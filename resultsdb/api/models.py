"""The model registry: save_model, numbered versions, promotion with an audit trail."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import BaseModel, ConfigDict

from resultsdb.api.base import Base, Ref
from resultsdb.errors import AlreadyExists, InvalidInput, NotFound
from resultsdb.inputs import ref_id
from resultsdb.records import (
    Configuration,
    DataSnapshot,
    Experiment,
    Model,
    ModelArtifact,
    ModelVersion,
    ModelVersionStatus,
    Run,
)
from resultsdb.repositories import models as models_repo

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
        """
        from resultsdb.artifacts import record_artifact, store_blob

        run_id = ref_id(run, field="run", table="models")
        config_id = ref_id(config, field="config", table="models") if config else None
        if isinstance(data, str | os.PathLike):
            data = Path(data)
        model_name = name or f"{model_type}-{run_id}"
        fmt = file_format or (data.suffix.lstrip(".").lower() if isinstance(data, Path) else None) or "bin"
        blob = store_blob(self.db, self.artifact_store, data)

        def model_of_name(conn: Any) -> Model:
            try:
                return models_repo.get_by_name(conn, model_name)
            except NotFound:
                pass
            try:
                with self.db.transaction():  # a savepoint: losing a race to create it is no error
                    return models_repo.create(conn, {
                        "run_id": run_id, "config_id": config_id, "model_type": model_type,
                        "name": model_name, "metadata": {} if metadata is None else metadata})
            except AlreadyExists:
                return models_repo.get_by_name(conn, model_name)  # created meanwhile: add to it

        def rows(conn: Any) -> SavedModel:
            model = model_of_name(conn)
            if model.model_type != model_type:
                raise InvalidInput(
                    f"models.model_type: model {model_name!r} is a {model.model_type!r}, "
                    f"not {model_type!r}", field="model_type", table="models")
            version = models_repo.create_version(conn, {
                "model_id": model.id, "run_id": run_id, "config_id": config_id,
                "commit_hash": commit_hash, "metrics": {} if metrics is None else metrics,
                "description": description})
            # Pins the blob's ledger row first, so gc cannot collect it before we commit.
            artifact = record_artifact(conn, version.id, blob, artifact_type=artifact_type,
                                       file_format=fmt)
            return SavedModel(model=models_repo.get(conn, model.id), version=version, artifact=artifact)

        return self.db.write(rows)

    def get_model(self, model: Ref) -> Model:
        return self.db.read(lambda c: models_repo.get(c, models_repo.resolve(c, model)))

    def promote(self, version: Ref, status: ModelVersionStatus = "production",
                reason: str | None = None, *, actor: str | None = None) -> ModelVersion:
        """Move a version to ``status``; to production, atomically archiving the version
        that was in production. Every change is audited (who, when, from, to, reason).

        Promotions of one model's versions queue on the model's row lock, so two
        concurrent promotions end with exactly one version in production
        (:func:`resultsdb.repositories.models.set_version_status`).
        """
        version_id = ref_id(version, field="version", table="model_versions")
        return self.db.write(lambda c: models_repo.set_version_status(
            c, version_id, status, reason=reason, actor=actor))

    def get_production(self, model: Ref) -> ModelVersion:
        """The model's version in production; NotFound when none is."""
        return self.db.read(lambda c: models_repo.production(c, models_repo.resolve(c, model)))

    def list_versions(self, model: Ref) -> list[ModelVersion]:
        """Every version of the model, oldest first."""
        return self.db.read(lambda c: models_repo.versions_of(c, models_repo.resolve(c, model)))

    def latest_version(self, model: Ref) -> ModelVersion:
        """The model's highest-numbered version; NotFound when it has none."""
        return self.db.read(lambda c: models_repo.latest(c, models_repo.resolve(c, model)))

    def version_history(self, version: Ref) -> list[Any]:
        """The audit trail of a version's statuses, oldest first."""
        version_id = ref_id(version, field="version", table="model_versions")
        return self.db.read(lambda c: models_repo.transitions(c, version_id))

    def lineage(self, version: Ref) -> ModelLineage:
        """Experiment, run, configuration chain, data snapshots, commit and artifacts
        of a model version - one query."""
        version_id = ref_id(version, field="version", table="model_versions")
        row = self.db.read(lambda c: models_repo.lineage(c, version_id))
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
