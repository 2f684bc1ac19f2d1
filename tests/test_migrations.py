"""Migrations: no drift from sql/schema/, clean rollback, one apply under concurrency, tooling.

Catalogs are compared as normalised ``pg_dump --schema-only`` text, so a failure
prints a unified diff of the two schemas.
"""

from __future__ import annotations

import difflib
import json
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from resultsdb import _paths, embedded, migrate
from resultsdb.db import Database
from resultsdb.errors import MigrationError

ROOT = Path(__file__).resolve().parent.parent
YOYO_TABLES = ("_yoyo_log", "_yoyo_migration", "_yoyo_version", "yoyo_lock")


# -- helpers -------------------------------------------------------------------------


def pg_dump(conninfo: str, *, exclude_yoyo: bool) -> str:
    args = [str(embedded.bin_dir() / "pg_dump"), "--schema-only", "--no-owner", "--no-privileges"]
    if exclude_yoyo:
        args += ["--exclude-table=_yoyo_*", "--exclude-table=yoyo_lock"]
    done = subprocess.run([*args, "--dbname", conninfo], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


_PARTITION_MONTH = re.compile(r"_p(\d{4})(\d{2})(?!\d)")
_BOUND = re.compile(r"'([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})'")


def _month_number(year: int, month: int) -> int:
    return year * 12 + month - 1


def normalize(dump: str) -> str:
    """The dump without what legitimately differs between two databases of one schema.

    Dropped: comments, SET/set_config lines, psql meta-commands (``\\restrict`` carries
    a random key) and blank lines. Month partitions are named relative to the first
    one (``_p202611`` -> ``_p[+0]``) and their UUIDv7 bounds become the month they
    encode, relative to the same base: the two sides then compare equal even when
    they were made on either side of a month boundary, and a bound that is not the
    first millisecond of a month stays visible as it is. Servers that record a
    per-relation attribute option version (``pg_attver=N``) get N blanked.
    """
    lines = [
        line for line in dump.splitlines()
        if line.strip()
        and not line.startswith(("--", "SET ", "SELECT pg_catalog.set_config", "\\"))
    ]
    text = "\n".join(lines)
    months = sorted({_month_number(int(y), int(m)) for y, m in _PARTITION_MONTH.findall(text)})
    base = months[0] if months else 0
    text = _PARTITION_MONTH.sub(
        lambda m: f"_p[+{_month_number(int(m.group(1)), int(m.group(2))) - base}]", text)

    def bound(m: re.Match[str]) -> str:
        hexdigits = m.group(1).replace("-", "")
        if hexdigits[12:].strip("0"):
            return m.group(0)  # not a uuid_v7_floor() value
        at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(hexdigits[:12], 16))
        if (at.day, at.hour, at.minute, at.second, at.microsecond) != (1, 0, 0, 0, 0):
            return m.group(0)
        return f"'<month +{_month_number(at.year, at.month) - base}>'"

    text = _BOUND.sub(bound, text)
    return re.sub(r"pg_attver=\d+", "pg_attver=N", text)


def assert_same_schema(expected: str, actual: str, expected_label: str, actual_label: str) -> None:
    a, b = normalize(expected), normalize(actual)
    if a != b:
        diff = "\n".join(difflib.unified_diff(
            a.splitlines(), b.splitlines(), expected_label, actual_label, lineterm="", n=2))
        pytest.fail(f"catalogs differ ({expected_label} vs {actual_label}):\n{diff}", pytrace=False)


def status_transitions(conninfo: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(conninfo) as conn:
        return conn.execute(
            "select entity, from_status, to_status from status_transitions order by 1, 2, 3"
        ).fetchall()


def public_objects(conninfo: str) -> list[tuple[str, str]]:
    """Every relation, function and free-standing type in the public schema."""
    with psycopg.connect(conninfo) as conn:
        return conn.execute(
            """
            select 'relation', relname::text from pg_class
             where relnamespace = 'public'::regnamespace
            union all
            select 'function', proname::text from pg_proc
             where pronamespace = 'public'::regnamespace
            union all
            select 'type', typname::text from pg_type t
             where typnamespace = 'public'::regnamespace and typrelid = 0
               and not exists (select 1 from pg_type e where e.typarray = t.oid)
            order by 1, 2
            """
        ).fetchall()


@pytest.fixture
def new_database(pg_server: Any) -> Iterator[Callable[[], str]]:
    """Make further empty databases (dropped at the end of the test)."""
    made: list[str] = []

    def make() -> str:
        name = f"rdb_m_{uuid.uuid4().hex[:12]}"
        made.append(name)
        return pg_server.create_database(name)

    yield make
    for name in made:
        pg_server.drop_database(name)


def load_schema_files(conninfo: str) -> None:
    files = sorted((_paths.sql_dir() / "schema").glob("*.sql"))
    assert files, "no sql/schema/*.sql"
    files += sorted((_paths.sql_dir() / "views").glob("*.sql"))  # views read the tables
    with psycopg.connect(conninfo) as conn:  # one transaction, committed at the end
        for path in files:
            conn.execute(path.read_text(encoding="utf-8"))


def migration_ids() -> list[str]:
    return sorted(p.stem for p in _paths.migrations_dir().glob("*.sql")
                  if not p.name.endswith(".rollback.sql"))


# -- (a) no drift ------------------------------------------------------------------


def test_migrating_from_zero_gives_the_schema_files_catalog(
        empty_db_url: str, new_database: Callable[[], str]) -> None:
    with Database(url=empty_db_url) as db:
        assert migrate.migrate(db) == migration_ids()
    from_files = new_database()
    load_schema_files(from_files)

    migrated = pg_dump(empty_db_url, exclude_yoyo=True)
    assert "CREATE TABLE public.runs" in migrated and "_yoyo" not in migrated
    assert_same_schema(pg_dump(from_files, exclude_yoyo=False), migrated,
                       "sql/schema/*.sql", "migrations/")
    transitions = status_transitions(empty_db_url)
    assert transitions, "status_transitions is empty"
    assert transitions == status_transitions(from_files)


def test_normalize_hides_the_month_and_nothing_else() -> None:
    def dump(first: int, tag: str) -> str:
        month = datetime(2026, first, 1, tzinfo=UTC)
        nxt = datetime(2026 + first // 12, first % 12 + 1, 1, tzinfo=UTC)

        def floor(at: datetime) -> str:
            h = f"{int(at.timestamp() * 1000):012x}" + "0" * 20
            return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

        return (
            f"--\n-- Name: x\n\\restrict {tag}\nSET a = 1;\n\n"
            f"CREATE TABLE public.t_p2026{first:02d} (a int);\n"
            f"ALTER TABLE ONLY public.t_p2026{first:02d} ALTER COLUMN a SET (pg_attver={first});\n"
            f"ALTER TABLE ONLY public.t ATTACH PARTITION public.t_p2026{first:02d} "
            f"FOR VALUES FROM ('{floor(month)}') TO ('{floor(nxt)}');\n"
        )

    assert normalize(dump(11, "abc")) == normalize(dump(12, "xyz"))
    assert "'<month +0>'" in normalize(dump(11, "abc"))
    assert normalize(dump(11, "a")) != normalize(dump(11, "a").replace("(a int)", "(a bigint)"))
    off = dump(11, "a").replace("000000000000') TO", "000000000001') TO")
    assert off != dump(11, "a")
    assert normalize(off) != normalize(dump(11, "a"))


# -- (b) up, down, up ---------------------------------------------------------------


def test_up_down_up_gives_the_same_catalog_and_down_leaves_nothing(
        empty_db_url: str, new_database: Callable[[], str]) -> None:
    empty = new_database()
    with Database(url=empty_db_url) as db:
        applied = migrate.migrate(db)
        assert applied == migration_ids()
        first = pg_dump(empty_db_url, exclude_yoyo=True)

        assert migrate.rollback(db, steps=len(applied)) == applied[::-1]
        assert public_objects(empty_db_url) == sorted(("relation", t) for t in (
            *YOYO_TABLES, *(f"{t}_pkey" for t in YOYO_TABLES)))
        assert_same_schema(pg_dump(empty, exclude_yoyo=False),
                           pg_dump(empty_db_url, exclude_yoyo=True), "empty database", "rolled back")
        assert [s.applied for s in migrate.status(db)] == [False] * len(applied)

        assert migrate.migrate(db) == applied
        assert_same_schema(first, pg_dump(empty_db_url, exclude_yoyo=True), "up", "up, down, up")
        assert status_transitions(empty_db_url)


# -- (c) concurrent migrate processes --------------------------------------------------

_CHILD = """
import json, sys, time
from pathlib import Path
from resultsdb import migrate
from resultsdb.db import Database
conninfo, ready, go = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
db = Database(url=conninfo)
db.conninfo  # resolve before the race
ready.touch()
deadline = time.monotonic() + 60
while not go.exists():
    if time.monotonic() > deadline:
        sys.exit("never told to go")
    time.sleep(0.002)
with db:
    print(json.dumps(migrate.migrate(db)))
"""


def test_concurrent_migrate_processes_apply_each_step_once(empty_db_url: str, tmp_path: Path) -> None:
    n = 3
    go = tmp_path / "go"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, empty_db_url, str(tmp_path / f"ready{i}"), str(go)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(n)
    ]
    try:
        deadline = time.monotonic() + 60
        while not all((tmp_path / f"ready{i}").exists() for i in range(n)):
            assert time.monotonic() < deadline, "children did not start"
            assert all(c.poll() is None for c in children), [c.communicate() for c in children]
            time.sleep(0.01)
        go.touch()
        results = [c.communicate(timeout=120) for c in children]
    finally:
        for c in children:
            if c.poll() is None:
                c.kill()
    for c, (_, err) in zip(children, results, strict=True):
        assert c.returncode == 0, err
        assert "Traceback" not in err, err
    applied = [json.loads(out.strip().splitlines()[-1]) for out, _ in results]
    assert sorted(applied, key=len) == [[]] * (n - 1) + [migration_ids()]

    with Database(url=empty_db_url) as db:
        ops = Counter((e.migration_id, e.operation) for e in migrate.history(db))
        assert ops == Counter({(m, "apply"): 1 for m in migration_ids()})
        assert all(s.applied for s in migrate.status(db))


def test_migrate_waits_for_the_advisory_lock(empty_db_url: str) -> None:
    outcome: list[object] = []
    with psycopg.connect(empty_db_url, autocommit=True) as holder, Database(url=empty_db_url) as db:
        holder.execute("select pg_advisory_lock(%s)", (migrate.MIGRATE_LOCK_KEY,))

        def run() -> None:
            try:
                outcome.append(migrate.migrate(db))
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                outcome.append(exc)

        worker = threading.Thread(target=run)
        worker.start()
        worker.join(1.0)
        assert worker.is_alive(), f"migrate did not wait for the advisory lock: {outcome}"
        assert not holder.execute("select to_regclass('runs') is not null").fetchone()[0]
        holder.execute("select pg_advisory_unlock(%s)", (migrate.MIGRATE_LOCK_KEY,))
        worker.join(60)
        assert outcome == [migration_ids()]


# -- (d) status, history, new migrations, break_lock -----------------------------------


def test_status_and_history_report_the_applied_state(empty_db_url: str) -> None:
    with Database(url=empty_db_url) as db:
        assert migrate.history(db) == []
        before = migrate.status(db)
        assert [(s.id, s.applied, s.applied_at) for s in before] == [
            (m, False, None) for m in migration_ids()]

        started = datetime.now(UTC)
        migrate.migrate(db)
        after = migrate.status(db)
        assert [(s.id, s.applied) for s in after] == [(m, True) for m in migration_ids()]
        for state in after:
            assert state.applied_at is not None and state.applied_at.utcoffset() == timedelta(0)
            assert started - timedelta(minutes=1) <= state.applied_at <= datetime.now(UTC)
        log = migrate.history(db)
        assert [(e.migration_id, e.operation) for e in log] == [(m, "apply") for m in migration_ids()]
        assert all(e.created_at.utcoffset() == timedelta(0) for e in log)

        assert migrate.migrate(db) == []  # nothing left to apply, nothing logged
        assert len(migrate.history(db)) == len(log)


def test_new_migration_writes_the_next_step_and_its_rollback(tmp_path: Path) -> None:
    directory = tmp_path / "migrations"
    shutil.copytree(_paths.migrations_dir(), directory)
    last = migration_ids()[-1]
    number = int(last[:4]) + 1

    forward, backward = migrate.new_migration("add_x", directory=directory)
    assert forward == directory / f"{number:04d}_add_x.sql"
    assert backward == directory / f"{number:04d}_add_x.rollback.sql"
    assert f"-- depends: {last}\n" in forward.read_text()
    assert backward.exists()

    third, _ = migrate.new_migration("add_y", directory=directory)
    assert third.name == f"{number + 1:04d}_add_y.sql"
    assert f"-- depends: {number:04d}_add_x\n" in third.read_text()

    for bad in ("Add-X", "1x", "x" * 62, ""):
        with pytest.raises(MigrationError, match="lower_snake_case"):
            migrate.new_migration(bad, directory=directory)


def test_a_new_migration_applies_and_rolls_back(db_url: str, tmp_path: Path) -> None:
    directory = tmp_path / "migrations"
    shutil.copytree(_paths.migrations_dir(), directory)
    forward, backward = migrate.new_migration("add_x", directory=directory)
    forward.write_text(forward.read_text() + "create table x (id int primary key);\n"
                       "insert into x values (1);\n")
    backward.write_text(backward.read_text() + "drop table x;\n")
    step = forward.stem

    with Database(url=db_url) as db, psycopg.connect(db_url, autocommit=True) as conn:
        def exists(table: str) -> bool:
            return conn.execute("select to_regclass(%s) is not null", (table,)).fetchone()[0]

        assert migrate.migrate(db, directory=directory) == [step]
        assert exists("x") and conn.execute("select count(*) from x").fetchone()[0] == 1
        assert [(s.id, s.applied) for s in migrate.status(db, directory=directory)] == [
            *((m, True) for m in migration_ids()), (step, True)]

        assert migrate.rollback(db, steps=1, directory=directory) == [step]
        assert not exists("x") and exists("runs")
        assert [(s.id, s.applied) for s in migrate.status(db, directory=directory)][-1] == (step, False)
        assert [(e.migration_id, e.operation) for e in migrate.history(db)][-2:] == [
            (step, "apply"), (step, "rollback")]

        with pytest.raises(MigrationError, match="steps"):
            migrate.rollback(db, steps=0, directory=directory)


def test_a_failing_migration_is_a_migration_error_and_changes_nothing(
        db_url: str, tmp_path: Path) -> None:
    directory = tmp_path / "migrations"
    shutil.copytree(_paths.migrations_dir(), directory)
    forward, _ = migrate.new_migration("broken", directory=directory)
    forward.write_text(forward.read_text() + "create table y (id int);\nselect 1/0;\n")
    with Database(url=db_url) as db:
        with pytest.raises(MigrationError, match="division by zero"):
            migrate.migrate(db, directory=directory)
        assert not migrate.status(db, directory=directory)[-1].applied
    with psycopg.connect(db_url) as conn:
        assert conn.execute("select to_regclass('y')").fetchone()[0] is None


def test_break_lock_removes_a_stale_lock_so_migrate_succeeds(empty_db_url: str) -> None:
    with Database(url=empty_db_url) as db:
        migrate.status(db)  # creates yoyo's tables
        with psycopg.connect(empty_db_url, autocommit=True) as conn:
            # What a migrate killed while holding yoyo's lock leaves behind.
            conn.execute("insert into yoyo_lock (locked, ctime, pid) values (1, now(), 999999)")

            started = time.monotonic()
            with pytest.raises(MigrationError, match="break-lock") as info:
                migrate.migrate(db, lock_timeout=0.3)
            assert time.monotonic() - started < 5
            assert "999999" in str(info.value)
            assert not any(s.applied for s in migrate.status(db))

            migrate.break_lock(db)
            assert conn.execute("select count(*) from yoyo_lock").fetchone()[0] == 0
        assert migrate.migrate(db, lock_timeout=0.3) == migration_ids()


def test_break_lock_refuses_while_a_migrate_runs(db_url: str) -> None:
    with Database(url=db_url) as db, psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("insert into yoyo_lock (locked, ctime, pid) values (1, now(), 4242)")
        conn.execute("select pg_advisory_lock(%s)", (migrate.MIGRATE_LOCK_KEY,))  # a live migrate
        with pytest.raises(MigrationError, match="running"):
            migrate.break_lock(db)
        assert conn.execute("select pid from yoyo_lock").fetchall() == [(4242,)]
        conn.execute("select pg_advisory_unlock(%s)", (migrate.MIGRATE_LOCK_KEY,))
        migrate.break_lock(db)
        assert conn.execute("select count(*) from yoyo_lock").fetchone()[0] == 0
