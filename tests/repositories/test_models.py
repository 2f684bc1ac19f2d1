from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor

import pytest

from resultsdb.db import Database
from resultsdb.errors import (
    AlreadyExists,
    InvalidInput,
    InvalidTransition,
    NotFound,
    ProtectedRow,
    ReferenceNotFound,
)
from resultsdb.records import Configuration, Model, ModelVersion, Run
from resultsdb.repositories import models
from tests.repositories.conftest import MISSING_ID

DIGEST = hashlib.sha256(b"weights").hexdigest()


def new_version(db: Database, model: Model, **data: object) -> ModelVersion:
    return db.write(lambda c: models.create_version(
        c, {"model_id": model.id, "run_id": model.run_id, **data}))


# -- models ------------------------------------------------------------------------------

def test_create_and_get(db: Database, run: Run, config: Configuration) -> None:
    made = db.write(lambda c: models.create(c, {
        "run_id": str(run.id), "config_id": config.id, "model_type": "ppo", "name": "ppo-1",
        "metadata": {"framework": "torch", "layers": [64, 64]}}))
    assert made.version_count == 0
    assert made.metadata == {"framework": "torch", "layers": [64, 64]}
    assert db.read(lambda c: models.get(c, made.id)) == made
    assert db.read(lambda c: models.get_by_name(c, "ppo-1")) == made
    with pytest.raises(NotFound):
        db.read(lambda c: models.get_by_name(c, "nope"))
    with pytest.raises(NotFound) as err:
        db.read(lambda c: models.get(c, MISSING_ID))
    assert err.value.table == "models"


@pytest.mark.parametrize(("data", "field"), [
    ({"model_type": "PPO"}, "model_type"),
    ({"name": ""}, "name"),
    ({"metadata": "framework=torch"}, "metadata"),
    ({"metadata": {"lr": float("-inf")}}, "metadata"),
    ({"version_count": 3}, "version_count"),
    ({"run_id": None}, "run_id"),
])
def test_create_rejects_bad_input(db: Database, run: Run, unchanged, data: dict[str, object],
                                  field: str) -> None:
    base = {"run_id": run.id, "model_type": "dqn", "name": "m"}
    with unchanged(), pytest.raises(InvalidInput) as err:
        db.write(lambda c: models.create(c, {**base, **data}))
    assert err.value.field == field
    assert f"models.{field}" in str(err.value)


def test_names_are_unique(db: Database, model: Model, unchanged) -> None:
    with unchanged(), pytest.raises(AlreadyExists) as err:
        db.write(lambda c: models.create(
            c, {"run_id": model.run_id, "model_type": "dqn", "name": model.name}))
    assert err.value.field == "name"


def test_create_needs_an_existing_run(db: Database, run: Run, unchanged) -> None:
    with unchanged(), pytest.raises(ReferenceNotFound):
        db.write(lambda c: models.create(
            c, {"run_id": MISSING_ID, "model_type": "dqn", "name": "m"}))


def test_list_page(db: Database, run: Run) -> None:
    made = [db.write(lambda c, i=i: models.create(
        c, {"run_id": run.id, "model_type": "dqn", "name": f"m{i}"})).id for i in range(5)]
    first = db.read(lambda c: models.list_page(c, limit=3))
    rest = db.read(lambda c: models.list_page(c, limit=3, after=first[-1].id))
    assert [m.id for m in first + rest] == made


def test_update(db: Database, model: Model) -> None:
    updated = db.write(lambda c: models.update(c, model.id, name="renamed",
                                               metadata={"note": "x"}, config_id=None))
    assert (updated.name, updated.metadata, updated.config_id) == ("renamed", {"note": "x"}, None)
    assert updated.run_id == model.run_id


@pytest.mark.parametrize(("changes", "field"), [
    ({"version_count": 0}, "version_count"),
    ({"run_id": MISSING_ID}, "run_id"),
    ({"metadata": None}, "metadata"),
    ({"model_type": "a b"}, "model_type"),
])
def test_update_rejects_bad_changes(db: Database, model: Model, changes: dict[str, object],
                                    field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        db.write(lambda c: models.update(c, model.id, **changes))
    assert err.value.field == field
    assert db.read(lambda c: models.get(c, model.id)) == model


def test_update_and_delete_missing(db: Database, model: Model, unchanged) -> None:
    with unchanged():
        with pytest.raises(NotFound):
            db.write(lambda c: models.update(c, MISSING_ID, name="x"))
        with pytest.raises(NotFound):
            db.write(lambda c: models.delete(c, MISSING_ID))


def test_delete_takes_versions_and_artifacts(db: Database, model: Model, counts) -> None:
    version = new_version(db, model)
    db.write(lambda c: models.create_artifact(c, {
        "model_version_id": version.id, "artifact_type": "weights", "storage_path": "a/b.pt",
        "size_bytes": 7, "content_hash": DIGEST}))
    db.write(lambda c: models.delete(c, model.id))
    after = counts()
    assert (after["models"], after["model_versions"], after["model_artifacts"]) == (0, 0, 0)


# -- versions ----------------------------------------------------------------------------

def test_versions_number_themselves_per_model(db: Database, model: Model, run: Run) -> None:
    other = db.write(lambda c: models.create(
        c, {"run_id": run.id, "model_type": "dqn", "name": "other"}))
    v1, v2 = new_version(db, model), new_version(db, model)
    o1 = new_version(db, other)
    db.write(lambda c: models.delete_version(c, v2.id))
    v3 = new_version(db, model, metrics={"sharpe": 1.4}, commit_hash="abc1234")
    assert [v1.version, v2.version, v3.version, o1.version] == [1, 2, 3, 1]  # 2 is not reused
    assert db.read(lambda c: models.get(c, model.id)).version_count == 3
    assert [v.version for v in db.read(lambda c: models.versions_of(c, model.id))] == [1, 3]
    assert db.read(lambda c: models.get_version(c, v3.id)) == v3


def test_concurrent_versions_are_numbered_without_gaps(db: Database, model: Model) -> None:
    with ThreadPoolExecutor(max_workers=6) as pool:
        made = list(pool.map(lambda _: new_version(db, model), range(12)))
    assert sorted(v.version for v in made) == list(range(1, 13))


def test_create_version_of_a_missing_model(db: Database, run: Run, unchanged) -> None:
    with unchanged(), pytest.raises(NotFound) as err:
        db.write(lambda c: models.create_version(c, {"model_id": MISSING_ID, "run_id": run.id}))
    assert err.value.table == "models"
    assert MISSING_ID in str(err.value)


@pytest.mark.parametrize(("data", "field"), [
    ({"commit_hash": "ABC1234"}, "commit_hash"),
    ({"commit_hash": "abc"}, "commit_hash"),
    ({"metrics": {"sharpe": "high"}}, "metrics"),
    ({"status": "live"}, "status"),
    ({"version": 5}, "version"),
])
def test_create_version_rejects_bad_input(db: Database, model: Model, unchanged,
                                          data: dict[str, object], field: str) -> None:
    with unchanged(), pytest.raises(InvalidInput) as err:
        new_version(db, model, **data)
    assert err.value.field == field
    assert db.read(lambda c: models.get(c, model.id)).version_count == 0


def test_status_changes_are_audited(db: Database, model: Model) -> None:
    version = new_version(db, model)
    db.write(lambda c: models.set_version_status(c, version.id, "staging"))
    live = db.write(lambda c: models.set_version_status(
        c, version.id, "production", reason="best sharpe", actor="alice"))
    assert live.status == "production"
    trail = db.read(lambda c: models.transitions(c, version.id))
    assert [(t.from_status, t.to_status) for t in trail] == [
        (None, "draft"), ("draft", "staging"), ("staging", "production")]
    assert (trail[-1].reason, trail[-1].changed_by) == ("best sharpe", "alice")
    assert trail[1].reason is None


def test_one_production_version_per_model(db: Database, model: Model) -> None:
    first, second = new_version(db, model), new_version(db, model)
    db.write(lambda c: models.set_version_status(c, first.id, "production"))
    # set_version_status archives the version in production first; a write around it that
    # tries a second one is refused by the database.
    with pytest.raises(AlreadyExists):
        db.write(lambda c: c.execute(
            "update model_versions set status = 'production' where id = %s", (second.id,)))
    assert db.read(lambda c: models.get_version(c, second.id)).status == "draft"
    assert len(db.read(lambda c: models.transitions(c, second.id))) == 1
    db.write(lambda c: models.set_version_status(c, second.id, "production"))
    assert [db.read(lambda c, v=v: models.get_version(c, v.id)).status for v in (first, second)] == [
        "archived", "production"]


def test_update_version(db: Database, model: Model) -> None:
    version = new_version(db, model, metrics={"sharpe": 1.0})
    updated = db.write(lambda c: models.update_version(
        c, version.id, metrics={"sharpe": 1.2, "sortino": 1.9}, description="retuned"))
    assert updated.metrics == {"sharpe": 1.2, "sortino": 1.9}
    assert updated.description == "retuned"
    with pytest.raises(InvalidInput) as status_err:  # the status: set_version_status only
        db.write(lambda c: models.update_version(c, version.id, status="archived"))
    assert status_err.value.field == "status"
    archived = db.write(lambda c: models.set_version_status(c, version.id, "archived"))
    with pytest.raises(InvalidTransition):
        db.write(lambda c: models.set_version_status(c, version.id, "draft"))
    with pytest.raises(InvalidInput) as err:
        db.write(lambda c: models.update_version(c, version.id, commit_hash="abcdef0"))
    assert err.value.field == "commit_hash"
    with pytest.raises(NotFound):
        db.write(lambda c: models.update_version(c, MISSING_ID, description="x"))
    assert db.read(lambda c: models.get_version(c, version.id)) == archived


def test_delete_version(db: Database, model: Model) -> None:
    version = new_version(db, model)
    db.write(lambda c: models.set_version_status(c, version.id, "production"))
    with pytest.raises(ProtectedRow):
        db.write(lambda c: models.delete_version(c, version.id))
    db.write(lambda c: models.set_version_status(c, version.id, "archived"))
    db.write(lambda c: models.delete_version(c, version.id))
    with pytest.raises(NotFound):
        db.read(lambda c: models.get_version(c, version.id))
    with pytest.raises(NotFound):
        db.write(lambda c: models.delete_version(c, version.id))
    assert db.read(lambda c: models.transitions(c, version.id)) == []


def test_versions_page(db: Database, model: Model) -> None:
    made = [new_version(db, model).id for _ in range(4)]
    first = db.read(lambda c: models.versions_page(c, limit=3))
    rest = db.read(lambda c: models.versions_page(c, limit=3, after=first[-1].id))
    assert [v.id for v in first + rest] == made


# -- artifacts ---------------------------------------------------------------------------

def artifact_data(version: ModelVersion, **data: object) -> dict[str, object]:
    return {"model_version_id": version.id, "artifact_type": "weights",
            "storage_path": f"models/{version.model_id}/{DIGEST}.pt", "size_bytes": 7,
            "file_format": "pt", "content_hash": DIGEST, **data}


def test_artifacts(db: Database, version: ModelVersion) -> None:
    made = db.write(lambda c: models.create_artifact(c, artifact_data(version)))
    assert made.content_hash == DIGEST
    assert db.read(lambda c: models.get_artifact(c, made.id)) == made
    assert db.read(lambda c: models.artifacts_of(c, version.id)) == [made]
    moved = db.write(lambda c: models.update_artifact(c, made.id, storage_path="cold/x.pt",
                                                      file_format=None))
    assert (moved.storage_path, moved.file_format, moved.content_hash) == (
        "cold/x.pt", None, DIGEST)
    second = db.write(lambda c: models.create_artifact(
        c, artifact_data(version, artifact_type="optimizer_state")))
    first_page = db.read(lambda c: models.artifacts_page(c, limit=1))
    assert [a.id for a in first_page] == [made.id]
    assert [a.id for a in db.read(lambda c: models.artifacts_page(
        c, after=first_page[-1].id))] == [second.id]
    db.write(lambda c: models.delete_artifact(c, made.id))
    with pytest.raises(NotFound) as err:
        db.read(lambda c: models.get_artifact(c, made.id))
    assert err.value.table == "model_artifacts"


@pytest.mark.parametrize(("data", "field"), [
    ({"content_hash": DIGEST.upper()}, "content_hash"),
    ({"content_hash": "abc"}, "content_hash"),
    ({"size_bytes": -1}, "size_bytes"),
    ({"size_bytes": 2**63}, "size_bytes"),
    ({"size_bytes": 1.5}, "size_bytes"),
    ({"file_format": ".PT"}, "file_format"),
    ({"storage_path": ""}, "storage_path"),
    ({"artifact_type": "Weights"}, "artifact_type"),
])
def test_create_artifact_rejects_bad_input(db: Database, version: ModelVersion, unchanged,
                                           data: dict[str, object], field: str) -> None:
    with unchanged(), pytest.raises(InvalidInput) as err:
        db.write(lambda c: models.create_artifact(c, artifact_data(version, **data)))
    assert err.value.field == field


def test_artifact_update_and_delete_failures(db: Database, version: ModelVersion,
                                             unchanged) -> None:
    made = db.write(lambda c: models.create_artifact(c, artifact_data(version)))
    with unchanged():
        with pytest.raises(InvalidInput) as err:
            db.write(lambda c: models.update_artifact(c, made.id, content_hash="0" * 64))
        assert err.value.field == "content_hash"
        with pytest.raises(NotFound):
            db.write(lambda c: models.update_artifact(c, MISSING_ID, storage_path="x"))
        with pytest.raises(NotFound):
            db.write(lambda c: models.delete_artifact(c, MISSING_ID))
        with pytest.raises(ReferenceNotFound):
            db.write(lambda c: models.create_artifact(
                c, artifact_data(version, model_version_id=MISSING_ID)))
    assert db.read(lambda c: models.get_artifact(c, made.id)) == made
