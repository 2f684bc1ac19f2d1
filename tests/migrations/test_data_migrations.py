"""Data written before each migration step, migrated to head, equals the same data written at
head (tests/migrations/harness.py); the dataset tries every table and column."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.migrations.conftest import Snapshot
from tests.migrations.harness import (
    DIFFERENCES,
    Table,
    coverage_gaps,
    data_files,
    differences,
    excused_after,
    migrate_with_data,
    partitions_holding_rows,
    snapshot,
    steps,
)

Reference = Callable[[bool], tuple[str, Snapshot]]


@pytest.mark.parametrize("step", steps())
def test_data_written_before_a_step_migrates_to_what_head_writes(
        step: str, scratch_db: str, reference: Reference) -> None:
    migrate_with_data(scratch_db, step)
    # Before the first step there is no schema to write data in: the reference is empty too.
    _, expected = reference(step != steps()[0])
    found = differences(snapshot(scratch_db), expected, excused_after(step))
    assert not found, (
        f"data written before {step}, migrated to head, differs from the same data written at "
        f"head (fix the migration with a new one, or excuse the columns in DIFFERENCES with "
        f"the reason):\n" + "\n".join(found))


def test_the_dataset_tries_every_table_and_column_at_head(reference: Reference) -> None:
    gaps = coverage_gaps(reference(True)[1])
    assert not gaps, (
        "the harness's dataset leaves these untried at head; a migration that adds them adds "
        "tests/migrations/data/NNNN.sql writing them:\n" + "\n".join(gaps))


def test_series_rows_sit_in_month_partitions_and_the_default(reference: Reference) -> None:
    conninfo, tables = reference(True)
    partitioned = [t.name for t in tables.values() if t.partitioned]
    assert partitioned
    # two months created by the data file, and DEFAULT for a month nobody created
    assert {t: partitions_holding_rows(conninfo, t) for t in partitioned} == dict.fromkeys(
        partitioned, 3)


def test_data_files_and_differences_name_real_migrations_tables_and_columns(
        reference: Reference) -> None:
    ids = steps()
    assert data_files() and data_files()[0].stem == ids[0][:4]
    for f in data_files():
        assert any(m.startswith(f"{f.stem}_") for m in ids), f"{f.name}: no migration {f.stem}"
    tables = reference(True)[1]
    for m, excused in DIFFERENCES.items():
        assert m in ids, f"DIFFERENCES: no migration {m}"
        for e in excused:
            assert e.table in tables and set(e.columns) <= set(tables[e.table].columns), e
            assert e.reason


def test_excused_differences_apply_to_the_steps_whose_path_runs_the_migration() -> None:
    ids = steps()
    blobs = ids.index("0002_artifact_blobs")
    assert excused_after(ids[0])["series_batches"] is None
    assert excused_after(ids[blobs])["blobs"] == frozenset({"created_at", "last_claimed_at"})
    assert "blobs" not in excused_after(ids[blobs + 1])
    costs = {"trade_logs": frozenset({"fee", "slippage"})}  # 0013 cannot know them
    assert excused_after(ids[ids.index("0003_series_batches") + 1]) == costs
    assert excused_after("0013_trade_costs") == costs


def _table(rows: dict[tuple[str, ...], dict[str, Any]]) -> Table:
    return Table("t", ("id", "x", "y"), frozenset({"y"}), ("id",), False, rows)


def test_differences_see_signed_zero_missing_and_extra_rows_and_honour_excuses() -> None:
    ref = _table({("1",): {"id": "1", "x": "0", "y": None}, ("2",): {"id": "2", "x": "1", "y": "a"}})
    same = _table(dict(ref.rows))
    assert differences({"t": same}, {"t": ref}, {}) == []

    changed = _table({("1",): {"id": "1", "x": "-0", "y": None}, ("3",): {"id": "3", "x": "1", "y": "a"}})
    found = differences({"t": changed}, {"t": ref}, {})
    assert found == ["t {'id': '1'}.x: migrated '-0' != reference '0'",
                     "t {'id': '2'}: row only in reference",
                     "t {'id': '3'}: row only in migrated"]
    assert len(differences({"t": changed}, {"t": ref}, {"t": frozenset({"x"})})) == 2
    assert differences({"t": changed}, {"t": ref}, {"t": None}) == []
    assert differences({}, {"t": ref}, {}) == ["t: table only in reference"]


def test_coverage_gaps_name_empty_tables_unset_and_never_null_columns() -> None:
    assert coverage_gaps({"t": _table({})}) == ["t: no rows"]
    one = _table({("1",): {"id": "1", "x": None, "y": "a"}})
    assert coverage_gaps({"t": one}) == ["t.x: never set", "t.y: nullable but never null"]
