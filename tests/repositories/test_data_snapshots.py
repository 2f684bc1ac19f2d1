from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest

from resultsdb.db import Database
from resultsdb.errors import InvalidInput, NotFound, ReferenceNotFound
from resultsdb.records import DataSnapshot, Run
from resultsdb.repositories import data_snapshots
from tests.repositories.conftest import MISSING_ID, T0

FEATURES = hashlib.sha256(b"close,rsi_14").hexdigest()


def make(db: Database, run: Run, **data: object) -> DataSnapshot:
    return db.write(lambda c: data_snapshots.create(c, {
        "run_id": run.id, "data_source": "binance:BTCUSDT:1h", "start_date": T0,
        "end_date": T0 + timedelta(days=30), "features_hash": FEATURES, **data}))


def test_create_get_list(db: Database, run: Run) -> None:
    first = make(db, run)
    second = make(db, run, storage_path="s/2.parquet", content_hash=FEATURES, size_bytes=0)
    assert (first.start_date, first.storage_path) == (T0, None)
    assert second.size_bytes == 0
    assert db.read(lambda c: data_snapshots.get(c, first.id)) == first
    assert db.read(lambda c: data_snapshots.by_run(c, run.id)) == [first, second]
    page = db.read(lambda c: data_snapshots.list_page(c, limit=1))
    assert page == [first]
    assert db.read(lambda c: data_snapshots.list_page(c, after=first.id)) == [second]


def test_a_single_instant_is_a_valid_range(db: Database, run: Run) -> None:
    assert make(db, run, end_date=T0).end_date == T0


@pytest.mark.parametrize(("data", "field"), [
    ({"end_date": T0 - timedelta(seconds=1)}, "end_date"),
    ({"start_date": datetime(2024, 1, 1)}, "start_date"),
    ({"features_hash": FEATURES.upper()}, "features_hash"),
    ({"features_hash": None}, "features_hash"),
    ({"data_source": ""}, "data_source"),
    ({"data_source": "x" * 1025}, "data_source"),
    ({"storage_path": "p" * 2049}, "storage_path"),
    ({"size_bytes": -5}, "size_bytes"),
    ({"run_id": 12}, "run_id"),
])
def test_create_rejects_bad_input(db: Database, run: Run, unchanged, data: dict[str, object],
                                  field: str) -> None:
    with unchanged(), pytest.raises(InvalidInput) as err:
        make(db, run, **data)
    assert err.value.field == field
    assert f"data_snapshots.{field}" in str(err.value)


def test_create_needs_an_existing_run(db: Database, run: Run, unchanged) -> None:
    with unchanged(), pytest.raises(ReferenceNotFound) as err:
        db.write(lambda c: data_snapshots.create(c, {
            "run_id": MISSING_ID, "data_source": "x", "start_date": T0, "end_date": T0,
            "features_hash": FEATURES}))
    assert err.value.field == "run_id"


def test_update(db: Database, run: Run) -> None:
    snap = make(db, run)
    stored = db.write(lambda c: data_snapshots.update(
        c, snap.id, storage_path="snapshots/a.parquet", content_hash=FEATURES, size_bytes=1024))
    assert (stored.storage_path, stored.size_bytes) == ("snapshots/a.parquet", 1024)
    assert stored.features_hash == snap.features_hash
    for changes, field in (({"end_date": T0}, "end_date"), ({"size_bytes": -1}, "size_bytes"),
                           ({"content_hash": "nope"}, "content_hash")):
        with pytest.raises(InvalidInput) as err:
            db.write(lambda c, ch=changes: data_snapshots.update(c, snap.id, **ch))
        assert err.value.field == field
    assert db.read(lambda c: data_snapshots.get(c, snap.id)) == stored


def test_missing(db: Database, run: Run, unchanged) -> None:
    make(db, run)
    with unchanged():
        with pytest.raises(NotFound) as err:
            db.read(lambda c: data_snapshots.get(c, MISSING_ID))
        assert err.value.table == "data_snapshots"
        with pytest.raises(NotFound):
            db.write(lambda c: data_snapshots.update(c, MISSING_ID, storage_path="x"))
        with pytest.raises(NotFound):
            db.write(lambda c: data_snapshots.delete(c, MISSING_ID))


def test_delete(db: Database, run: Run, counts) -> None:
    snap = make(db, run)
    db.write(lambda c: data_snapshots.delete(c, snap.id))
    assert counts()["data_snapshots"] == 0
