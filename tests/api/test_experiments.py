"""Experiments through the ResultsDB API: names, the status machine, listing."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import psycopg
import pytest

import resultsdb
from resultsdb.api import ResultsDB
from resultsdb.errors import AlreadyExists, InvalidInput, InvalidTransition, NotFound
from resultsdb.records import Experiment
from tests.api.conftest import MISSING_ID, raw_one


def test_start_and_get_experiment(rdb: ResultsDB, conn: psycopg.Connection) -> None:
    exp = rdb.start_experiment("momentum", "MA crossover", tags=["btc", "daily"])
    assert exp.status == "active"
    assert exp.tags == {"btc": True, "daily": True}
    assert raw_one(conn, "select name from experiments where id = %s", exp.id) == "momentum"
    assert rdb.get_experiment(exp) == exp
    assert rdb.get_experiment(exp.id) == exp
    assert rdb.get_experiment(str(exp.id)) == exp
    assert rdb.get_experiment("momentum") == exp


def test_get_experiment_not_found(rdb: ResultsDB) -> None:
    with pytest.raises(NotFound):
        rdb.get_experiment("nope")
    with pytest.raises(NotFound):
        rdb.get_experiment(MISSING_ID)


def test_start_experiment_name_clash(rdb: ResultsDB, unchanged) -> None:
    rdb.start_experiment("momentum")
    with unchanged(), pytest.raises(AlreadyExists) as err:
        rdb.start_experiment("momentum", "again")
    assert err.value.table == "experiments"
    assert "name" in str(err.value)


def test_start_experiment_exist_ok_returns_the_live_one(rdb: ResultsDB, unchanged) -> None:
    first = rdb.start_experiment("momentum", "first", tags={"a": 1})
    with unchanged():
        again = rdb.start_experiment("momentum", "other description", tags={"b": 2}, exist_ok=True)
    assert again == first  # the stored one, whatever description and tags were passed


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"name": ""}, "name"),
    ({"name": "x" * 256}, "name"),
    ({"name": "momentum", "tags": "btc,daily"}, "tags"),
    ({"name": "momentum", "tags": {"lr": float("nan")}}, "tags"),
    ({"name": "momentum", "description": "x" * 10_001}, "description"),
])
def test_start_experiment_rejects_bad_input(rdb: ResultsDB, unchanged, kwargs: dict, field: str) -> None:
    with unchanged(), pytest.raises(InvalidInput) as err:
        rdb.start_experiment(**kwargs)
    assert err.value.field == field


def test_start_experiment_exist_ok_race(db_url: str, conn: psycopg.Connection) -> None:
    # Two threads, each with its own ResultsDB, create the same name at the same moment.
    barrier = threading.Barrier(2)

    def create(_: int) -> Experiment:
        with ResultsDB(url=db_url) as own:
            own.experiments(limit=1)  # connect first, so the two inserts really race
            barrier.wait()
            return own.start_experiment("raced", exist_ok=True)

    for _ in range(5):
        conn.execute("delete from experiments")
        with ThreadPoolExecutor(2) as pool:
            a, b = pool.map(create, range(2))
        assert a.id == b.id
        assert raw_one(conn, "select count(*) from experiments where name = 'raced'") == 1


def test_start_experiment_race_without_exist_ok(db_url: str, conn: psycopg.Connection) -> None:
    barrier = threading.Barrier(2)

    def create(_: int) -> str:
        with ResultsDB(url=db_url) as own:
            own.experiments(limit=1)
            barrier.wait()
            try:
                own.start_experiment("raced")
            except AlreadyExists:
                return "clash"
            return "made"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(create, range(2)))
    assert outcomes == ["clash", "made"]
    assert raw_one(conn, "select count(*) from experiments") == 1


def test_archive_frees_the_name(rdb: ResultsDB) -> None:
    old = rdb.start_experiment("momentum")
    archived = rdb.archive_experiment(old)
    assert archived.status == "archived"
    assert archived.updated_at >= old.updated_at
    new = rdb.start_experiment("momentum")
    assert new.id != old.id
    assert rdb.get_experiment("momentum") == new  # the name means the live one


def test_reactivate_clash(rdb: ResultsDB, unchanged, conn: psycopg.Connection) -> None:
    old = rdb.archive_experiment(rdb.start_experiment("momentum"))
    rdb.start_experiment("momentum")
    with unchanged(), pytest.raises(AlreadyExists):
        rdb.reactivate_experiment(old.id)
    assert raw_one(conn, "select status from experiments where id = %s", old.id) == "archived"


def test_reactivate(rdb: ResultsDB) -> None:
    exp = rdb.start_experiment("momentum")
    assert rdb.archive_experiment(exp).status == "archived"
    assert rdb.reactivate_experiment(exp.id).status == "active"
    assert rdb.complete_experiment("momentum").status == "completed"
    assert rdb.reactivate_experiment(exp).status == "active"
    assert rdb.fail_experiment(exp).status == "failed"
    assert rdb.reactivate_experiment(exp).status == "active"


def test_complete_fail_archive(rdb: ResultsDB) -> None:
    a, b = rdb.start_experiment("a"), rdb.start_experiment("b")
    assert rdb.complete_experiment(a).status == "completed"
    assert rdb.fail_experiment(b).status == "failed"
    assert rdb.archive_experiment(a).status == "archived"
    assert rdb.archive_experiment(b).status == "archived"


@pytest.mark.parametrize(("setup", "action", "from_status", "to_status"), [
    (["complete_experiment"], "complete_experiment", None, None),  # same status: a no-op
    (["complete_experiment"], "fail_experiment", "completed", "failed"),
    (["fail_experiment"], "complete_experiment", "failed", "completed"),
    (["archive_experiment"], "complete_experiment", "archived", "completed"),
    (["archive_experiment"], "fail_experiment", "archived", "failed"),
    ([], "reactivate_experiment", None, None),  # active -> active: a no-op
])
def test_invalid_experiment_transitions(rdb: ResultsDB, conn: psycopg.Connection, setup: list[str],
                                        action: str, from_status: str | None,
                                        to_status: str | None) -> None:
    exp = rdb.start_experiment("momentum")
    for step in setup:
        exp = getattr(rdb, step)(exp.id)
    if from_status is None:
        assert getattr(rdb, action)(exp.id).status == exp.status
        return
    with pytest.raises(InvalidTransition) as err:
        getattr(rdb, action)(exp.id)
    assert (err.value.from_status, err.value.to_status) == (from_status, to_status)
    assert raw_one(conn, "select status from experiments where id = %s", exp.id) == from_status


def test_status_change_of_missing_experiment(rdb: ResultsDB) -> None:
    with pytest.raises(NotFound):
        rdb.complete_experiment(MISSING_ID)
    with pytest.raises(NotFound):
        rdb.archive_experiment("no such name")
    with pytest.raises(InvalidInput):
        rdb.archive_experiment(42)  # type: ignore[arg-type]


def test_an_archived_experiment_is_not_found_by_name(rdb: ResultsDB) -> None:
    exp = rdb.archive_experiment(rdb.start_experiment("momentum"))
    with pytest.raises(NotFound):
        rdb.reactivate_experiment("momentum")  # names mean live experiments: use the id
    assert rdb.reactivate_experiment(exp.id).status == "active"


# -- listing ---------------------------------------------------------------------------

def test_experiments_filters(rdb: ResultsDB, conn: psycopg.Connection) -> None:
    a = rdb.start_experiment("a", tags={"asset": "btc", "freq": "1d"})
    b = rdb.start_experiment("b", tags={"asset": "eth"})
    c = rdb.start_experiment("c", tags=["gpu"])
    rdb.archive_experiment(c)
    conn.execute("update experiments set created_at = created_at - interval '10 days' where id = %s",
                 (a.id,))
    ids = lambda page: [e.id for e in page]  # noqa: E731

    assert ids(rdb.experiments()) == sorted([a.id, b.id, c.id])  # by id
    assert ids(rdb.experiments(status="active")) == sorted([a.id, b.id])
    assert ids(rdb.experiments(status="archived")) == [c.id]
    assert ids(rdb.experiments(tags={"asset": "btc"})) == [a.id]
    assert ids(rdb.experiments(tags=["gpu"])) == [c.id]
    assert ids(rdb.experiments(tags={"asset": "btc", "freq": "1h"})) == []
    cutoff = b.created_at - timedelta(days=1)
    assert ids(rdb.experiments(created_before=cutoff)) == [a.id]
    assert ids(rdb.experiments(created_after=cutoff)) == sorted([b.id, c.id])
    assert ids(rdb.experiments(status="active", created_after=cutoff)) == [b.id]


@pytest.mark.parametrize("kwargs", [
    {"created_after": datetime(2024, 1, 1)},  # naive
    {"created_before": "2024-01-01"},
    {"tags": 5},
    {"limit": 0},
    {"limit": 1001},
    {"cursor": "garbage"},
])
def test_experiments_rejects_bad_filters(rdb: ResultsDB, kwargs: dict) -> None:
    with pytest.raises(InvalidInput):
        rdb.experiments(**kwargs)


def test_experiments_cursor_pagination(rdb: ResultsDB) -> None:
    made = [rdb.start_experiment(f"e{i:02d}").id for i in range(23)]
    seen, cursor, pages = [], None, 0
    while True:
        page = rdb.experiments(limit=5, cursor=cursor)
        seen += [e.id for e in page]
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    # Id order: creation order to the millisecond (UUIDv7; within one millisecond, random).
    assert seen == sorted(made)
    assert pages == 5


def test_experiments_cursor_of_another_list_is_rejected(rdb: ResultsDB, exp: Experiment) -> None:
    for i in range(3):
        rdb.start_run(exp, f"r{i}")
    run_cursor = rdb.runs(limit=2).next_cursor
    assert run_cursor is not None
    with pytest.raises(InvalidInput) as err:
        rdb.experiments(cursor=run_cursor)
    assert err.value.field == "cursor"


# -- the service object ------------------------------------------------------------------

def test_connect_and_context_manager(db_url: str) -> None:
    with resultsdb.connect(db_url, pool_max_size=3, statement_timeout_ms=5000) as db:
        assert (db.settings.pool_max_size, db.settings.statement_timeout_ms) == (3, 5000)
        assert db.start_experiment("via-connect").status == "active"
    with ResultsDB(url=db_url) as db:
        assert db.get_experiment("via-connect").name == "via-connect"


def test_open_close(db_url: str, conn: psycopg.Connection) -> None:
    db = ResultsDB(url=db_url).open()
    try:
        db.start_experiment("opened")
    finally:
        db.close()
    others = ("select count(*) from pg_stat_activity "
              "where datname = current_database() and pid <> pg_backend_pid()")

    def backends_gone() -> bool:  # a closed connection's backend exits a moment later
        deadline = time.monotonic() + 5
        while raw_one(conn, others) and time.monotonic() < deadline:
            time.sleep(0.02)
        return raw_one(conn, others) == 0

    assert raw_one(conn, "select count(*) from experiments") == 1
    assert backends_gone()  # close() released every pooled connection
    with db:  # a closed ResultsDB opens again on use
        assert db.get_experiment("opened").name == "opened"
        assert raw_one(conn, others) >= 1
    assert backends_gone()


def test_repr_masks_the_password(db_url: str) -> None:
    from psycopg.conninfo import make_conninfo

    secret_url = make_conninfo(db_url, password="s3cret-pw")
    db = ResultsDB(url=secret_url)
    assert "s3cret-pw" not in repr(db)
    assert "s3cret-pw" not in repr(db.settings)


def test_transaction_groups_calls(rdb: ResultsDB, conn: psycopg.Connection, unchanged) -> None:
    with rdb.transaction():
        exp = rdb.start_experiment("grouped")
        run = rdb.start_run(exp, "r")
        rdb.log_summary_metrics(run, {"sharpe": 1.0})
    assert raw_one(conn, "select count(*) from runs where experiment_id = %s", exp.id) == 1
    with unchanged(), pytest.raises(ZeroDivisionError):
        with rdb.transaction():
            other = rdb.start_experiment("rolled back")
            rdb.start_run(other, "r")
            1 / 0  # noqa: B018
    # A failed call inside is a savepoint: the calls before it still commit together.
    with rdb.transaction():
        kept = rdb.start_experiment("kept")
        with pytest.raises(AlreadyExists):
            rdb.start_experiment("kept")
        rdb.start_run(kept, "r")
    assert raw_one(conn, "select count(*) from runs where experiment_id = %s", kept.id) == 1


def test_default_artifact_store_follows_settings(db_url: str, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RESULTSDB_ARTIFACTS_URL", (tmp_path / "arts").as_uri())
    with ResultsDB(url=db_url) as db:
        exp = db.start_experiment("m")
        run = db.start_run(exp)
        saved = db.save_model(run, b"weights", "dqn")
        assert db.artifact_store.get(saved.artifact.content_hash) == b"weights"
    assert any((tmp_path / "arts").rglob("*"))
