from __future__ import annotations

import hashlib
import json
from pathlib import Path

from typer.testing import CliRunner

from resultsdb.artifacts import ArtifactStore, verify
from resultsdb.cli import app
from resultsdb.connection import Connection
from resultsdb.db import Database
from resultsdb.records import Run
from resultsdb.repositories import configurations, experiments, models, runs, trials
from resultsdb.seed import (
    EQUITY_POINTS,
    SEED_EXPERIMENT,
    TABLES,
    TRADES,
    WEIGHTS,
    row_counts,
    seed,
)
from resultsdb.series import read_equity, read_trades


def test_seed_inserts_a_small_dataset(db: Database) -> None:
    summary = seed(db)
    assert summary.inserted
    stored = db.read(row_counts)
    assert summary.counts == stored
    assert stored == {
        "experiments": 1, "runs": 3, "configurations": 4, "models": 1, "model_versions": 2,
        "model_version_transitions": 4, "model_artifacts": 1, "data_snapshots": 1,
        "hyperparameter_results": 10, "equity_curves": EQUITY_POINTS, "trade_logs": TRADES,
    }
    assert "seeded seed-momentum" in str(summary)
    assert summary.as_dict() == {"inserted": True, "experiment_id": str(summary.experiment_id),
                                 **stored}


def test_seed_twice_inserts_nothing_the_second_time(db: Database) -> None:
    first = seed(db)
    before = db.read(row_counts)
    second = seed(db)
    assert db.read(row_counts) == before
    assert not second.inserted
    assert second.experiment_id == first.experiment_id
    assert second.counts == dict.fromkeys(TABLES, 0)
    assert "nothing inserted" in str(second)


def test_an_archived_seed_still_counts_as_seeded(db: Database) -> None:
    first = seed(db)
    db.write(lambda c: experiments.update(c, first.experiment_id, status="archived"))
    before = db.read(row_counts)
    assert not seed(db).inserted
    assert db.read(row_counts) == before


def test_seed_content_is_consistent(db: Database) -> None:
    exp_id = seed(db).experiment_id

    def check(conn: Connection) -> Run:
        exp = experiments.get(conn, exp_id)
        assert exp.name == SEED_EXPERIMENT
        assert exp.tags["strategy"] == "momentum"
        seeded = runs.by_experiment(conn, exp_id)
        assert sorted(r.run_type for r in seeded) == [
            "backtest", "hyperparameter_tuning", "training"]
        assert all("sharpe" in r.summary_metrics or "best_sharpe" in r.summary_metrics
                   for r in seeded)
        chain = configurations.versions(conn, "seed-momentum-dqn")
        assert [c.version for c in chain] == [1, 2, 3]
        assert [c.id for c in configurations.lineage(conn, chain[-1].id)] == [
            c.id for c in chain]
        model = models.get_by_name(conn, "seed-momentum-dqn")
        versions = models.versions_of(conn, model.id)
        assert [(v.version, v.status) for v in versions] == [(1, "archived"), (2, "production")]
        (artifact,) = models.artifacts_of(conn, versions[1].id)
        digest = hashlib.sha256(WEIGHTS).hexdigest()
        assert artifact.content_hash == digest
        assert artifact.size_bytes == len(WEIGHTS)
        assert artifact.storage_path.endswith(f"/sha256/{digest[:2]}/{digest[2:4]}/{digest}")
        assert artifact.file_format == "pt"
        tuning = next(r for r in seeded if r.run_type == "hyperparameter_tuning")
        numbered = trials.by_run(conn, tuning.id)
        assert [t.trial_number for t in numbered] == list(range(1, 11))
        assert tuning.trial_count == 10
        return next(r for r in seeded if r.run_type == "backtest")

    backtest = db.read(check)
    curve = read_equity(db, backtest.id)
    assert len(curve) == EQUITY_POINTS
    assert curve["drawdown"].notna().all()
    assert backtest.summary_metrics["max_drawdown"] == round(curve["drawdown"].max(), 4)
    assert backtest.summary_metrics["total_return"] == round(
        curve["portfolio_value"].iloc[-1] / 100_000.0 - 1, 4)
    log = read_trades(db, backtest.id)
    assert log["seq"].tolist() == list(range(TRADES))
    assert set(log["action"]) == {"buy", "sell"}


def test_a_seeded_database_verifies(db: Database, tmp_path: Path) -> None:
    store = ArtifactStore((tmp_path / "artifacts").as_uri())
    seed(db, store)
    report = verify(db, store)
    assert report.ok and report.checked == 1
    assert store.get(hashlib.sha256(WEIGHTS).hexdigest()) == WEIGHTS


def test_seed_stores_the_weights_of_a_database_seeded_without_them(db: Database,
                                                                   tmp_path: Path) -> None:
    seed(db, ArtifactStore((tmp_path / "elsewhere").as_uri()))
    store = ArtifactStore((tmp_path / "artifacts").as_uri())
    assert not verify(db, store).ok  # the row is there, its bytes are not in this store
    assert not seed(db, store).inserted
    assert verify(db, store).ok


def test_cli_seed_then_verify(db_url: str, tmp_path: Path) -> None:
    env = {"RESULTSDB_ARTIFACTS_URL": (tmp_path / "artifacts").as_uri()}
    runner = CliRunner()
    seeded = runner.invoke(app, ["--url", db_url, "seed"], env=env)
    assert seeded.exit_code == 0, seeded.output
    checked = runner.invoke(app, ["--url", db_url, "--json", "verify"], env=env)
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.stdout)["ok"] is True
