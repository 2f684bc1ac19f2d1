"""The browsing commands: ls, show, leaderboard, compare, lineage, export, report.

Each runs once on a small search (three backtests with curves and trades, their
trials, a promoted model) and once where it must fail: exit code, one-line error.
"""

from __future__ import annotations

import csv
import io
import json
import struct
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from resultsdb import series
from resultsdb.api import ResultsDB
from resultsdb.cli import app
from resultsdb.demo import backtest, synthetic_prices
from resultsdb.stats import trading

runner = CliRunner()
EXPERIMENT = "surface: ma"
PARAMS = [(5, 30), (10, 60), (20, 90)]


@dataclass
class Seeded:
    url: str
    experiment_id: str
    search_id: str
    runs: list[str]  # backtests, in PARAMS order
    model: str
    version_id: str
    empty_run: str  # a run with no series


@pytest.fixture
def seeded(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Seeded:
    monkeypatch.setenv("RESULTSDB_ARTIFACTS_URL", (tmp_path / "artifacts").as_uri())
    prices = synthetic_prices(bars=300)
    with ResultsDB(url=db_url) as db:
        exp = db.start_experiment(EXPERIMENT, tags={"strategy": "ma"})
        search = db.start_run(exp, "search", run_type="hyperparameter_tuning", tags={"k": "v"})
        runs = []
        for fast, slow in PARAMS:
            with db.run(exp, f"ma {fast}/{slow}", run_type="backtest", parent=search) as child:
                trial = db.start_trial(search, {"fast": fast, "slow": slow})
                db.save_config(child, "ma", "strategy", {"fast": fast, "slow": slow})
                curve, trades = backtest(prices, fast, slow)
                series.write_equity(db.db, child, None, curve)
                series.write_trades(db.db, child, None, trades)
                stats = trading.compute_stats(db.db, child.id)
            db.finish_trial(trial, stats.sharpe or 0.0)
            runs.append(str(child.id))
        db.end_run(search)
        saved = db.save_model(runs[0], b"weights", "ma_crossover", name="surface-model",
                              metrics={"sharpe": 1.0})
        db.promote(saved.version, "production", reason="test")
        with db.run(exp, "no series", run_type="backtest") as empty:
            pass
    return Seeded(db_url, str(exp.id), str(search.id), runs, "surface-model",
                  str(saved.version.id), str(empty.id))


def invoke(s: Seeded, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--url", s.url, *args], env={"COLUMNS": "250"})
    return result.exit_code, result.stdout, result.stderr


def assert_one_line_error(code: int, err: str, expected_code: int, needle: str) -> None:
    assert code == expected_code, err
    line = err.strip()
    assert "\n" not in line and line.startswith("error"), err
    assert needle in line


def test_every_new_command_has_help_with_an_example() -> None:
    for command in (["ls", "experiments"], ["ls", "runs"], ["ls", "models"], ["ls", "trials"],
                    ["show"], ["leaderboard"], ["compare"], ["lineage"], ["export"], ["report"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0, command
        assert "resultsdb" in result.stdout.split("Example:", 1)[1], command


# -- ls -------------------------------------------------------------------------------


def test_ls_experiments_table_json_and_bad_status(seeded: Seeded) -> None:
    code, out, _ = invoke(seeded, "ls", "experiments")
    assert code == 0 and EXPERIMENT in out
    code, out, _ = invoke(seeded, "--json", "ls", "experiments", "--tag", "strategy=ma")
    assert [e["name"] for e in json.loads(out)["items"]] == [EXPERIMENT]
    code, _, err = invoke(seeded, "ls", "experiments", "--status", "sleeping")
    assert_one_line_error(code, err, 4, "status")


def test_ls_runs_filters_pages_and_csv(seeded: Seeded) -> None:
    code, out, _ = invoke(seeded, "--json", "ls", "runs", "--experiment", EXPERIMENT,
                          "--run-type", "backtest", "--status", "completed")
    assert code == 0
    assert {r["id"] for r in json.loads(out)["items"]} == {*seeded.runs, seeded.empty_run}
    code, out, _ = invoke(seeded, "--json", "ls", "runs", "--tag", "k=v")
    assert [r["id"] for r in json.loads(out)["items"]] == [seeded.search_id]

    code, out, err = invoke(seeded, "--json", "ls", "runs", "--parent", seeded.search_id, "--limit", "2")
    first = json.loads(out)
    assert len(first["items"]) == 2 and first["next_cursor"]
    code, out, _ = invoke(seeded, "--json", "ls", "runs", "--parent", seeded.search_id, "--limit", "2",
                          "--cursor", first["next_cursor"])
    ids = [r["id"] for r in first["items"] + json.loads(out)["items"]]
    assert sorted(ids) == sorted(seeded.runs)

    code, out, err = invoke(seeded, "ls", "runs", "--limit", "1")
    assert code == 0 and "more: --cursor" in err
    code, out, _ = invoke(seeded, "--csv", "ls", "runs", "--parent", seeded.search_id)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert sorted(r["id"] for r in rows) == sorted(seeded.runs)
    assert json.loads(rows[0]["summary_metrics"])["sharpe"] is not None


def test_ls_runs_unknown_experiment_and_bad_cursor(seeded: Seeded) -> None:
    code, _, err = invoke(seeded, "ls", "runs", "--experiment", "nope")
    assert_one_line_error(code, err, 3, "nope")
    code, _, err = invoke(seeded, "ls", "runs", "--cursor", "garbage")
    assert_one_line_error(code, err, 4, "cursor")
    code, _, err = invoke(seeded, "ls", "runs", "--tag", "novalue")
    assert_one_line_error(code, err, 4, "KEY=VALUE")


def test_ls_models_and_bad_cursor(seeded: Seeded) -> None:
    code, out, _ = invoke(seeded, "--json", "ls", "models", "--experiment", EXPERIMENT)
    [model] = json.loads(out)["items"]
    assert model["name"] == seeded.model and model["production_version"] == 1
    code, out, _ = invoke(seeded, "ls", "models")
    assert code == 0 and seeded.model in out
    code, _, err = invoke(seeded, "ls", "models", "--cursor", "garbage")
    assert_one_line_error(code, err, 4, "cursor")


def test_ls_trials_needs_a_run(seeded: Seeded) -> None:
    code, out, _ = invoke(seeded, "--json", "ls", "trials", "--run", seeded.search_id)
    trials = json.loads(out)
    assert [t["trial_number"] for t in trials] == [1, 2, 3]
    assert trials[1]["parameters"] == {"fast": 10, "slow": 60}
    code, out, _ = invoke(seeded, "ls", "trials", "--run", seeded.search_id, "--limit", "1")
    assert code == 0 and "fast" in out
    code, _, err = invoke(seeded, "ls", "trials")
    assert_one_line_error(code, err, 4, "--run")


# -- show, leaderboard, compare, lineage ------------------------------------------------


def test_show_each_kind_and_unknown(seeded: Seeded) -> None:
    for ident, kind in ((EXPERIMENT, "experiment"), (seeded.runs[0], "run"),
                        (seeded.model, "model"), (seeded.version_id, "version"),
                        (seeded.experiment_id, "experiment")):
        code, out, err = invoke(seeded, "--json", "show", ident)
        assert code == 0, err
        assert json.loads(out)["kind"] == kind
    code, out, _ = invoke(seeded, "show", seeded.model)
    assert code == 0 and "versions" in out and "production" in out
    code, _, err = invoke(seeded, "show", str(uuid.uuid4()))
    assert_one_line_error(code, err, 3, "no experiment, run, model")
    code, _, err = invoke(seeded, "show", "nothing-called-this")
    assert_one_line_error(code, err, 3, "nothing-called-this")


def test_leaderboard_orders_and_unknown_experiment(seeded: Seeded) -> None:
    code, out, _ = invoke(seeded, "--json", "leaderboard", EXPERIMENT, "--metric", "sharpe")
    values = [r["value"] for r in json.loads(out)]
    assert len(values) == 3 and values == sorted(values, reverse=True)
    code, out, _ = invoke(seeded, "--json", "leaderboard", EXPERIMENT, "--min", "--limit", "2")
    low = [r["value"] for r in json.loads(out)]
    assert low == sorted(values)[:2]
    code, out, _ = invoke(seeded, "leaderboard", EXPERIMENT)
    assert code == 0 and "ma 5/30" in out
    code, _, err = invoke(seeded, "leaderboard", "no such experiment")
    assert_one_line_error(code, err, 3, "no such experiment")


def test_compare_runs_and_a_missing_one(seeded: Seeded) -> None:
    code, out, _ = invoke(seeded, "compare", *seeded.runs[:2])
    assert code == 0 and "ma 5/30" in out and "ma.fast" in out and "metric_sharpe" in out
    code, out, _ = invoke(seeded, "--json", "compare", *seeded.runs[:2])
    assert [r["run_id"] for r in json.loads(out)] == seeded.runs[:2]
    missing = str(uuid.uuid4())
    code, _, err = invoke(seeded, "compare", seeded.runs[0], missing)
    assert_one_line_error(code, err, 3, missing)


def test_lineage_and_bad_ids(seeded: Seeded) -> None:
    code, out, _ = invoke(seeded, "--json", "lineage", seeded.version_id)
    data = json.loads(out)
    assert data["model"]["name"] == seeded.model and data["run"]["id"] == seeded.runs[0]
    code, out, _ = invoke(seeded, "lineage", seeded.version_id)
    assert code == 0 and EXPERIMENT in out and "artifacts" in out
    code, _, err = invoke(seeded, "lineage", "not-a-uuid")
    assert_one_line_error(code, err, 3, "no model version matches 'not-a-uuid'")
    code, _, err = invoke(seeded, "lineage", str(uuid.uuid4()))
    assert_one_line_error(code, err, 3, "")


# -- export -----------------------------------------------------------------------------


READERS = {"csv": pd.read_csv, "json": pd.read_json, "parquet": pd.read_parquet}


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_export_round_trips(seeded: Seeded, tmp_path: Path, fmt: str) -> None:
    with ResultsDB(url=seeded.url) as db:
        curve = series.read_equity(db.db, seeded.runs[0])
        trades = series.read_trades(db.db, seeded.runs[0])
    cases = {"runs": ["--experiment", EXPERIMENT], "trials": ["--run", seeded.search_id],
             "equity": ["--run", seeded.runs[0]], "trades": ["--run", seeded.runs[0]]}
    back = {}
    for what, extra in cases.items():
        path = tmp_path / f"{what}.{fmt}"
        code, out, err = invoke(seeded, "--json", "export", what, "--format", fmt,
                                "--out", str(path), *extra)
        assert code == 0, err
        assert json.loads(out)["rows"] > 0
        back[what] = READERS[fmt](path)
    assert sorted(back["runs"]["id"].astype(str)) == sorted(
        [seeded.search_id, *seeded.runs, seeded.empty_run])
    assert "metric_sharpe" in back["runs"].columns
    assert list(back["trials"]["number"]) == [1, 2, 3]
    assert list(back["trials"]["params_fast"]) == [5, 10, 20]
    assert len(back["equity"]) == len(curve)
    pd.testing.assert_series_equal(back["equity"]["portfolio_value"], curve["portfolio_value"],
                                   check_exact=False)
    assert pd.to_datetime(back["equity"]["ts"], utc=True).iloc[-1] == curve["ts"].iloc[-1]
    assert len(back["trades"]) == len(trades)
    assert list(back["trades"]["action"]) == list(trades["action"])


def test_export_failures(seeded: Seeded, tmp_path: Path) -> None:
    code, _, err = invoke(seeded, "export", "equity", "--out", str(tmp_path / "e.csv"))
    assert_one_line_error(code, err, 4, "--run")
    code, _, err = invoke(seeded, "export", "runs", "--format", "xlsx", "--out", str(tmp_path / "r"))
    assert_one_line_error(code, err, 4, "format")
    code, _, err = invoke(seeded, "export", "things", "--out", str(tmp_path / "r.csv"))
    assert_one_line_error(code, err, 4, "what")
    code, _, err = invoke(seeded, "export", "trades", "--run", str(uuid.uuid4()),
                          "--out", str(tmp_path / "t.csv"))
    assert_one_line_error(code, err, 3, "runs")
    code, _, err = invoke(seeded, "export", "runs", "--out", str(tmp_path / "no" / "r.csv"))
    assert_one_line_error(code, err, 4, "does not exist")


# -- report -----------------------------------------------------------------------------


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def test_report_pages_images_and_comparison(seeded: Seeded, tmp_path: Path) -> None:
    out_dir = tmp_path / "reports"
    code, out, err = invoke(seeded, "--json", "report", *seeded.runs[:2], "--out", str(out_dir))
    assert code == 0, err
    pages = [Path(p["page"]) for p in json.loads(out)]
    assert [p.name for p in pages] == [f"run-{r}.html" for r in seeded.runs[:2]] + ["compare.html"]
    for run_id in seeded.runs[:2]:
        image = out_dir / f"run-{run_id}.png"
        width, height = png_size(image)
        assert 800 <= width <= 2000 and 500 <= height <= 1400
        assert image.stat().st_size > 20_000  # a plot, not an empty canvas
    png_size(out_dir / "compare.png")
    page = (out_dir / f"run-{seeded.runs[0]}.html").read_text()
    assert "data:image/png;base64," in page and "Sharpe" in page and "Max drawdown" in page
    assert "src=\"http" not in page  # self-contained
    compare = (out_dir / "compare.html").read_text()
    assert "ma 5/30" in compare and "ma 10/60" in compare and f"run-{seeded.runs[1]}.html" in compare


def test_report_failures(seeded: Seeded, tmp_path: Path) -> None:
    code, _, err = invoke(seeded, "report", seeded.empty_run, "--out", str(tmp_path))
    assert_one_line_error(code, err, 4, "no equity curve")
    code, _, err = invoke(seeded, "report", str(uuid.uuid4()), "--out", str(tmp_path))
    assert_one_line_error(code, err, 3, "runs")
