"""The model registry through the ResultsDB API: save_model, versions, promotion, lineage."""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest

from resultsdb.api import ModelLineage, ResultsDB, SavedModel
from resultsdb.errors import (
    InvalidInput,
    InvalidTransition,
    NotFound,
    ReferenceNotFound,
)
from resultsdb.records import Experiment, Model, ModelVersion, Run
from resultsdb.repositories import models as models_repo
from tests.api._workers import promote_worker
from tests.api.conftest import MISSING_ID, SHA, T0, Counter, raw_one

WEIGHTS = b"\x00\x01weights" * 1000
COMMIT = "0123abcd" * 5


def make_model(rdb: ResultsDB, run: Run, name: str = "dqn-btc", versions: int = 2) -> tuple[
        Model, list[ModelVersion]]:
    """A model with ``versions`` draft versions, written without the artifact store."""
    model = rdb.db.write(lambda c: models_repo.create(
        c, {"run_id": run.id, "model_type": "dqn", "name": name}))
    made = [rdb.db.write(lambda c, i=i: models_repo.create_version(
        c, {"model_id": model.id, "run_id": run.id, "metrics": {"sharpe": 1.0 + i}}))
        for i in range(versions)]
    return model, made


def statuses(conn: psycopg.Connection, model: Model) -> dict[int, str]:
    rows = conn.execute("select version, status from model_versions where model_id = %s",
                        (model.id,)).fetchall()
    return dict(rows)


def counts_but_blobs(counts: Counter) -> dict[str, int]:
    # A failed save may leave a claimed, unreferenced blob (gc's business); never a row.
    return {t: n for t, n in counts().items() if t != "blobs"}


# -- save_model --------------------------------------------------------------------------

def test_save_model_bytes(mdb: ResultsDB, run: Run, conn: psycopg.Connection) -> None:
    saved = mdb.save_model(run, WEIGHTS, "dqn", name="dqn-btc", metadata={"framework": "torch"},
                           commit_hash=COMMIT, metrics={"sharpe": 1.4}, description="first")
    assert isinstance(saved, SavedModel)
    assert (saved.model.name, saved.model.model_type, saved.model.version_count) == ("dqn-btc", "dqn", 1)
    assert saved.model.metadata == {"framework": "torch"}
    assert (saved.version.version, saved.version.status) == (1, "draft")
    assert saved.version.run_id == run.id and saved.version.commit_hash == COMMIT
    assert saved.version.metrics == {"sharpe": 1.4}
    art = saved.artifact
    assert art.model_version_id == saved.version.id
    assert art.content_hash == hashlib.sha256(WEIGHTS).hexdigest()
    assert art.size_bytes == len(WEIGHTS)
    assert (art.artifact_type, art.file_format) == ("weights", "bin")
    assert mdb.artifact_store.get(art.content_hash) == WEIGHTS  # the bytes are in the store
    assert raw_one(conn, "select content_hash from model_artifacts where id = %s", art.id) == art.content_hash


def test_save_model_file_like_and_path(mdb: ResultsDB, run: Run, tmp_path: Path) -> None:
    from_file = mdb.save_model(run, io.BytesIO(WEIGHTS), "dqn", name="a")
    path = tmp_path / "policy.ONNX"
    path.write_bytes(b"onnx bytes")
    from_path = mdb.save_model(run, path, "ppo", name="b")
    from_str = mdb.save_model(run, str(path), "ppo", name="c", file_format="onnx", artifact_type="policy")
    assert from_file.artifact.content_hash == hashlib.sha256(WEIGHTS).hexdigest()
    assert from_path.artifact.file_format == "onnx"
    assert from_path.artifact.content_hash == hashlib.sha256(b"onnx bytes").hexdigest()
    assert from_path.artifact.size_bytes == len(b"onnx bytes")
    assert (from_str.artifact.artifact_type, from_str.artifact.content_hash) == (
        "policy", from_path.artifact.content_hash)
    # Identical bytes are one blob in the store, referenced twice.
    assert from_str.artifact.storage_path == from_path.artifact.storage_path


def test_save_model_default_name(mdb: ResultsDB, run: Run) -> None:
    saved = mdb.save_model(run.id, WEIGHTS, "dqn")
    assert saved.model.name == f"dqn-{run.id}"
    assert mdb.get_model(f"dqn-{run.id}") == saved.model


def test_save_model_name_reuse_adds_a_version(mdb: ResultsDB, exp: Experiment, run: Run) -> None:
    cfg = mdb.save_config(run, "dqn", "model", {"lr": 0.01})
    first = mdb.save_model(run, WEIGHTS, "dqn", cfg, name="dqn-btc")
    later_run = mdb.start_run(exp, "retrain")
    second = mdb.save_model(later_run, WEIGHTS + b"v2", "dqn", name="dqn-btc", metadata={"ignored": 1})
    assert second.model.id == first.model.id
    assert second.version.version == 2 and second.model.version_count == 2
    assert second.version.run_id == later_run.id  # the version knows its own run ...
    assert second.model.run_id == run.id  # ... the model where it first appeared
    assert second.model.config_id == cfg.id and first.version.config_id == cfg.id
    assert second.model.metadata == {}  # a new version does not rewrite the model's metadata
    assert [v.version for v in mdb.list_versions("dqn-btc")] == [1, 2]


def test_save_model_wrong_type_on_reuse(mdb: ResultsDB, run: Run, counts: Counter) -> None:
    mdb.save_model(run, WEIGHTS, "dqn", name="dqn-btc")
    before = counts()
    with pytest.raises(InvalidInput) as err:
        mdb.save_model(run, b"other bytes", "ppo", name="dqn-btc")
    assert err.value.field == "model_type"
    assert "dqn" in str(err.value)
    assert counts() == before  # refused before the store: not even a blob row
    assert not mdb.artifact_store.exists(hashlib.sha256(b"other bytes").hexdigest())


def test_save_model_refuses_unknown_references_before_storing(mdb: ResultsDB, run: Run,
                                                               counts: Counter) -> None:
    before = counts()
    data = b"bytes of a model whose references do not exist"
    with pytest.raises(NotFound, match="runs"):
        mdb.save_model(MISSING_ID, data, "dqn", name="orphan")
    with pytest.raises(NotFound, match="configurations"):
        mdb.save_model(run, data, "dqn", config=MISSING_ID, name="orphan")
    assert counts() == before
    assert not mdb.artifact_store.exists(hashlib.sha256(data).hexdigest())


def test_save_model_failing_rows_leave_no_rows(mdb: ResultsDB, run: Run, counts: Counter,
                                               conn: psycopg.Connection,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import resultsdb.artifacts as artifacts

    config = mdb.save_config(run, "c", "model", {})
    before = counts_but_blobs(counts)
    data = b"bytes of a model whose rows fail"
    store_blob = artifacts.store_blob

    def store_then_lose_the_config(*args: Any) -> Any:
        ref = store_blob(*args)
        conn.execute("delete from configurations where id = %s", (config.id,))
        return ref

    # The config goes between the check and the rows: the rows fail after the blob.
    monkeypatch.setattr(artifacts, "store_blob", store_then_lose_the_config)
    with pytest.raises(ReferenceNotFound):
        mdb.save_model(run, data, "dqn", config=config, name="orphan")
    assert counts_but_blobs(counts) == {**before, "configurations": before["configurations"] - 1}
    digest = hashlib.sha256(data).hexdigest()
    # The blob was stored first and is left unreferenced for gc; no row points at it.
    assert mdb.artifact_store.exists(digest)
    assert raw_one(conn, "select count(*) from model_artifacts where content_hash = %s", digest) == 0


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"model_type": "Deep Q"}, "model_type"),
    ({"commit_hash": "not-a-commit"}, "commit_hash"),
    ({"metrics": {"sharpe": float("nan")}}, "metrics"),
    ({"metadata": ["a", "b"]}, "metadata"),
    ({"file_format": "Weird Format!"}, "file_format"),
    ({"artifact_type": "Big Weights"}, "artifact_type"),
    ({"name": "x" * 256}, "name"),
    ({"model_type": "../dqn"}, "model_type"),
    ({"file_format": "../../etc/passwd"}, "file_format"),
    ({"metrics": {"sharpe": 10**400}}, "metrics"),
    ({"description": "a\x00b"}, "description"),
    ({"metadata": {"k": "a\udc80"}}, "metadata"),
    ({"data": "/nonexistent/weights.bin"}, "data"),
    ({"config": "not-an-id"}, "config"),
])
def test_save_model_rejects(mdb: ResultsDB, run: Run, counts: Counter, kwargs: dict, field: str) -> None:
    args: dict[str, Any] = {"run": run, "data": WEIGHTS, "model_type": "dqn", "name": "m", **kwargs}
    before = counts()
    with pytest.raises(InvalidInput) as err:
        mdb.save_model(**args)
    assert err.value.field == field
    assert counts() == before  # every argument is checked before the store: no blob either
    assert not mdb.artifact_store.exists(hashlib.sha256(WEIGHTS).hexdigest())


def test_save_model_rejects_data_that_is_not_bytes(mdb: ResultsDB, run: Run, unchanged) -> None:
    with unchanged(), pytest.raises(InvalidInput):
        mdb.save_model(run, 12345, "dqn")  # type: ignore[arg-type]


def test_get_model(rdb: ResultsDB, run: Run) -> None:
    model, _ = make_model(rdb, run)
    assert rdb.get_model("dqn-btc") == rdb.get_model(model.id) == rdb.get_model(model)
    assert rdb.get_model(model).version_count == 2
    with pytest.raises(NotFound):
        rdb.get_model("no such model")
    with pytest.raises(NotFound):
        rdb.get_model(MISSING_ID)


# -- promotion and the audit trail ---------------------------------------------------------

def test_promote_and_audit(rdb: ResultsDB, run: Run, conn: psycopg.Connection) -> None:
    model, (v1, v2) = make_model(rdb, run)
    promoted = rdb.promote(v1, "production", "best sharpe", actor="alice")
    assert promoted.status == "production"
    assert rdb.get_production(model) == promoted
    history = rdb.version_history(v1)
    assert [(h.from_status, h.to_status) for h in history] == [(None, "draft"), ("draft", "production")]
    assert (history[1].reason, history[1].changed_by) == ("best sharpe", "alice")
    assert history[1].changed_at >= history[0].changed_at
    assert history[0].changed_by == raw_one(conn, "select session_user")  # no actor: the db user

    second = rdb.promote(v2.id, reason="retrained", actor="bob")
    assert second.status == "production"
    assert statuses(conn, model) == {1: "archived", 2: "production"}
    archived = rdb.version_history(v1)[-1]
    assert (archived.from_status, archived.to_status, archived.reason, archived.changed_by) == (
        "production", "archived", "retrained", "bob")
    # Without an actor, the database user is recorded.
    rdb.promote(v1, "staging")
    assert rdb.version_history(v1)[-1].changed_by == raw_one(conn, "select session_user")
    assert rdb.version_history(v1)[-1].reason is None


def test_promote_the_production_version_again_is_a_no_op(rdb: ResultsDB, run: Run,
                                                         conn: psycopg.Connection) -> None:
    _, (v1, _) = make_model(rdb, run)
    first = rdb.promote(v1)
    again = rdb.promote(v1, reason="again")
    assert again.status == "production" and again.id == first.id
    assert len(rdb.version_history(v1)) == 2
    assert raw_one(conn, "select count(*) from model_version_transitions") == 3


def test_promote_rollback_from_archived(rdb: ResultsDB, run: Run, conn: psycopg.Connection) -> None:
    model, (v1, v2) = make_model(rdb, run)
    rdb.promote(v1)
    rdb.promote(v2)
    rdb.promote(v1, reason="v2 misbehaves")  # archived -> production rolls back
    assert statuses(conn, model) == {1: "production", 2: "archived"}


def test_promote_failures(rdb: ResultsDB, run: Run, conn: psycopg.Connection, unchanged) -> None:
    model, (v1, v2) = make_model(rdb, run)
    rdb.promote(v1)
    with unchanged():
        with pytest.raises(InvalidTransition) as err:
            rdb.promote(v1, "draft")  # production -> draft is not an edge
        assert (err.value.from_status, err.value.to_status) == ("production", "draft")
        with pytest.raises(InvalidInput):
            rdb.promote(v2, "retired")  # type: ignore[arg-type]
        with pytest.raises(NotFound):
            rdb.promote(MISSING_ID)
        with pytest.raises(InvalidInput):
            rdb.promote("v2")
    assert statuses(conn, model) == {1: "production", 2: "draft"}


def test_get_production(rdb: ResultsDB, run: Run) -> None:
    model, (v1, _) = make_model(rdb, run)
    with pytest.raises(NotFound):
        rdb.get_production(model)
    rdb.promote(v1)
    assert rdb.get_production("dqn-btc").id == v1.id
    rdb.promote(v1, "archived")
    with pytest.raises(NotFound):
        rdb.get_production(model.id)
    with pytest.raises(NotFound):
        rdb.get_production("no such model")


def test_list_and_latest_versions(rdb: ResultsDB, exp: Experiment, run: Run) -> None:
    model, made = make_model(rdb, run, versions=3)
    make_model(rdb, run, name="other", versions=1)
    assert [v.id for v in rdb.list_versions(model)] == [v.id for v in made]
    assert rdb.latest_version("dqn-btc").id == made[2].id
    empty = rdb.db.write(lambda c: models_repo.create(
        c, {"run_id": run.id, "model_type": "dqn", "name": "empty"}))
    assert rdb.list_versions(empty) == []
    with pytest.raises(NotFound):
        rdb.latest_version(empty)
    with pytest.raises(NotFound):
        rdb.list_versions("no such model")
    with pytest.raises(NotFound):
        rdb.latest_version(MISSING_ID)


def test_version_history_of_a_missing_version(rdb: ResultsDB) -> None:
    with pytest.raises(NotFound, match="model_versions"):
        rdb.version_history(MISSING_ID)
    with pytest.raises(InvalidInput):
        rdb.version_history("v1")


def _one_production_after_race(rdb: ResultsDB, conn: psycopg.Connection, model: Model,
                               versions: list[ModelVersion], promote) -> None:
    barrier = threading.Barrier(len(versions))

    def go(version: ModelVersion) -> str:
        barrier.wait()
        return promote(version)

    with ThreadPoolExecutor(len(versions)) as pool:
        results = list(pool.map(go, versions))
    assert results == ["production"] * len(versions)  # each succeeded in its turn
    states = statuses(conn, model)
    assert list(states.values()).count("production") == 1


def test_promotion_race_threads(rdb: ResultsDB, run: Run, conn: psycopg.Connection) -> None:
    model, _ = make_model(rdb, run, versions=0)
    for _ in range(20):
        pair = [rdb.db.write(lambda c: models_repo.create_version(
            c, {"model_id": model.id, "run_id": run.id})) for _ in range(2)]
        _one_production_after_race(rdb, conn, model, pair,
                                   lambda v: rdb.promote(v, reason="race").status)
    # The audit trail agrees: every archive of a production version is recorded.
    assert raw_one(conn, "select count(*) from model_version_transitions "
                         "where from_status = 'production' and to_status = 'archived'") == 39


@pytest.mark.slow
def test_promotion_race_processes(db_url: str, rdb: ResultsDB, run: Run,
                                  conn: psycopg.Connection) -> None:
    model, _ = make_model(rdb, run, versions=0)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager, ctx.Pool(2) as pool:
        for _ in range(5):
            pair = [rdb.db.write(lambda c: models_repo.create_version(
                c, {"model_id": model.id, "run_id": run.id})) for _ in range(2)]
            start = manager.Barrier(3, timeout=180)
            pending = [pool.apply_async(promote_worker, (db_url, str(v.id), start)) for v in pair]
            start.wait()
            assert [p.get(timeout=180) for p in pending] == ["production", "production"]
            assert list(statuses(conn, model).values()).count("production") == 1


def test_promote_decides_on_the_status_it_finds_under_the_lock(
        rdb: ResultsDB, db_url: str, run: Run, conn: psycopg.Connection) -> None:
    # v1 is in production. Another promotion (v2) holds the model's lock and has already
    # archived v1 when our promote(v1) starts waiting; once it commits, v1 must be
    # promoted again (not skipped as "already in production").
    model, (v1, v2) = make_model(rdb, run)
    rdb.promote(v1)
    with psycopg.connect(db_url) as other:
        other.execute("select id from models where id = %s for update", (model.id,))
        other.execute("update model_versions set status = 'archived' where id = %s", (v1.id,))
        other.execute("update model_versions set status = 'production' where id = %s", (v2.id,))
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(rdb.promote, v1, "production", "rollback")
            deadline = time.monotonic() + 10
            while raw_one(conn, "select count(*) from pg_stat_activity "
                                "where datname = current_database() and wait_event_type = 'Lock'") == 0:
                assert time.monotonic() < deadline, "promote never waited for the lock"
                time.sleep(0.02)
            other.commit()
            assert pending.result(timeout=10).status == "production"
    assert statuses(conn, model) == {1: "production", 2: "archived"}


# -- lineage ----------------------------------------------------------------------------

def test_lineage(mdb: ResultsDB, exp: Experiment, run: Run) -> None:
    root = mdb.save_config(run, "dqn", "model", {"lr": 0.01})
    mid = mdb.save_config(run, "dqn", "model", {"lr": 0.005}, parent=root)
    leaf = mdb.save_config(run, "dqn-tuned", "model", {"lr": 0.004}, parent=mid)
    snap = mdb.register_snapshot(run, "binance:BTCUSDT:1h", T0, T0.replace(year=2025), SHA, "s3://d/x")
    other_run = mdb.start_run(exp, "unrelated")
    mdb.register_snapshot(other_run, "binance", T0, T0, "cd" * 32)
    saved = mdb.save_model(run, WEIGHTS, "dqn", leaf, name="dqn-btc", commit_hash=COMMIT)
    lin = mdb.lineage(saved.version)
    assert isinstance(lin, ModelLineage)
    assert lin.version == saved.version
    assert lin.model == saved.model
    assert lin.run == mdb.get_run(run)
    assert lin.experiment == exp
    assert [c.id for c in lin.configurations] == [root.id, mid.id, leaf.id]
    assert lin.configurations[0] == root
    assert [(s.id, s.features_hash) for s in lin.snapshots] == [(snap.id, SHA)]
    assert lin.snapshots[0] == snap
    assert lin.commit_hash == COMMIT
    assert lin.artifacts == [saved.artifact]
    assert lin.artifacts[0].content_hash == hashlib.sha256(WEIGHTS).hexdigest()


def test_lineage_of_a_version_from_another_run(mdb: ResultsDB, exp: Experiment, run: Run) -> None:
    cfg = mdb.save_config(run, "dqn", "model", {"lr": 0.01})
    mdb.save_model(run, WEIGHTS, "dqn", cfg, name="dqn-btc")
    retrain = mdb.start_run(exp, "retrain")
    snap = mdb.register_snapshot(retrain, "binance", T0, T0, SHA)
    v2 = mdb.save_model(retrain, WEIGHTS + b"2", "dqn", name="dqn-btc").version
    lin = mdb.lineage(v2.id)
    assert lin.run.id == retrain.id
    assert [s.id for s in lin.snapshots] == [snap.id]
    # No configuration of its own: the model's is the best we know.
    assert [c.id for c in lin.configurations] == [cfg.id]
    assert lin.commit_hash is None


def test_lineage_without_configuration_or_artifacts(rdb: ResultsDB, run: Run) -> None:
    _, (v1, _) = make_model(rdb, run)
    lin = rdb.lineage(v1)
    assert (lin.configurations, lin.snapshots, lin.artifacts) == ([], [], [])


def test_lineage_not_found(rdb: ResultsDB) -> None:
    with pytest.raises(NotFound):
        rdb.lineage(MISSING_ID)
    with pytest.raises(InvalidInput):
        rdb.lineage("v1")



def test_save_model_same_new_name_from_threads(mdb: ResultsDB, run: Run, conn: psycopg.Connection) -> None:
    # The first save of a name creates the model; saves racing it add versions to it.
    barrier = threading.Barrier(4)

    def save(i: int) -> int:
        barrier.wait()
        return mdb.save_model(run, WEIGHTS + bytes([i]), "dqn", name="raced").version.version

    with ThreadPoolExecutor(4) as pool:
        assert sorted(pool.map(save, range(4))) == [1, 2, 3, 4]
    assert raw_one(conn, "select count(*) from models") == 1
    assert raw_one(conn, "select version_count from models where name = 'raced'") == 4
