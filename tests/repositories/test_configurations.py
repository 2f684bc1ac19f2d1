from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from resultsdb.db import Database
from resultsdb.errors import InvalidInput, NotFound, ReferenceNotFound, StillReferenced
from resultsdb.records import Configuration, Run
from resultsdb.repositories import configurations
from tests.repositories.conftest import MISSING_ID


def make(db: Database, run: Run, name: str = "dqn", **data: object) -> Configuration:
    return db.write(lambda c: configurations.create(
        c, {"run_id": run.id, "name": name, "config_type": "model", **data}))


def test_versions_count_per_name(db: Database, run: Run) -> None:
    a1, a2 = make(db, run, "a"), make(db, run, "a")
    b1 = make(db, run, "b")
    a3 = make(db, run, "a", parameters={"lr": 0.1})
    assert [a1.version, a2.version, a3.version, b1.version] == [1, 2, 3, 1]
    assert [c.id for c in db.read(lambda c: configurations.versions(c, "a"))] == [
        a1.id, a2.id, a3.id]
    assert db.read(lambda c: configurations.latest(c, "a")) == a3
    assert db.read(lambda c: configurations.get(c, a3.id)).parameters == {"lr": 0.1}


def test_concurrent_creators_get_distinct_versions(db: Database, run: Run) -> None:
    with ThreadPoolExecutor(max_workers=6) as pool:
        made = list(pool.map(lambda _: make(db, run, "race"), range(12)))
    assert sorted(c.version for c in made) == list(range(1, 13))


def test_parent_chain(db: Database, run: Run) -> None:
    v1 = make(db, run, "chain", parameters={"lr": 1e-3})
    v2 = make(db, run, "chain", parameters={"lr": 5e-4}, parent_id=v1.id)
    v3 = make(db, run, "chain", parameters={"lr": 5e-4, "gamma": 0.995}, parent_id=str(v2.id))
    assert v3.parent_id == v2.id
    assert [c.version for c in db.read(lambda c: configurations.lineage(c, v3.id))] == [1, 2, 3]
    assert db.read(lambda c: configurations.lineage(c, v1.id)) == [v1]
    assert db.read(lambda c: configurations.lineage(c, MISSING_ID)) == []


def test_parent_must_exist(db: Database, run: Run, unchanged) -> None:
    with unchanged(), pytest.raises(ReferenceNotFound) as err:
        make(db, run, parent_id=MISSING_ID)
    assert err.value.field == "parent_id"


@pytest.mark.parametrize(("data", "field"), [
    ({"config_type": "Model"}, "config_type"),
    ({"config_type": ""}, "config_type"),
    ({"parameters": [1, 2]}, "parameters"),
    ({"parameters": {"lr": float("nan")}}, "parameters"),
    ({"parameters": {"when": object()}}, "parameters"),
    ({"parent_id": "v1"}, "parent_id"),
    ({"version": 7}, "version"),
    ({"name": "n" * 256}, "name"),
])
def test_create_rejects_bad_input(db: Database, run: Run, unchanged, data: dict[str, object],
                                  field: str) -> None:
    with unchanged(), pytest.raises(InvalidInput) as err:
        make(db, run, **data)
    assert err.value.field == field
    assert f"configurations.{field}" in str(err.value)


def test_get_and_latest_missing(db: Database) -> None:
    with pytest.raises(NotFound) as err:
        db.read(lambda c: configurations.get(c, MISSING_ID))
    assert err.value.table == "configurations"
    with pytest.raises(NotFound) as err:
        db.read(lambda c: configurations.latest(c, "nothing"))
    assert err.value.key == {"name": "nothing"}


def test_list_page_and_by_run(db: Database, run: Run, experiment) -> None:
    made = [make(db, run, f"c{i}").id for i in range(5)]
    page1 = db.read(lambda c: configurations.list_page(c, limit=2))
    page2 = db.read(lambda c: configurations.list_page(c, limit=2, after=page1[-1].id))
    page3 = db.read(lambda c: configurations.list_page(c, limit=2, after=page2[-1].id))
    assert [c.id for c in page1 + page2 + page3] == made
    assert [c.id for c in db.read(lambda c: configurations.by_run(c, run.id))] == made
    assert db.read(lambda c: configurations.by_run(c, MISSING_ID)) == []


def test_update(db: Database, run: Run) -> None:
    root = make(db, run, "root")
    other = make(db, run, "other")
    moved = db.write(lambda c: configurations.update(c, other.id, parent_id=root.id,
                                                     config_type="training"))
    assert (moved.parent_id, moved.config_type) == (root.id, "training")
    assert moved.version == other.version
    detached = db.write(lambda c: configurations.update(c, other.id, parent_id=None))
    assert detached.parent_id is None


@pytest.mark.parametrize(("changes", "field"), [
    ({"parameters": {"lr": 1}}, "parameters"),
    ({"version": 9}, "version"),
    ({"name": "x"}, "name"),
    ({"config_type": "Bad Type"}, "config_type"),
    ({"parent_id": "nope"}, "parent_id"),
])
def test_update_rejects_bad_changes(db: Database, run: Run, changes: dict[str, object],
                                    field: str) -> None:
    config = make(db, run)
    with pytest.raises(InvalidInput) as err:
        db.write(lambda c: configurations.update(c, config.id, **changes))
    assert err.value.field == field
    assert db.read(lambda c: configurations.get(c, config.id)) == config


def test_update_refuses_a_cycle(db: Database, run: Run) -> None:
    v1 = make(db, run, "cyc")
    v2 = make(db, run, "cyc", parent_id=v1.id)
    v3 = make(db, run, "cyc", parent_id=v2.id)
    with pytest.raises(InvalidInput) as err:
        db.write(lambda c: configurations.update(c, v1.id, parent_id=v3.id))
    assert err.value.field == "parent_id"
    assert "own ancestor" in str(err.value)
    with pytest.raises(InvalidInput):
        db.write(lambda c: configurations.update(c, v1.id, parent_id=v1.id))
    assert db.read(lambda c: configurations.get(c, v1.id)).parent_id is None


def test_update_missing(db: Database) -> None:
    with pytest.raises(NotFound) as err:
        db.write(lambda c: configurations.update(c, MISSING_ID, config_type="data"))
    assert err.value.table == "configurations"


def test_delete(db: Database, run: Run, counts) -> None:
    parent = make(db, run)
    child = make(db, run, parent_id=parent.id)
    with pytest.raises(StillReferenced):
        db.write(lambda c: configurations.delete(c, parent.id))
    assert counts()["configurations"] == 2
    db.write(lambda c: configurations.delete(c, child.id))
    db.write(lambda c: configurations.delete(c, parent.id))
    assert counts()["configurations"] == 0
    with pytest.raises(NotFound):
        db.write(lambda c: configurations.delete(c, parent.id))
