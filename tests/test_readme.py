"""The README holds: its Python examples run as written against a fresh database, its
command table lists every CLI command, its tour runs, and its tables match the code."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any, get_args

import psycopg
import pytest
import typer

from resultsdb.records import TradeAction
from resultsdb.series import validate

README = Path(__file__).resolve().parent.parent / "README.md"


def python_example() -> str:
    """The first ```python block of the README's "Python API" section."""
    text = README.read_text()
    section = text.split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert blocks, "the Python API section has no python block"
    return blocks[0]


def test_example_is_about_twenty_lines() -> None:
    lines = [line for line in python_example().splitlines() if line.strip()]
    assert 15 <= len(lines) <= 25


def test_readme_python_example_runs(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str], conn: psycopg.Connection) -> None:
    monkeypatch.setenv("RESULTSDB_URL", db_url)
    monkeypatch.setenv("RESULTSDB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RESULTSDB_ARTIFACTS_URL", (tmp_path / "artifacts").as_uri())
    monkeypatch.chdir(tmp_path)  # no .env or ./.resultsdb of the checkout is used
    code = compile(python_example(), str(README), "exec")

    exec(code, {"__name__": "readme"})  # noqa: S102 - the README's own example
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "1 backtest 1.9"
    assert out[1] == "[Change(key='fast', old=10, new=20)]"
    assert out[2] == "[1, 2]"
    assert conn.execute("select status from runs order by created_at").fetchall() == [
        ("completed",), ("completed",)]
    assert conn.execute("select count(*) from hyperparameter_results where status = 'completed'"
                        ).fetchone()[0] == 3
    assert any((tmp_path / "artifacts").rglob("*")), "the model's bytes went to the artifact store"

    # As written it can run again (exist_ok; the model gains a version, promoted in turn).
    exec(code, {"__name__": "readme"})  # noqa: S102
    versions = conn.execute("select version, status from model_versions order by version").fetchall()
    assert versions == [(1, "archived"), (2, "production")]
    assert conn.execute("select count(*) from experiments").fetchone()[0] == 1


# -- the rest of the README: commands, series columns, numbering, clean, settings ----------

ROOT = README.parent


def section(title: str) -> str:
    """The text of the README's "## title" section."""
    return README.read_text().split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def cli_commands() -> set[str]:
    """Every command the CLI registers, groups' subcommands as "ls runs"."""
    from resultsdb.cli import app

    found: set[str] = set()

    def walk(typer_app: typer.Typer, prefix: str) -> None:
        for command in typer_app.registered_commands:
            name = command.name or (command.callback.__name__ if command.callback else "")
            found.add(prefix + name)
        for group in typer_app.registered_groups:
            assert group.typer_instance is not None and group.name
            walk(group.typer_instance, prefix + group.name + " ")

    walk(app, "")
    return found


def command_rows() -> dict[str, str]:
    """README's command table: command -> its example."""
    rows = {}
    for line in section("Commands").splitlines():
        if line.startswith("| `resultsdb "):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            rows[cells[0].strip("`").removeprefix("resultsdb ")] = cells[2].strip("`")
    return rows


def test_every_command_is_in_the_readme_with_an_example() -> None:
    rows = command_rows()
    assert set(rows) == cli_commands()
    for command, example in rows.items():
        without_options = re.sub(r"resultsdb (--\w+ )+", "resultsdb ", example)  # --json status
        assert f"resultsdb {command}" in without_options, command


def test_the_readme_tour_runs(db_url: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from resultsdb.cli import app

    block = section("Commands").split("A tour of a seeded database", 1)[1]
    lines = re.findall(r"```sh\n(.*?)```", block, re.DOTALL)[0].strip().splitlines()
    assert lines[0] == "resultsdb seed" and len(lines) >= 8
    env = {"RESULTSDB_ARTIFACTS_URL": (tmp_path / "artifacts").as_uri(),
           "RESULTSDB_DATA_DIR": str(tmp_path / "data")}
    for line in lines:
        args = shlex.split(line)
        assert args[0] == "resultsdb", line
        result = CliRunner().invoke(app, ["--url", db_url, *args[1:]], env=env)
        assert result.exit_code == 0, (line, result.output)


def column_table(after: str) -> list[list[str]]:
    """The rows (cells without backquotes) of the first table after the line ``after``."""
    text = section("Equity curves and trade logs").split(after, 1)[1]
    table = text.split("\n\n", 2)[1]
    return [[c.strip().strip("`") for c in line.strip("|").split(" | ")]
            for line in table.splitlines()[2:]]


@pytest.mark.parametrize(("writer", "layout"), [("`write_equity` (table", validate.EQUITY),
                                                ("`write_trades` (table", validate.TRADES)])
def test_the_series_columns_are_the_writers(writer: str, layout: Any) -> None:
    rows = column_table(writer)
    assert [r[0] for r in rows] == list(layout.columns)
    assert {r[0] for r in rows if r[2] == "yes"} == set(layout.required)
    assert {r[2] for r in rows} == {"yes", "no"}
    assert all(r[1] == "timezone-aware timestamp" for r in rows if r[0] == "ts")


def test_the_readme_lists_the_trade_actions() -> None:
    [action] = [r for r in column_table("`write_trades` (table") if r[0] == "action"]
    listed = re.findall(r"\b(\w+)\b", action[3].split("one of", 1)[1])
    assert listed == list(get_args(TradeAction))


def test_the_readme_series_example_runs(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RESULTSDB_URL", db_url)
    monkeypatch.setenv("RESULTSDB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    text = section("Equity curves and trade logs")
    [block] = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    exec(compile(block, str(README), "exec"), {"__name__": "readme"})  # noqa: S102
    expected = block.rsplit("# ", 1)[1].strip()
    assert capsys.readouterr().out.strip() == expected


def test_migrations_new_numbers_as_the_readme_says(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from resultsdb.cli import app

    text = section("Commands")
    assert "highest number there plus one" in text
    new, highest = re.findall(r"\((\d{4}) after (\d{4}), whatever gaps lie below\)", text)[0]
    (tmp_path / "0001_initial.sql").write_text("select 1;\n")
    (tmp_path / f"{highest}_later.sql").write_text("select 1;\n")
    result = CliRunner().invoke(app, ["migrations", "new", "add_notes", "--directory", str(tmp_path)])
    assert result.exit_code == 0, result.output
    step = tmp_path / f"{new}_add_notes.sql"
    assert step.exists() and (tmp_path / f"{new}_add_notes.rollback.sql").exists()
    assert f"-- depends: {highest}_later" in step.read_text()


def test_make_clean_deletes_the_embedded_data_and_the_readme_says_so() -> None:
    from resultsdb.config import Settings

    recipe = (ROOT / "Makefile").read_text().split("\nclean:", 1)[1].split("\n\n", 1)[0]
    data_dir = str(Settings.model_fields["data_dir"].default)
    # The recipe has `resultsdb clean` (tests/test_cli_confirm.py) stop and delete it.
    assert re.search(rf"RESULTSDB_DATA_DIR={re.escape(data_dir)} \$\(BIN\)/resultsdb clean", recipe)
    [row] = [line for line in section("Commands").splitlines() if line.startswith("| `clean` |")]
    assert "delete" in row and f"`{data_dir}`" in row and "embedded database" in row
    assert f"`make clean` deletes `{data_dir}/`" in section("Quickstart")


def test_dot_env_stays_out_of_git() -> None:
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()
    assert "`.gitignore`" in section("Configuration")


def test_every_setting_is_in_the_configuration_table() -> None:
    from resultsdb.config import Settings

    table = section("Configuration")
    for name in Settings.model_fields:
        variable = f"RESULTSDB_{name.upper()}"
        # POOL_MIN_SIZE / _MAX_SIZE share a row
        assert variable in table or f"`_{variable.rsplit('_', 2)[1]}_SIZE`" in table, variable


def test_the_readme_search_example_runs(db_url: str, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """The search example, on the seed data: the seed's training run is the one found."""
    from resultsdb.db import Database
    from resultsdb.seed import seed

    with Database(url=db_url) as db:
        seed(db)
    text = README.read_text(encoding="utf-8").split("## Searching runs", 1)[1]
    [block] = re.findall(r"```python\n(.*?)```", text.split("\n## ", 1)[0], re.DOTALL)
    monkeypatch.setenv("RESULTSDB_URL", db_url)
    exec(compile(block, str(README), "exec"), {})  # noqa: S102 - the README's own example
    assert capsys.readouterr().out.splitlines()[0].startswith("train dqn v3 1.42 {")
