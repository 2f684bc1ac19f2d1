"""Commands that destroy ask first (unless --yes; refused without a terminal), and long
ones show progress: the library reports ``progress(done, total)``, the CLI draws a bar on
stderr only for a person at a terminal."""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest
from rich.console import Console
from typer.testing import CliRunner

from resultsdb import embedded, export, report, series
from resultsdb.api import ResultsDB
from resultsdb.cli import _app, app
from resultsdb.db import Database
from resultsdb.demo import backtest, synthetic_prices
from resultsdb.series import partitions

runner = CliRunner()
MARCH = datetime(2024, 3, 15, tzinfo=UTC)


def invoke(*args: str, env: dict[str, str] | None = None, answer: str | None = None
           ) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200", **(env or {})}, input=answer)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def at_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_app, "interactive", lambda: True)


def applied(url: str) -> list[str]:
    _, out, _ = invoke("--url", url, "--json", "status")
    return [m["id"] for m in json.loads(out) if m["applied"]]


# -- rollback ----------------------------------------------------------------------------------


def test_rollback_of_the_initial_migration_asks_first(db_url: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    every = applied(db_url)
    code, _, err = invoke("--url", db_url, "rollback", "--steps", str(len(every)))
    assert code == 1 and "0001_initial" in err and "pass --yes" in err, err
    assert applied(db_url) == every

    monkeypatch.setattr(_app, "interactive", lambda: True)
    code, _, err = invoke("--url", db_url, "rollback", "--steps", "99", answer="n\n")
    assert code == 1 and "Go ahead?" in err and "nothing done" in err, err
    assert applied(db_url) == every

    code, out, err = invoke("--url", db_url, "--json", "rollback", "--steps", "99", "--yes")
    assert code == 0, err
    assert [r["rolled_back"] for r in json.loads(out)] == every[::-1]
    assert applied(db_url) == []


# -- archive -----------------------------------------------------------------------------------


def run_made(conn: psycopg.Connection, experiment_id: uuid.UUID, at: datetime) -> uuid.UUID:
    """A run whose id says it was created at ``at`` (its series go to that month)."""
    return conn.execute("insert into runs (id, experiment_id) values (uuid_v7(%s), %s) returning id",
                        (at, experiment_id)).fetchone()[0]


@pytest.fixture
def two_months(db: Database, conn: psycopg.Connection) -> tuple[uuid.UUID, uuid.UUID]:
    """A run of March 2024 and one of this month, each with a short curve and trades."""
    curve, trades = backtest(synthetic_prices(bars=60), 3, 10)
    experiment = conn.execute("insert into experiments (name) values ('confirm') returning id"
                              ).fetchone()[0]
    made = (run_made(conn, experiment, MARCH), run_made(conn, experiment, datetime.now(UTC)))
    for run_id in made:
        series.write_equity(db, run_id, None, curve)
        series.write_trades(db, run_id, None, trades)
    return made


def first_of_next_month() -> date:
    today = datetime.now(UTC).date()
    return date(today.year + today.month // 12, today.month % 12 + 1, 1)


def test_archive_of_the_current_month_asks_first(db: Database, db_url: str, tmp_path: Path,
                                                 two_months: tuple[uuid.UUID, uuid.UUID]) -> None:
    _, now_run = two_months
    month = datetime.now(UTC).strftime("%Y%m")
    args = ["--url", db_url, "--json", "archive", "--before", first_of_next_month().isoformat(),
            "--to", tmp_path.as_uri()]
    code, _, err = invoke(*args)
    assert code == 1 and f"equity_curves_p{month}" in err and "current month" in err, err
    assert len(series.read_equity(db, now_run)) == 60  # nothing archived, March neither
    assert [p.name for p in tmp_path.iterdir()] == []

    code, out, err = invoke(*args, "--yes")
    assert code == 0, err
    assert {m["name"] for m in json.loads(out)} == {
        "equity_curves_p202403", "trade_logs_p202403",
        f"equity_curves_p{month}", f"trade_logs_p{month}"}
    assert series.read_equity(db, now_run).empty


def test_archive_of_past_months_does_not_ask(db_url: str, tmp_path: Path,
                                             two_months: tuple[uuid.UUID, uuid.UUID]) -> None:
    code, out, err = invoke("--url", db_url, "--json", "archive", "--before", "2024-04-01",
                            "--to", tmp_path.as_uri())
    assert code == 0, err
    assert [m["name"] for m in json.loads(out)] == ["equity_curves_p202403", "trade_logs_p202403"]


# -- clean -------------------------------------------------------------------------------------


def data_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    (folder / "pgdata").mkdir(parents=True)  # not a server: no PG_VERSION
    (folder / "artifacts").mkdir()
    (folder / "artifacts" / "blob").write_bytes(b"x")
    return folder


def test_clean_refuses_without_a_terminal_and_asks_at_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = data_folder(tmp_path)
    env = {"RESULTSDB_DATA_DIR": str(folder)}
    code, _, err = invoke("clean", env=env)
    assert code == 1 and "stdin is not a terminal; pass --yes" in err and str(folder) in err
    assert folder.exists()

    monkeypatch.setattr(_app, "interactive", lambda: True)
    code, _, err = invoke("clean", env=env, answer="n\n")
    assert code == 1 and "artifacts, pgdata" in err and folder.exists()
    code, out, err = invoke("--json", "clean", env=env, answer="y\n")
    assert code == 0, err
    report = json.loads(out[out.index("{"):])  # after the runner's echo of the answer
    assert report == {"data_dir": str(folder), "removed": True, "servers_stopped": []}
    assert not folder.exists()
    code, out, _ = invoke("--json", "clean", "--yes", env=env)
    assert code == 0 and json.loads(out)["removed"] is False


def test_clean_refuses_a_folder_that_is_not_a_data_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    code, _, err = invoke("clean", "--yes", env={"RESULTSDB_DATA_DIR": str(tmp_path)})
    assert code == 4 and "does not look like a resultsdb data folder" in err
    folder = data_folder(tmp_path)
    monkeypatch.chdir(folder / "artifacts")  # the working folder is inside it
    code, _, err = invoke("clean", "--yes", env={"RESULTSDB_DATA_DIR": str(folder)})
    assert code == 4 and folder.exists() and (tmp_path / "notes.txt").exists()


def test_clean_stops_the_embedded_server_first(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    env = {"RESULTSDB_DATA_DIR": str(folder)}
    code, _, err = invoke("db-start", env=env)
    assert code == 0, err
    try:
        code, out, err = invoke("--json", "clean", "--yes", env=env)
        assert code == 0, err
        assert json.loads(out)["servers_stopped"] == [str(folder.resolve())]
        assert not folder.exists()
    finally:
        if folder.exists():
            embedded.stop(folder)


def test_make_clean_calls_resultsdb_clean_with_yes_only_when_told() -> None:
    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    recipe = makefile.split("\nclean:", 1)[1].split("\n\n", 1)[0]
    assert "resultsdb clean $(if $(filter 1,$(YES)),--yes)" in recipe
    [removal] = [line for line in recipe.splitlines() if "rm -rf" in line]
    assert "$(VENV)" in removal and ".resultsdb" not in removal  # the data: only after asking


# -- progress ----------------------------------------------------------------------------------


def test_the_library_reports_progress(db: Database, db_url: str, tmp_path: Path,
                                      two_months: tuple[uuid.UUID, uuid.UUID]) -> None:
    archived: list[tuple[int, int | None]] = []
    partitions.archive(db, date(2024, 4, 1), tmp_path.as_uri(), progress=lambda *a: archived.append(a))
    assert archived == [(0, 2), (1, 2), (2, 2)]
    restored: list[tuple[int, int | None]] = []
    partitions.restore(db, tmp_path.as_uri(), progress=lambda *a: restored.append(a))
    assert restored == [(0, 2), (1, 2), (2, 2)]

    with ResultsDB(url=db_url) as rdb:
        exported: list[tuple[int, int | None]] = []
        export.export(rdb, "runs", tmp_path / "runs.csv", progress=lambda *a: exported.append(a))
        assert exported == [(2, None), (2, 2)]
        exported.clear()
        export.export(rdb, "equity", tmp_path / "e.csv", run=two_months[1],
                      progress=lambda *a: exported.append(a))
        assert exported == [(0, None), (60, 60)]
        pages: list[tuple[int, int | None]] = []
        report.write_reports(rdb, list(two_months), tmp_path / "r",
                             progress=lambda *a: pages.append(a))
        assert pages == [(0, 3), (1, 3), (2, 3), (3, 3)]


@pytest.mark.parametrize(("terminal", "machine", "shown"),
                         [(True, None, True), (True, "--json", False), (True, "--csv", False),
                          (False, None, False)])
def test_the_cli_draws_a_bar_only_for_a_person(
        db_url: str, tmp_path: Path, two_months: tuple[uuid.UUID, uuid.UUID],
        monkeypatch: pytest.MonkeyPatch, terminal: bool, machine: str | None, shown: bool) -> None:
    screen = io.StringIO()
    monkeypatch.setattr(_app, "err", Console(file=screen, force_terminal=terminal, width=100))
    for args in (["export", "equity", "--run", str(two_months[0]), "--out", str(tmp_path / "e")],
                 ["archive", "--before", "2024-04-01", "--to", tmp_path.as_uri()],
                 ["restore", "--from", tmp_path.as_uri()]):
        code, _, err = invoke("--url", db_url, *args, *([machine] if machine else []))
        assert code == 0, (args, err)
    drawn = screen.getvalue()
    for description in ("exporting equity", "archiving partitions", "restoring partitions"):
        assert (description in drawn) is shown, drawn
