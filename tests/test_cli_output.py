"""How the CLI reads and prints: global options on either side of the command, flags
without values, --debug, whole ids on narrow terminals, rounded floats in tables and exact
ones for programs, and messages that say what exists instead of printing nothing."""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from resultsdb import seed
from resultsdb.api import ResultsDB
from resultsdb.cli import app
from resultsdb.db import Database

runner = CliRunner()
EXPERIMENT = "output: ma"
SHARPE = [1.2345678901234567, 0.98765432109876, -0.000123456789012345]
EQUITY = 1234567.891234


@dataclass
class Ranked:
    url: str
    runs: list[str]  # completed runs, in SHARPE order
    trial_run: str  # a child run of a search: its trials are the search's


@pytest.fixture
def ranked(db_url: str) -> Ranked:
    with ResultsDB(url=db_url) as rdb:
        exp = rdb.start_experiment(EXPERIMENT)
        runs = []
        for i, sharpe in enumerate(SHARPE):
            with rdb.run(exp, f"run {i}", run_type="backtest") as r:
                rdb.log_summary_metrics(r, {"sharpe": sharpe, "final_equity": EQUITY + i})
            runs.append(str(r.id))
        search = rdb.start_run(exp, "search", run_type="hyperparameter_tuning")
        with rdb.run(exp, "trial 1", run_type="backtest", parent=search) as child:
            rdb.start_trial(search, {"fast": 5}, trial_run=child)
    return Ranked(db_url, runs, str(child.id))


def invoke(*args: str, columns: int = 200, env: dict[str, str] | None = None
           ) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": str(columns), **(env or {})})
    return result.exit_code, result.stdout, result.stderr


# -- global options ------------------------------------------------------------------------


def test_global_options_work_before_and_after_the_command(ranked: Ranked) -> None:
    url = ranked.url
    for command in (["status"], ["ls", "runs", "--experiment", EXPERIMENT],
                    ["show", EXPERIMENT], ["leaderboard", EXPERIMENT]):
        code, before, err = invoke("--url", url, "--json", *command)
        assert code == 0, (command, err)
        code, after, err = invoke(*command, "--json", "--url", url)
        assert code == 0, (command, err)
        assert json.loads(after) == json.loads(before), command
        code, mixed, _ = invoke("--url", url, *command, "--json")
        assert json.loads(mixed) == json.loads(before), command
        code, table, _ = invoke("--url", url, *command)
        with pytest.raises(json.JSONDecodeError):
            json.loads(table)
        code, listed, _ = invoke(*command, "--url", url, "--csv")
        assert code == 0 and listed.splitlines()[0].count(",") >= 1, command
    code, out, _ = invoke("ls", "--json", "runs", "--url", url, "--experiment", EXPERIMENT)
    assert code == 0 and len(json.loads(out)["items"]) == len(SHARPE) + 2


def test_debug_prints_the_traceback_and_keeps_the_exit_code(ranked: Ranked) -> None:
    for args, expected in ((["show", "nobody-has-this-name"], 3), (["lineage", "x"], 3),
                           (["leaderboard", EXPERIMENT, "--metric", "nope"], 4)):
        code, _, err = invoke("--url", ranked.url, *args)
        assert code == expected and "Traceback" not in err, err
        for debug in (["--debug", *args], [*args, "--debug"]):
            code, _, err = invoke("--url", ranked.url, *debug)
            assert code == expected, (debug, err)
            assert "Traceback" in err and err.strip().splitlines()[-1].startswith("error"), err


def test_flags_take_no_value_and_help_shows_no_bool() -> None:
    def commands(group: object, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
        found = [path]
        for name, command in getattr(group, "commands", {}).items():
            found += commands(command, (*path, name))
        return found

    every = commands(get_command(app))
    assert len(every) > 30
    for path in every:
        code, out, _ = invoke(*path, "--help")
        assert code == 0, path
        assert "<bool>" not in out, path
        assert "--json" in out and "--url" in out, path  # global options, shown everywhere
    code, out, _ = invoke("archive", "--help")
    assert "--dry-run / --no-dry-run" in out and "--yes" in out
    code, _, err = invoke("archive", "--before", "2024-01-01", "--dry-run", "true")
    assert code == 2 and "unexpected extra argument" in err


# -- tables ----------------------------------------------------------------------------------

ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.mark.parametrize("columns", [80, 40])
def test_tables_print_ids_whole_on_a_narrow_terminal(ranked: Ranked, columns: int) -> None:
    code, out, err = invoke("--url", ranked.url, "ls", "runs", "--experiment", EXPERIMENT,
                            columns=columns)
    assert code == 0, err
    assert set(ranked.runs) <= set(ID.findall(out)), out
    assert "…" not in out
    code, out, _ = invoke("--url", ranked.url, "leaderboard", EXPERIMENT, columns=columns)
    assert ID.findall(out) == ranked.runs, out  # ranked by sharpe, as SHARPE is
    code, out, _ = invoke("--url", ranked.url, "show", ranked.runs[0], columns=columns)
    assert ranked.runs[0] in out and "…" not in out


def test_floats_are_rounded_in_tables_and_exact_in_json_and_csv(ranked: Ranked) -> None:
    code, table, _ = invoke("--url", ranked.url, "leaderboard", EXPERIMENT)
    assert code == 0
    assert "1.23457" in table and "0.987654" in table and "-0.000123457" in table
    assert str(SHARPE[0]) not in table
    code, out, _ = invoke("--url", ranked.url, "leaderboard", EXPERIMENT, "--json")
    assert [r["value"] for r in json.loads(out)] == SHARPE
    code, out, _ = invoke("--url", ranked.url, "leaderboard", EXPERIMENT, "--csv")
    assert [float(r["value"]) for r in csv.DictReader(io.StringIO(out))] == SHARPE

    code, table, _ = invoke("--url", ranked.url, "show", ranked.runs[0])
    assert '"final_equity": 1234568}' in table and '"sharpe": 1.23457' in table, table
    code, out, _ = invoke("--url", ranked.url, "show", ranked.runs[0], "--json")
    assert json.loads(out)["record"]["summary_metrics"] == {"sharpe": SHARPE[0],
                                                            "final_equity": EQUITY}


def test_cells_round_to_six_significant_digits() -> None:
    from resultsdb.cli._app import cell

    assert [cell(v) for v in (1234567.891, 0.5, 1.0, 2.0000004, 1e-9, -1e20, 0.0, 7)] == [
        "1234568", "0.5", "1", "2", "1e-09", "-1e+20", "0.0", "7"]
    assert cell({"a": [0.1234567, "x"], "b": None, "c": 2.0}) == (
        '{"a": [0.123457, "x"], "b": null, "c": 2}')
    assert cell(None) == "" and cell(float("nan")) == "nan"


# -- saying what exists ----------------------------------------------------------------------


def test_leaderboard_of_an_unknown_metric_lists_the_metrics_there_are(ranked: Ranked) -> None:
    code, _, err = invoke("--url", ranked.url, "leaderboard", EXPERIMENT, "--metric", "sharp")
    assert code == 4, err
    assert "'sharp'" in err and "final_equity, sharpe" in err
    assert len(err.strip().splitlines()) == 1
    with ResultsDB(url=ranked.url) as rdb:
        rdb.start_experiment("output: empty")
    code, _, err = invoke("--url", ranked.url, "leaderboard", "output: empty")
    assert code == 4 and "no run of it has summary metrics" in err


def test_export_trials_of_a_run_without_trials_says_so(ranked: Ranked, tmp_path: Path) -> None:
    target = tmp_path / "t.csv"
    code, _, err = invoke("--url", ranked.url, "export", "trials", "--run", ranked.runs[0],
                          "--out", str(target))
    assert code == 3, err
    assert f"run {ranked.runs[0]} (run 0) has no trials" in err and "search run" in err
    code, _, err = invoke("--url", ranked.url, "export", "trials", "--run", ranked.trial_run,
                          "--out", str(target))
    with ResultsDB(url=ranked.url) as rdb:
        parent = rdb.get_run(ranked.trial_run).parent_run_id
    assert code == 3 and f"stored with the search run, here {parent}" in err, err
    code, _, err = invoke("--url", ranked.url, "export", "equity", "--run", ranked.runs[0],
                          "--out", str(target))
    assert code == 3 and "has no equity curve" in err
    assert not target.exists()
    code, out, err = invoke("--url", ranked.url, "--json", "export", "trials", "--run",
                            f"{EXPERIMENT}/search", "--out", str(target))
    assert code == 0 and json.loads(out)["rows"] == 1, err


# -- the help's examples run -------------------------------------------------------------------


def test_the_examples_of_the_reference_commands_run_on_the_seed(
        db: Database, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seed.seed(db)
    monkeypatch.chdir(tmp_path)  # examples write e.json, reports/
    monkeypatch.setenv("RESULTSDB_ARTIFACTS_URL", (tmp_path / "artifacts").as_uri())
    ran = []
    for path in (["show"], ["ls", "runs"], ["ls", "trials"], ["compare"], ["lineage"],
                 ["export"], ["report"], ["stats-run"], ["cleanup-versions"]):
        _, help_text, _ = invoke(*path, "--help")
        example = help_text.split("Example:", 1)[1].strip().splitlines()[0]
        words = shlex.split(example)
        assert words[0] == "resultsdb" and "seed-momentum" in example, example
        code, _, err = invoke("--url", db_url, *words[1:])
        assert code == 0, (example, err)
        ran.append(example)
    assert len(ran) == 9
    assert (tmp_path / "e.json").exists() and list((tmp_path / "reports").glob("*.html"))


def test_unknown_uuid_reports_the_table(ranked: Ranked) -> None:
    missing = str(uuid.uuid4())
    code, _, err = invoke("--url", ranked.url, "compare", ranked.runs[0], missing)
    assert code == 3 and f"runs: no run matches '{missing}'" in err
