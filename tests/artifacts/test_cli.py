"""The verify, gc and cleanup-versions commands, on a local store through RESULTSDB_ARTIFACTS_URL."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from resultsdb.artifacts import ArtifactStore, gc, record_artifact, store_blob
from resultsdb.cli import app
from resultsdb.db import Database
from resultsdb.records import Model, ModelVersion
from tests.artifacts.test_store import overwrite

runner = CliRunner()


@pytest.fixture
def local_store(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore((tmp_path / "store").as_uri())


def invoke(db_url: str, store: ArtifactStore, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--url", db_url, *args],
                           env={"RESULTSDB_ARTIFACTS_URL": store.url})
    return result.exit_code, result.stdout, result.stderr


def saved(db: Database, store: ArtifactStore, version: ModelVersion, data: bytes) -> Any:
    ref = store_blob(db, store, data)
    db.write(lambda c: record_artifact(c, version.id, ref, artifact_type="weights"))
    return ref


@pytest.mark.parametrize("command", ["verify", "gc", "cleanup-versions"])
def test_help_shows_a_runnable_example(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "resultsdb " + command in result.stdout.split("Example:", 1)[1]


def test_verify_passes_then_names_the_rows_of_a_corrupt_blob(
        db: Database, db_url: str, local_store: ArtifactStore, model: Model, run: Any) -> None:
    from resultsdb.repositories import models

    version = db.write(lambda c: models.create_version(c, {"model_id": model.id, "run_id": run.id}))
    ref = saved(db, local_store, version, b"weights")
    code, out, _ = invoke(db_url, local_store, "--json", "verify")
    assert code == 0, out
    assert json.loads(out) == {"checked": 1, "bytes_checked": 7, "ok": True, "problems": []}

    overwrite(local_store, ref.sha256, b"WEIGHTS")
    code, out, _ = invoke(db_url, local_store, "--json", "verify")
    assert code == 2
    [problem] = json.loads(out)["problems"]
    assert (problem["content_hash"], problem["problem"], problem["table"], problem["owner_id"]) == (
        ref.sha256, "corrupt", "model_artifacts", str(version.id))
    code, out, _ = invoke(db_url, local_store, "verify")
    assert code == 2 and "corrupt" in out and "1 with problems" in out


def test_gc_dry_run_then_for_real(db: Database, db_url: str, local_store: ArtifactStore,
                                  conn: psycopg.Connection[Any]) -> None:
    ref = store_blob(db, local_store, b"nobody wants me")
    code, out, _ = invoke(db_url, local_store, "--json", "gc", "--grace", "1h", "--dry-run")
    assert code == 0 and json.loads(out)["deleted"] == []  # claimed just now
    code, out, _ = invoke(db_url, local_store, "--json", "gc", "--grace", "0s", "--dry-run")
    assert json.loads(out)["deleted"] == [ref.sha256] and local_store.exists(ref.sha256)
    code, out, _ = invoke(db_url, local_store, "gc", "--grace", "0")
    assert code == 0 and "deleted" in out
    assert not local_store.exists(ref.sha256)
    assert gc(db, local_store, grace=timedelta(0)).deleted == []
    code, _, err = invoke(db_url, local_store, "gc", "--grace", "soon")
    assert code == 4 and "grace" in err


def test_cleanup_versions_archives_all_but_the_newest(
        db: Database, db_url: str, local_store: ArtifactStore, model: Model, run: Any) -> None:
    from resultsdb.repositories import models

    for _ in range(4):
        db.write(lambda c: models.create_version(c, {"model_id": model.id, "run_id": run.id}))
    code, out, _ = invoke(db_url, local_store, "--json", "cleanup-versions", model.name,
                          "--keep", "2", "--dry-run")
    assert code == 0 and json.loads(out)["versions"] == [1, 2]
    code, out, _ = invoke(db_url, local_store, "--json", "cleanup-versions", model.name,
                          "--keep", "2", "--delete")
    assert code == 0 and json.loads(out)["versions"] == [1, 2]
    assert [v.version for v in db.read(lambda c: models.versions_of(c, model.id))] == [3, 4]
    code, _, err = invoke(db_url, local_store, "cleanup-versions", "missing-model", "--keep", "1")
    assert code == 3 and "missing-model" in err
