"""Every CLI command, through typer's runner (or a subprocess where it replaces itself)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from resultsdb.cli import app

runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_help_shows_a_runnable_example_per_command() -> None:
    code, out, _ = invoke("--help")
    assert code == 0
    commands = ["migrate", "rollback", "status", "history", "break-lock", "init", "seed", "demo",
                "partitions", "db-start", "db-stop", "psql", "migrations"]
    for command in commands:
        assert command in out
    for command in commands[:-1]:
        code, out, _ = invoke(command, "--help")
        assert code == 0, command
        example = out.split("Example:", 1)[1] if "Example:" in out else ""
        assert "resultsdb" in example, command


def test_status_json_lists_the_initial_migration(db_url: str) -> None:
    code, out, _ = invoke("--url", db_url, "--json", "status")
    assert code == 0
    rows = json.loads(out)
    assert rows[0]["id"] == "0001_initial"
    assert rows[0]["applied"] is True


def test_rollback_then_migrate_then_history(db_url: str) -> None:
    code, out, _ = invoke("--url", db_url, "--json", "status")
    ids = [row["id"] for row in json.loads(out)]
    code, out, _ = invoke("--url", db_url, "--json", "rollback")
    assert code == 0, out
    last = json.loads(out)
    assert len(last) == 1 and last[0]["rolled_back"] in ids
    code, out, _ = invoke("--url", db_url, "--json", "status")
    pending = [row["id"] for row in json.loads(out) if not row["applied"]]
    assert pending == [last[0]["rolled_back"]]
    code, out, _ = invoke("--url", db_url, "--json", "migrate")
    assert code == 0
    assert json.loads(out) == [{"applied": last[0]["rolled_back"]}]
    code, out, _ = invoke("--url", db_url, "--json", "history")
    operations = [row["operation"] for row in json.loads(out)]
    assert operations[-2:] == ["rollback", "apply"]


def test_rollback_steps_must_be_positive(db_url: str) -> None:
    code, _, _ = invoke("--url", db_url, "rollback", "--steps", "0")
    assert code == 2  # usage error, nothing rolled back
    code, out, _ = invoke("--url", db_url, "--json", "status")
    assert all(row["applied"] for row in json.loads(out))


def test_partitions_lists_months_and_default(db_url: str) -> None:
    code, out, _ = invoke("--url", db_url, "--json", "partitions")
    assert code == 0
    names = {row["name"] for row in json.loads(out)}
    assert {"equity_curves_default", "trade_logs_default"} <= names
    assert sum(n.startswith("equity_curves_p") for n in names) >= 4


def test_break_lock_removes_a_stale_yoyo_lock(db_url: str, conn) -> None:
    conn.execute("insert into yoyo_lock (locked, ctime, pid) values (1, now(), 999999)")
    code, _, _ = invoke("--url", db_url, "break-lock")
    assert code == 0
    assert conn.execute("select count(*) from yoyo_lock").fetchone()[0] == 0


def test_migrations_new_writes_numbered_step_and_rollback(tmp_path: Path) -> None:
    (tmp_path / "0001_initial.sql").write_text("select 1;\n")
    code, out, _ = invoke("--json", "migrations", "new", "add_notes", "--directory", str(tmp_path))
    assert code == 0, out
    step = tmp_path / "0002_add_notes.sql"
    assert step.exists() and (tmp_path / "0002_add_notes.rollback.sql").exists()
    assert "-- depends: 0001_initial" in step.read_text()
    code, _, err = invoke("migrations", "new", "Bad Name", "--directory", str(tmp_path))
    assert code == 8
    assert "lower_snake_case" in err


def test_unreachable_server_is_one_line_exit_6_and_no_password() -> None:
    url = "postgresql://bob:s3cretPW@127.0.0.1:1/x?connect_timeout=2"
    code, out, err = invoke("--url", url, "status")
    assert code == 6
    assert "DatabaseUnavailable" in err
    assert len(err.strip().splitlines()) == 1
    assert "s3cretPW" not in out + err
    assert "bob:***@" in err


def test_init_creates_the_database_on_a_server(pg_server) -> None:
    from conftest import unique_name
    from psycopg.conninfo import make_conninfo

    name = unique_name("rdb_init")
    url = make_conninfo(pg_server.admin, dbname=name)
    try:
        code, out, _ = invoke("--url", url, "--json", "init")
        assert code == 0, out
        result = json.loads(out)
        from resultsdb import _paths

        every = sorted(p.stem for p in _paths.migrations_dir().glob("*.sql") if ".rollback" not in p.name)
        assert result["created"] is True and sorted(result["applied"]) == every
        code, out, _ = invoke("--url", url, "--json", "init")
        again = json.loads(out)
        assert again["created"] is False and again["applied"] == []
    finally:
        pg_server.drop_database(name)


def test_psql_runs_a_command_on_the_configured_database(db_url: str) -> None:
    env = {**os.environ, "RESULTSDB_URL": db_url}
    proc = subprocess.run(
        [sys.executable, "-m", "resultsdb.cli", "psql", "--", "-Atc",
         "select count(*) from status_transitions"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.strip()) > 20


def test_db_start_and_stop_embedded(tmp_path: Path) -> None:
    env = {"RESULTSDB_DATA_DIR": str(tmp_path / "d")}
    code, out, _ = invoke("--json", "db-start", env=env)
    try:
        assert code == 0, out
        info = json.loads(out)
        assert info["pid"] > 0
        assert Path(info["pgdata"]).name == "pgdata"
    finally:
        code, out, _ = invoke("db-stop", env=env)
    assert code == 0 and "stopped" in out
    code, out, _ = invoke("db-stop", env=env)
    assert "not running" in out


@pytest.mark.slow
@pytest.mark.parametrize("command", ["seed", "demo"])
def test_seed_and_demo_run_twice(db_url: str, command: str) -> None:
    for _ in range(2):
        code, out, err = invoke("--url", db_url, command)
        assert code == 0, out + err
