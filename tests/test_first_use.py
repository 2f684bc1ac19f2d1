"""First use: several processes on a fresh data folder, the embedded default migrated on
first use (a database reached by URL never is), the notice of where the data lives, and
what a newcomer's first commands say on a fresh folder and on a never-migrated database."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest
from conftest import Server, unique_name
from typer.testing import CliRunner

from resultsdb import _paths, embedded, migrate, ops, resolve
from resultsdb.api import ResultsDB
from resultsdb.cli import app
from resultsdb.config import Settings
from resultsdb.db import Database
from resultsdb.errors import DatabaseError, SchemaNotMigrated
from resultsdb.repositories import catalog

runner = CliRunner()
WORKERS = 4

# A pipeline worker's first use: connect, then write. The workers wait for "go" so that
# they reach the fresh folder together, as parallel Optuna workers do.
WORKER = textwrap.dedent("""
    import os, sys, time
    import resultsdb
    from resultsdb import embedded
    from resultsdb.config import Settings

    go = sys.argv[2]
    while not os.path.exists(go):
        time.sleep(0.005)
    with resultsdb.connect() as db:
        exp = db.start_experiment(f"worker {sys.argv[1]}")
        with db.run(exp, "first", run_type="training") as run:
            db.log_summary_metrics(run, {"sharpe": 1.0})
    print(embedded.status(Settings().data_dir).pid)
""")

# Holds a data folder's start lock, as a process starting the server does, for argv[2] s.
HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from resultsdb import embedded

    with embedded.lock(Path(sys.argv[1])):
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
""")


def fresh_dir() -> Path:
    # Short and under the system temp folder: the server's socket lives in it.
    return Path(tempfile.mkdtemp(prefix="rdbfu"))


def remove(data_dir: Path) -> None:
    try:
        embedded.stop(data_dir)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    """One embedded server for this module; each test takes its own database on it."""
    path = fresh_dir()
    info = embedded.start(path)
    # As conftest's server: nothing on it must survive an OS crash, and fsync is most of
    # what CREATE DATABASE costs.
    with psycopg.connect(info.conninfo(), autocommit=True) as admin:
        admin.execute("alter system set fsync = off")
        admin.execute("select pg_reload_conf()")
    yield path
    remove(path)


@pytest.fixture
def settings(data_dir: Path, tmp_path: Path) -> Settings:
    """The embedded default (no URL), on a database no one has used yet."""
    return Settings(data_dir=data_dir, database=unique_name("rdb_fu"),
                    artifacts_url=(tmp_path / "artifacts").as_uri())


def env_of(settings: Settings) -> dict[str, str]:
    return {"RESULTSDB_DATA_DIR": str(settings.data_dir), "RESULTSDB_DATABASE": settings.database,
            "RESULTSDB_ARTIFACTS_URL": str(settings.artifacts_url)}


def cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def postmasters(pgdata: Path) -> list[psutil.Process]:
    """Server processes started on ``pgdata`` (the postmaster alone has it on its command line)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if str(pgdata) in (proc.info["cmdline"] or []):
            found.append(proc)
    return found


# -- several processes on a fresh folder ------------------------------------------------


@pytest.mark.slow
def test_four_processes_on_a_fresh_folder_share_one_server_and_one_database() -> None:
    folder = fresh_dir()
    go = folder / "go"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESULTSDB_")}
    env["RESULTSDB_DATA_DIR"] = str(folder / "data")
    try:
        procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(i), str(go)], cwd=folder,
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for i in range(WORKERS)]
        time.sleep(1.5)  # let every worker import resultsdb and wait at the line
        started = time.monotonic()
        go.touch()
        outs = [p.communicate(timeout=120) for p in procs]
        elapsed = time.monotonic() - started
        for p, (_, err) in zip(procs, outs, strict=True):
            assert p.returncode == 0, err
            assert "Traceback" not in err and "Error" not in err, err
        pids = {int(out.split()[-1]) for out, _ in outs}
        pgdata = embedded.pgdata_for(folder / "data")
        assert len(pids) == 1 and [p.pid for p in postmasters(pgdata)] == list(pids)
        info = embedded.status(folder / "data")
        assert info is not None
        with psycopg.connect(info.conninfo("resultsdb")) as conn:
            assert conn.execute("select count(*) from pg_database where datname = 'resultsdb'"
                                ).fetchone() == (1,)
            assert conn.execute("select count(*) from experiments").fetchone() == (WORKERS,)
            assert conn.execute("select count(*) from runs where status = 'completed'"
                                ).fetchone() == (WORKERS,)
            # Migrated once: each step applied by one process.
            applied = conn.execute("select migration_id from _yoyo_log where operation = 'apply'"
                                   ).fetchall()
            assert sorted(m for (m,) in applied) == _paths.migration_ids()
        print(f"{WORKERS} processes on a fresh folder: {elapsed:.1f} s")
        assert elapsed < 60
    finally:
        remove(folder / "data")
        shutil.rmtree(folder, ignore_errors=True)


def create_at_once(admin: str, name: str) -> tuple[list[bool], list[BaseException]]:
    """ensure_database from WORKERS threads released together: what each returned or raised."""
    barrier = threading.Barrier(WORKERS)
    created: list[bool] = []
    failed: list[BaseException] = []

    def create() -> None:
        barrier.wait()
        try:
            created.append(resolve.ensure_database(admin, name))
        except BaseException as exc:  # noqa: BLE001 - the test reports any failure
            failed.append(exc)

    threads = [threading.Thread(target=create) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return created, failed


def test_ensure_database_is_idempotent_under_a_race(pg_server: Server) -> None:
    for _ in range(3):  # the losers fail at different moments from round to round
        name = unique_name("rdb_race")
        try:
            created, failed = create_at_once(pg_server.admin, name)
            assert failed == []
            assert sorted(created) == [False] * (WORKERS - 1) + [True]
        finally:
            pg_server.drop_database(name)


# -- the start lock -------------------------------------------------------------------


def hold_lock(data_dir: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(data_dir), str(seconds)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_start_waits_for_the_process_starting_the_server(data_dir: Path) -> None:
    holder = hold_lock(data_dir, 1.5)
    started = time.monotonic()
    info = embedded.start(data_dir)
    assert time.monotonic() - started >= 1.0
    assert holder.wait(10) == 0
    assert info == embedded.status(data_dir)  # the running server, reused


def test_a_lock_left_by_a_killed_process_never_blocks(data_dir: Path) -> None:
    holder = hold_lock(data_dir, 600)
    holder.kill()
    holder.wait(10)
    assert (data_dir / embedded.LOCK_FILE).exists()  # the file stays; the lock went with it
    started = time.monotonic()
    embedded.start(data_dir)
    assert time.monotonic() - started < 5


def test_a_start_that_waits_too_long_says_who_holds_the_lock(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded, "LOCK_WAIT", 0.3)
    holder = hold_lock(data_dir, 30)
    try:
        with pytest.raises(DatabaseError) as info:
            embedded.start(data_dir)
        assert f"process {holder.pid}" in str(info.value)
        assert str(data_dir.resolve() / embedded.LOCK_FILE) in str(info.value)
    finally:
        holder.kill()
        holder.wait(10)


def test_a_half_written_postmaster_pid_is_no_crash() -> None:
    folder = fresh_dir()
    try:
        pgdata = embedded.start(folder).pgdata
        embedded.stop(folder)
        gone = subprocess.Popen(["true"])
        gone.wait()
        # What a postmaster that died while writing it leaves: two of its eight lines.
        (pgdata / "postmaster.pid").write_text(f"{gone.pid}\n{pgdata}\n")
        assert embedded.status(folder) is None
        info = embedded.start(folder)
        assert embedded.status(folder) == info
    finally:
        remove(folder)


def test_an_unusable_data_folder_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    code, out, err = cli("ls", "experiments", env={"RESULTSDB_DATA_DIR": str(tmp_path / "a-file" / "data")})
    assert code == 1, out + err
    assert err.startswith("error (DatabaseError): embedded PostgreSQL: cannot use the data folder "
                          f"{tmp_path / 'a-file' / 'data'}")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


# -- the embedded default: migrated on first use, and said so ----------------------------


def test_the_embedded_default_is_migrated_on_first_use(settings: Settings) -> None:
    with ResultsDB(settings) as rdb:
        exp = rdb.start_experiment("first use")  # no migrate beforehand: it just works
        assert rdb.get_experiment(exp).name == "first use"
        assert all(s.applied for s in migrate.status(rdb.db))


def test_an_embedded_database_migrated_before_is_left_as_it_is(settings: Settings) -> None:
    with Database(settings) as db:
        [last] = migrate.rollback(db, steps=1)
    with Database(settings) as db:  # as the next process would
        assert [s.id for s in migrate.status(db) if not s.applied] == [last]
        assert ops.health(db).check("migrations").status == "fail"


def test_a_database_reached_by_url_is_never_migrated_silently(empty_db_url: str) -> None:
    with ResultsDB(url=empty_db_url) as rdb:
        with pytest.raises(SchemaNotMigrated, match="run `resultsdb migrate`"):
            rdb.start_experiment("no tables yet")
        with rdb.db.connection() as conn:
            assert catalog.migration_log(conn) == [] and not catalog.series_tables_exist(conn)


def test_the_embedded_default_is_announced_once_with_its_folder(
        settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(resolve, "_announced", set())
    with caplog.at_level(logging.INFO, logger="resultsdb"):
        for _ in range(2):
            with Database(settings) as db:
                db.read(catalog.server_info)
    notes = [r for r in caplog.records if "embedded PostgreSQL server" in r.getMessage()]
    assert len(notes) == 1
    assert notes[0].levelno == logging.WARNING
    assert str(settings.data_dir.resolve()) in notes[0].getMessage()
    assert "migrated its new database" in notes[0].getMessage()


def test_health_says_where_the_results_go(settings: Settings, db_url: str) -> None:
    with Database(settings) as db:
        check = ops.health(db).checks[0]
    assert check.name == "database" and check.status == "ok"
    assert check.data == {"embedded": True, "data_dir": str(settings.data_dir.resolve()),
                          "database": settings.database}
    assert str(settings.data_dir.resolve()) in check.detail and "not durable" in check.detail
    with Database(url=db_url) as db:
        check = ops.health(db).checks[0]
    assert check.data["embedded"] is False and check.detail.startswith("server at ")

    code, out, _ = cli("health", env=env_of(settings))
    assert code == 0 and "embedded PostgreSQL server" in out


# -- a newcomer's first commands ----------------------------------------------------------


def test_first_commands_on_a_fresh_embedded_folder(settings: Settings) -> None:
    env = env_of(settings)
    for args, expected in [(("status",), 0), (("ls", "experiments"), 0), (("show", "nothing"), 3),
                           (("leaderboard", "nothing"), 3), (("seed",), 0),
                           (("leaderboard", "seed-momentum"), 0), (("ls", "models"), 0)]:
        code, out, err = cli(*args, env=env)
        assert code == expected, (args, out, err)
        assert "Traceback" not in out + err and "UndefinedTable" not in out + err, args


def test_first_commands_on_a_never_migrated_database(empty_db_url: str) -> None:
    code, out, _ = cli("--url", empty_db_url, "--json", "status")
    assert code == 0 and '"applied": false' in out
    for args in [("ls", "experiments"), ("ls", "runs"), ("show", "x"), ("leaderboard", "x")]:
        code, out, err = cli("--url", empty_db_url, *args)
        assert code == 12, (args, out, err)
        assert err.strip().startswith("error (SchemaNotMigrated): schema not migrated: "
                                      "run `resultsdb migrate`"), err
        assert len(err.strip().splitlines()) == 1
    with Database(url=empty_db_url) as db, db.connection() as conn:
        assert catalog.migration_log(conn) == []  # nothing was migrated on the way
