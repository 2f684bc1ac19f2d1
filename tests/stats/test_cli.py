"""resultsdb stats-run and resultsdb overfitting, through typer's runner."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from resultsdb.cli import app
from resultsdb.db import Database
from resultsdb.repositories import runs
from tests.stats.conftest import MakeRun, make_search, noise_and_edge, write_curve, write_pnls

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", ["stats-run", "overfitting"])
def test_help_shows_a_runnable_example(command: str) -> None:
    code, out, _ = invoke(command, "--help")
    assert code == 0 and "resultsdb " + command in out.split("Example:", 1)[1]


def test_stats_run_prints_and_stores(db: Database, db_url: str, make_run: MakeRun) -> None:
    run = make_run()
    write_curve(db, run.id, [100, 110, 99, 99, 118.8])
    write_pnls(db, run.id, [50, -20])
    code, out, err = invoke("--url", db_url, "--json", "stats-run", str(run.id),
                            "--periods-per-year", "365", "--risk-free", "0.02")
    assert code == 0, err
    stats = json.loads(out)
    assert stats["run_id"] == str(run.id) and stats["periods_per_year"] == 365
    assert stats["total_return"] == pytest.approx(0.188) and stats["win_rate"] == 0.5
    assert "sharpe" not in db.read(lambda c: runs.get(c, run.id)).summary_metrics

    code, out, err = invoke("--url", db_url, "stats-run", str(run.id), "--store")
    assert code == 0, err
    assert "sharpe" in out and "(stored)" in out
    stored = db.read(lambda c: runs.get(c, run.id)).summary_metrics
    assert stored["stats_version"] == 1 and stored["stats_periods_per_year"] == 252


def test_stats_run_errors_exit_with_their_codes(db_url: str, make_run: MakeRun) -> None:
    code, _, err = invoke("--url", db_url, "stats-run", "01900000-0000-7000-8000-000000000000")
    assert code == 3 and "NotFound" in err
    run = make_run()
    code, _, err = invoke("--url", db_url, "stats-run", str(run.id), "--periods-per-year", "0")
    assert code == 4 and "periods_per_year" in err


def test_overfitting_reports_dsr_and_pbo(db: Database, db_url: str, make_run: MakeRun) -> None:
    _, edge = noise_and_edge(1, t=400, n=6)
    search, children = make_search(db, make_run, edge)
    code, out, err = invoke("--url", db_url, "--json", "overfitting", str(search.id),
                            "--blocks", "8")
    assert code == 0, err
    report = json.loads(out)
    assert report["best_run_id"] == str(children[3].id) and report["trials"] == 6
    assert report["splits"] == 70 and report["pbo"] <= 0.05 and report["dsr"] > 0.95
    assert report["best_sharpe_annualized"] == pytest.approx(
        np.mean(edge[:, 3]) / np.std(edge[:, 3], ddof=1) * np.sqrt(252), rel=1e-6)
    code, _, err = invoke("--url", db_url, "overfitting", str(search.id), "--blocks", "7")
    assert code == 4 and "n_blocks" in err
