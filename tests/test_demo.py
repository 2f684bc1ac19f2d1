"""`resultsdb demo`: a rerun writes nothing and duplicates no leaderboard row, a search
that fails or is interrupted is never left running (and the next run replaces it), and the
production model's lineage shows its configuration chain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from resultsdb import demo
from resultsdb.api import ResultsDB
from resultsdb.artifacts import ArtifactStore, verify
from resultsdb.cli import app
from resultsdb.config import Settings

TRIALS = 6  # the demo's 60 make no difference here, and take a minute
runner = CliRunner()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(url=db_url, data_dir=tmp_path / "data",
                    artifacts_url=(tmp_path / "artifacts").as_uri())


def quiet(*_: Any, **__: Any) -> None:
    """The demo's printer, silenced."""


def rows(settings: Settings) -> dict[str, int]:
    """Runs by status, and trials, of the demo's experiment."""
    with ResultsDB(settings) as rdb:
        runs = rdb.runs(demo.EXPERIMENT, limit=1000).items
        searches = [r for r in runs if r.run_type == "hyperparameter_tuning"]
        counts = {f"runs {status}": sum(r.status == status for r in runs)
                  for status in ("running", "completed", "failed", "killed")}
        return {**counts, "searches": len(searches),
                "trials": sum(len(rdb.trials(s)) for s in searches)}


@pytest.mark.slow
def test_a_rerun_writes_nothing_and_the_leaderboard_lists_each_run_once(settings: Settings) -> None:
    first = demo.main(settings, quiet, trials=TRIALS)
    before = rows(settings)
    assert before == {"runs running": 0, "runs completed": TRIALS + 1, "runs failed": 0,
                      "runs killed": 0, "searches": 1, "trials": TRIALS}
    second = demo.main(settings, quiet, trials=TRIALS)
    assert rows(settings) == before
    assert "nothing written" in second["search"] and "nothing written" not in first["search"]
    assert second["search run"] == first["search run"]
    assert second["production model"] == first["production model"]
    with ResultsDB(settings) as rdb:
        board = rdb.leaderboard(demo.EXPERIMENT, "sharpe", limit=1000)
        assert len(board) == TRIALS == len({r.run_id for r in board}) == len({r.name for r in board})
        assert len(rdb.list_versions(demo.MODEL)) == 1
        assert verify(rdb.db, ArtifactStore(str(settings.artifacts_url))).ok


@pytest.mark.slow
def test_a_second_cli_demo_duplicates_no_leaderboard_row(db_url: str, settings: Settings,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "TRIALS", TRIALS)
    env = {"RESULTSDB_DATA_DIR": str(settings.data_dir),
           "RESULTSDB_ARTIFACTS_URL": str(settings.artifacts_url)}
    for _ in range(2):
        result = runner.invoke(app, ["--url", db_url, "demo"], env=env)
        assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["--url", db_url, "--json", "leaderboard", demo.EXPERIMENT,
                                 "--limit", "1000"], env=env)
    assert result.exit_code == 0, result.output
    board = json.loads(result.stdout)
    assert len(board) == TRIALS == len({r["run_id"] for r in board})


@pytest.mark.parametrize(("raised", "status"), [(RuntimeError, "failed"), (KeyboardInterrupt, "killed")])
def test_a_failed_or_interrupted_search_is_ended_and_replaced_by_the_next_run(
        settings: Settings, monkeypatch: pytest.MonkeyPatch, raised: type[BaseException],
        status: str) -> None:
    calls = 0
    backtest = demo.backtest

    def objective(prices: pd.Series, fast: int, slow: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise raised("the objective gave up")
        return backtest(prices, fast, slow)

    monkeypatch.setattr(demo, "backtest", objective)
    with pytest.raises(raised):
        demo.main(settings, quiet, trials=TRIALS)
    with ResultsDB(settings) as rdb:
        [search] = rdb.runs(demo.EXPERIMENT, run_type="hyperparameter_tuning").items
        assert search.status == status and search.error_type == raised.__name__
        children = rdb.runs(parent=search).items
        assert [c.status for c in children] == ["completed", "completed", status]
        assert [t.status for t in rdb.trials(search)] == ["completed", "completed", "failed"]

    monkeypatch.setattr(demo, "backtest", backtest)
    demo.main(settings, quiet, trials=TRIALS)
    assert rows(settings) == {"runs running": 0, "runs completed": TRIALS + 1, "runs failed": 0,
                              "runs killed": 0, "searches": 1, "trials": TRIALS}
    with ResultsDB(settings) as rdb:
        board = rdb.leaderboard(demo.EXPERIMENT, "sharpe", limit=1000)
        assert len(board) == TRIALS == len({r.name for r in board})


def test_the_production_model_has_a_configuration_chain(db_url: str, settings: Settings) -> None:
    summary = demo.main(settings, quiet, trials=TRIALS)
    with ResultsDB(settings) as rdb:
        version = rdb.get_production(demo.MODEL)
        assert str(version.id) in summary["production model"]
        lineage = rdb.lineage(version)
        base, tuned = lineage.configurations
        assert base.parent_id is None and tuned.parent_id == base.id
        assert base.run_id == lineage.run.parent_run_id  # the search's, then the best trial's
        assert {"fast", "slow"} <= tuned.parameters.keys() and "fast" not in base.parameters
        assert [s.data_source for s in lineage.snapshots] == ["synthetic:gbm-regimes:1d"]

    result = runner.invoke(app, ["--url", db_url, "--json", "lineage", str(version.id)])
    assert result.exit_code == 0, result.output
    assert [c["id"] for c in json.loads(result.stdout)["configurations"]] == [
        str(base.id), str(tuned.id)]
