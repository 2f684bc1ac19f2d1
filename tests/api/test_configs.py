"""Configurations (versions, lineage, diff) and data snapshots through the ResultsDB API."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from resultsdb.api import ConfigDiff, ResultsDB
from resultsdb.api.configs import Change
from resultsdb.errors import InvalidInput, NotFound, ReferenceNotFound
from resultsdb.records import Experiment, Run
from tests.api.conftest import MISSING_ID, SHA, T0, raw_one

# -- save_config ---------------------------------------------------------------------------


def test_save_config_versions_per_name(rdb: ResultsDB, run: Run, conn: psycopg.Connection) -> None:
    v1 = rdb.save_config(run, "strategy", "model", {"fast": 10})
    v2 = rdb.save_config(run, "strategy", "model", {"fast": 12}, parent=v1)
    other = rdb.save_config(run, "risk", "risk", {"stop": 0.1})
    v3 = rdb.save_config(run.id, "strategy", "model", {"fast": 14}, parent=v2.id)
    assert [v1.version, v2.version, v3.version] == [1, 2, 3]
    assert other.version == 1
    assert (v1.parent_id, v2.parent_id, v3.parent_id) == (None, v1.id, v2.id)
    assert v2.parameters == {"fast": 12}
    assert rdb.get_config(v2.id) == v2
    assert raw_one(conn, "select parent_id from configurations where id = %s", v3.id) == v2.id


def test_save_config_versions_under_concurrency(rdb: ResultsDB, run: Run) -> None:
    barrier = threading.Barrier(6)

    def save(i: int) -> int:
        barrier.wait()
        return rdb.save_config(run, "strategy", "model", {"i": i}).version

    with ThreadPoolExecutor(6) as pool:
        versions = sorted(pool.map(save, range(6)))
    assert versions == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize(("kwargs", "error", "field"), [
    ({"run": MISSING_ID}, ReferenceNotFound, "run_id"),
    ({"parent": MISSING_ID}, ReferenceNotFound, "parent_id"),
    ({"run": "not-an-id"}, InvalidInput, "run"),
    ({"name": ""}, InvalidInput, "name"),
    ({"config_type": "Model Type"}, InvalidInput, "config_type"),
    ({"parameters": {"lr": float("nan")}}, InvalidInput, "parameters"),
    ({"parameters": {"when": datetime(2024, 1, 1, tzinfo=UTC)}}, InvalidInput, "parameters"),
])
def test_save_config_rejects(rdb: ResultsDB, run: Run, unchanged, kwargs: dict, error: type,
                             field: str) -> None:
    args = {"run": run, "name": "strategy", "config_type": "model", "parameters": {"fast": 1}, **kwargs}
    with unchanged(), pytest.raises(error) as err:
        rdb.save_config(**args)
    assert err.value.field == field


def test_get_config_not_found(rdb: ResultsDB) -> None:
    with pytest.raises(NotFound):
        rdb.get_config(MISSING_ID)
    with pytest.raises(InvalidInput):
        rdb.get_config("v1")


# -- lineage and diff ----------------------------------------------------------------------

def test_config_lineage_root_to_leaf(rdb: ResultsDB, run: Run) -> None:
    root = rdb.save_config(run, "strategy", "model", {"fast": 10})
    mid = rdb.save_config(run, "strategy", "model", {"fast": 11}, parent=root)
    leaf = rdb.save_config(run, "tuned", "model", {"fast": 12}, parent=mid)
    rdb.save_config(run, "strategy", "model", {"fast": 99}, parent=root)  # a sibling branch
    assert [c.id for c in rdb.config_lineage(leaf)] == [root.id, mid.id, leaf.id]
    assert [c.id for c in rdb.config_lineage(root.id)] == [root.id]


def test_config_lineage_not_found(rdb: ResultsDB) -> None:
    with pytest.raises(NotFound):
        rdb.config_lineage(MISSING_ID)


def test_diff_nested_dotted_keys(rdb: ResultsDB, run: Run) -> None:
    a = rdb.save_config(run, "strategy", "model", {
        "fast": 10, "opt": {"lr": 0.001, "betas": [0.9, 0.99], "sched": {"kind": "cos"}},
        "stop": 0.1, "same": "x"})
    b = rdb.save_config(run, "strategy", "model", {
        "fast": 12, "opt": {"lr": 0.001, "betas": [0.9, 0.999], "sched": {"kind": "cos", "warmup": 5}},
        "take": 0.3, "same": "x"})
    d = rdb.diff(a, b)
    assert d.added == {"opt.sched.warmup": 5, "take": 0.3}
    assert d.removed == {"stop": 0.1}
    assert d.changed == [Change(key="fast", old=10, new=12),
                         Change(key="opt.betas", old=[0.9, 0.99], new=[0.9, 0.999])]
    assert d
    assert rdb.diff(a.id, str(a.id)) == ConfigDiff(added={}, removed={}, changed=[])
    assert not rdb.diff(a, a)
    reverse = rdb.diff(b, a)
    assert reverse.added == d.removed and reverse.removed == d.added


@pytest.mark.parametrize(("old", "new", "changed"), [
    (1, 1.0, False),
    (0, 0.0, False),
    (True, 1, True),
    (False, 0, True),
    (True, True, False),
    ([1, 2], [1.0, 2.0], False),
    ([True], [1], True),
    ({"k": True}, {"k": 1}, True),
    ([{"a": 1}], [{"a": 1.0}], False),
    (None, 0, True),
    ("1", 1, True),
])
def test_diff_value_equality(rdb: ResultsDB, run: Run, old: object, new: object, changed: bool) -> None:
    a = rdb.save_config(run, "c", "model", {"v": old})
    b = rdb.save_config(run, "c", "model", {"v": new})
    d = rdb.diff(a, b)
    assert bool(d.changed) is changed
    assert not d.added and not d.removed


def test_diff_a_key_that_becomes_a_section(rdb: ResultsDB, run: Run) -> None:
    a = rdb.save_config(run, "c", "model", {"opt": "adam"})
    b = rdb.save_config(run, "c", "model", {"opt": {"name": "adam"}})
    d = rdb.diff(a, b)
    assert (d.added, d.removed, d.changed) == ({"opt.name": "adam"}, {"opt": "adam"}, [])


def test_diff_not_found(rdb: ResultsDB, run: Run) -> None:
    a = rdb.save_config(run, "c", "model", {})
    with pytest.raises(NotFound):
        rdb.diff(a, MISSING_ID)
    with pytest.raises(InvalidInput):
        rdb.diff("x", a)


# -- data snapshots ------------------------------------------------------------------------

def test_register_snapshot(rdb: ResultsDB, run: Run, conn: psycopg.Connection) -> None:
    snap = rdb.register_snapshot(run, "binance:BTCUSDT:1h", T0, T0 + timedelta(days=365), SHA,
                                 "s3://data/btc.parquet")
    assert snap.run_id == run.id
    assert (snap.start_date, snap.end_date) == (T0, T0 + timedelta(days=365))
    assert snap.features_hash == SHA
    assert raw_one(conn, "select storage_path from data_snapshots where id = %s",
                   snap.id) == "s3://data/btc.parquet"
    one_day = rdb.register_snapshot(run, "binance:BTCUSDT:1h", T0, T0, SHA)  # start == end is fine
    assert one_day.storage_path is None


@pytest.mark.parametrize(("kwargs", "error", "field"), [
    ({"start_date": T0 + timedelta(days=2), "end_date": T0}, InvalidInput, "end_date"),
    ({"start_date": datetime(2024, 1, 1)}, InvalidInput, "start_date"),
    ({"end_date": datetime(2024, 6, 1)}, InvalidInput, "end_date"),
    ({"start_date": "2024-01-01T00:00:00Z"}, InvalidInput, "start_date"),
    ({"features_hash": "ABC"}, InvalidInput, "features_hash"),
    ({"features_hash": "AB" * 32}, InvalidInput, "features_hash"),
    ({"data_source": ""}, InvalidInput, "data_source"),
    ({"run": MISSING_ID}, ReferenceNotFound, "run_id"),
])
def test_register_snapshot_rejects(rdb: ResultsDB, run: Run, unchanged, kwargs: dict, error: type,
                                   field: str) -> None:
    args = {"run": run, "data_source": "binance", "start_date": T0,
            "end_date": T0 + timedelta(days=1), "features_hash": SHA, **kwargs}
    with unchanged(), pytest.raises(error) as err:
        rdb.register_snapshot(**args)
    assert err.value.field == field


def test_runs_using_snapshot(rdb: ResultsDB, exp: Experiment) -> None:
    end = T0 + timedelta(days=30)
    runs = [rdb.start_run(exp, f"r{i}") for i in range(4)]
    first = rdb.register_snapshot(runs[0], "binance", T0, end, SHA)
    rdb.register_snapshot(runs[1], "binance", T0, end, SHA)
    rdb.register_snapshot(runs[1], "binance", T0, end, SHA)  # registered twice: listed once
    rdb.register_snapshot(runs[2], "binance", T0, end, "cd" * 32)  # other features
    rdb.register_snapshot(runs[3], "binance", T0, end + timedelta(days=1), SHA)  # other range
    rdb.register_snapshot(runs[3], "coinbase", T0, end, SHA)  # other source
    expected = sorted([runs[0].id, runs[1].id])  # by id
    assert [r.id for r in rdb.runs_using_snapshot(first)] == expected
    assert [r.id for r in rdb.runs_using_snapshot(first.id)] == expected


def cjk(n: int, seed: int) -> str:
    """``n`` random CJK characters: 3 bytes each, and random, so TOAST cannot shrink them."""
    rng = random.Random(seed)
    return "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(n))


def test_a_data_source_of_1024_cjk_characters_is_stored_and_found(rdb: ResultsDB,
                                                                  exp: Experiment) -> None:
    """3 KB of data_source: data_snapshots_features_idx held it whole until migration 0009,
    and an index row that size outgrew its btree page (54000)."""
    source, other = cjk(1024, seed=1), cjk(1024, seed=2)
    runs = [rdb.start_run(exp, f"r{i}") for i in range(3)]
    first = rdb.register_snapshot(runs[0], source, T0, T0, SHA)
    rdb.register_snapshot(runs[1], source, T0, T0, SHA)
    rdb.register_snapshot(runs[2], other, T0, T0, SHA)  # same features, other source
    assert first.data_source == source
    assert [r.id for r in rdb.runs_using_snapshot(first)] == sorted([runs[0].id, runs[1].id])


def test_runs_using_snapshot_looks_the_source_up_in_the_features_index(
        rdb: ResultsDB, conn: psycopg.Connection) -> None:
    query = rdb.db.registry["runs_using_snapshot"]
    conn.execute("set enable_seqscan = off")  # an empty table: the planner would scan it
    plan = "\n".join(row[0] for row in conn.execute(
        "explain " + query.psycopg_text, {"snapshot_id": MISSING_ID}).fetchall())
    assert "data_snapshots_features_idx" in plan, plan
    cond = next(line for line in plan.splitlines() if "Index Cond" in line and "md5" in line)
    assert "features_hash" in cond and "start_date" in cond, plan


def test_runs_using_snapshot_not_found(rdb: ResultsDB) -> None:
    with pytest.raises(NotFound):
        rdb.runs_using_snapshot(MISSING_ID)
