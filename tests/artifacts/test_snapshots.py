"""Data snapshots through the store: a features DataFrame as Parquet, hashed by content."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pytest

from resultsdb.artifacts import ArtifactStore, features_hash, load_snapshot, store_snapshot, verify
from resultsdb.db import Database
from resultsdb.errors import ArtifactCorrupt, InvalidInput
from resultsdb.records import Run
from resultsdb.repositories import data_snapshots
from tests.artifacts.test_store import overwrite

START, END = datetime(2023, 1, 1, tzinfo=UTC), datetime(2023, 1, 3, tzinfo=UTC)


def frame(seed: int = 1, rows: int = 48) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.date_range(START, periods=rows, freq="h", name="ts")
    return pd.DataFrame({"close": rng.normal(100, 5, rows), "rsi_14": rng.uniform(0, 100, rows),
                         "asset": ["BTCUSDT"] * rows}, index=index)


def test_features_hash_follows_the_data_not_the_object() -> None:
    df = frame()
    assert features_hash(df) == features_hash(df.copy()) == features_hash(frame())
    changed = df.copy()
    changed.iloc[3, 0] += 1e-9
    assert features_hash(changed) != features_hash(df)
    assert features_hash(df.rename(columns={"close": "open"})) != features_hash(df)
    assert features_hash(df.astype({"close": "float32"})) != features_hash(df)
    assert features_hash(df.set_axis(df.index + pd.Timedelta("1h"))) != features_hash(df)
    with pytest.raises(InvalidInput):
        features_hash([1, 2, 3])  # type: ignore[arg-type]


def test_a_snapshot_round_trips_through_the_store_and_verifies(
        db: Database, store: ArtifactStore, run: Run, conn: psycopg.Connection[Any]) -> None:
    df = frame()
    snap = store_snapshot(db, store, df, run_id=run.id, data_source="binance:BTCUSDT:1h",
                          start_date=START, end_date=END)
    assert snap.features_hash == features_hash(df)
    assert snap.content_hash is not None and snap.size_bytes and snap.storage_path
    assert snap.storage_path.endswith(snap.content_hash)
    assert db.read(lambda c: data_snapshots.get(c, snap.id)) == snap
    pd.testing.assert_frame_equal(load_snapshot(store, snap), df, check_freq=False)
    # The same data again: one blob, two snapshot rows sharing it.
    again = store_snapshot(db, store, frame(), run_id=run.id, data_source="binance:BTCUSDT:1h",
                           start_date=START, end_date=END)
    assert again.content_hash == snap.content_hash and again.features_hash == snap.features_hash
    assert conn.execute("select count(*) from blobs").fetchone()[0] == 1
    assert verify(db, store).ok


def test_a_damaged_snapshot_is_refused(db: Database, store: ArtifactStore, run: Run) -> None:
    snap = store_snapshot(db, store, frame(), run_id=run.id, data_source="binance:BTCUSDT:1h",
                          start_date=START, end_date=END)
    assert snap.content_hash is not None
    overwrite(store, snap.content_hash, b"PAR1 not really")
    with pytest.raises(ArtifactCorrupt):
        load_snapshot(store, snap)
    [problem] = verify(db, store).problems
    assert [(r.table_name, r.row_id) for r in problem.references] == [("data_snapshots", snap.id)]


def test_a_snapshot_without_a_stored_copy_cannot_be_loaded(db: Database, store: ArtifactStore,
                                                          run: Run) -> None:
    bare = db.write(lambda c: data_snapshots.create(c, {
        "run_id": run.id, "data_source": "s", "start_date": START, "end_date": END,
        "features_hash": features_hash(frame())}))
    with pytest.raises(InvalidInput, match="no stored copy"):
        load_snapshot(store, bare)
