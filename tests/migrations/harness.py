"""Data-migration harness: data written before a migration, migrated to head, must equal the
same data written at head.

For every step N in ``migrations/`` (so a new one is picked up by itself): a database is
migrated to the step before N, the data files valid there are loaded, the database is
migrated to head, and every table is compared, row by row and column by column, with a
database built from ``sql/schema/`` holding the whole dataset (the ``data/`` files are the
one logical dataset, as each schema version writes it). What a migration cannot reproduce
is excused in :data:`DIFFERENCES`, with the reason; everything else must match exactly.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from resultsdb import _paths, migrate
from resultsdb.db import Database
from tests.test_migrations import load_schema_files

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / "data"


@dataclass(frozen=True)
class Excused:
    """Columns of a table that a migration fills differently from a write at head, and why.
    No columns: the table's rows cannot be compared at all."""

    table: str
    columns: tuple[str, ...]
    reason: str


# Per migration: what data written before it legitimately differs, once migrated, from the
# same data written at head. Applies to every step whose migrate-to-head runs that migration.
DIFFERENCES: dict[str, tuple[Excused, ...]] = {
    "0002_artifact_blobs": (
        Excused("blobs", ("created_at", "last_claimed_at"),
                "the back-fill claims the blobs already referenced as it runs, so that gc's "
                "grace period starts then; a put at head claims them when it stores the bytes"),
    ),
    "0003_series_batches": (
        Excused("series_batches", (),
                "a batch identity is recorded by a bulk write made once 0003 is in; 0003 cannot "
                "invent one for series stored before it, which stay without"),
    ),
    "0013_trade_costs": (
        Excused("trade_logs", ("fee", "slippage"),
                "trades stored before 0013 have no fee or slippage to keep: they stay null (not "
                "known); test_0013_trade_costs checks that, and that the rest is kept"),
    ),
}


def steps(directory: Path | None = None) -> list[str]:
    """The migration ids in order, from ``migrations/`` or ``directory``."""
    found = (directory or _paths.migrations_dir()).glob("*.sql")
    return sorted(p.stem for p in found if not p.name.endswith(".rollback.sql"))


def data_files(up_to: str | None = None) -> list[Path]:
    """The data files valid at migration ``up_to`` (all of them for None), in order.

    ``data/NNNN.sql`` is written in the SQL of schema NNNN and adds what that version writes:
    the rows of a new table, the values of a new column. Ids and times are written out
    (``pg_temp.id``/``pg_temp.at`` from 0001.sql); an update disables the table's
    ``*_updated_at`` trigger around it, which would stamp now()."""
    files = sorted(DATA_DIR.glob("[0-9][0-9][0-9][0-9].sql"))
    return [f for f in files if up_to is None or f.stem <= up_to[:4]]


def excused_after(step: str) -> dict[str, frozenset[str] | None]:
    """What the migrations from ``step`` to head excuse: table -> columns (None: all rows)."""
    ids = steps()
    out: dict[str, frozenset[str] | None] = {}
    for m in ids[ids.index(step):]:
        for e in DIFFERENCES.get(m, ()):
            before = out.get(e.table, frozenset())
            out[e.table] = None if not e.columns or before is None else before | set(e.columns)
    return out


def load_data(conninfo: str, files: Iterable[Path]) -> None:
    """Run the data files in one transaction on one session (later files use the first's
    pg_temp helpers)."""
    with psycopg.connect(conninfo) as conn:
        for path in files:
            conn.execute(path.read_text(encoding="utf-8"))


@contextmanager
def migrations_up_to(step: str, directory: Path | None = None) -> Iterator[Path]:
    """A migrations folder holding the steps before ``step``: yoyo applies what it finds."""
    directory = directory or _paths.migrations_dir()
    ids = steps(directory)
    with tempfile.TemporaryDirectory(prefix="rdb_migrations_") as tmp:
        for m in ids[:ids.index(step)]:
            for suffix in (".sql", ".rollback.sql"):
                shutil.copy(directory / f"{m}{suffix}", tmp)
        yield Path(tmp)


def migrate_with_data(conninfo: str, step: str, directory: Path | None = None) -> None:
    """Migrate an empty database to the step before ``step``, write the data valid there,
    then migrate to head (the last step in ``directory``, default ``migrations/``). Before
    the first step there is no schema, so no data."""
    ids = steps(directory)
    i = ids.index(step)
    with Database(url=conninfo) as db:
        if i:
            with migrations_up_to(step, directory) as before:
                migrate.migrate(db, directory=before)
            load_data(conninfo, data_files(ids[i - 1]))
        migrate.migrate(db, directory=directory)


def build_reference(conninfo: str, *, with_data: bool) -> None:
    load_schema_files(conninfo)
    if with_data:
        load_data(conninfo, data_files())


# -- snapshots -----------------------------------------------------------------------


def _query(name: str) -> str:
    return (HERE / "sql" / f"{name}.sql").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    nullable: frozenset[str]
    key: tuple[str, ...]
    partitioned: bool
    # key -> column -> value, values as the server prints them (exact: -0, every digit)
    rows: dict[tuple[str, ...], dict[str, Any]]


def snapshot(conninfo: str) -> dict[str, Table]:
    """Every table's rows, keyed; the same schema and data give equal snapshots."""
    tables: dict[str, Table] = {}
    with psycopg.connect(conninfo, options="-c TimeZone=UTC") as conn:
        for name, columns, nullable, key, partitioned in conn.execute(_query("tables")).fetchall():
            stmt = sql.SQL(_query("rows")).format(table=sql.Identifier(name))
            texts = sorted(r[0] for r in conn.execute(stmt).fetchall())
            rows: dict[tuple[str, ...], dict[str, Any]] = {}
            seen: Counter[tuple[str, ...]] = Counter()
            for text in texts:
                row = json.loads(text, parse_float=str, parse_int=str)
                k = tuple(json.dumps(row[c], ensure_ascii=False, sort_keys=True) for c in key)
                seen[k] += 1  # a table keyed by all its columns may repeat a row
                rows[k if seen[k] == 1 else (*k, f"#{seen[k]}")] = row
            tables[name] = Table(name, tuple(columns), frozenset(nullable or ()), tuple(key),
                                 partitioned, rows)
    return tables


def differences(migrated: dict[str, Table], reference: dict[str, Table],
                excused: dict[str, frozenset[str] | None], *, limit: int = 12) -> list[str]:
    """Every way the migrated database differs from the reference, but for what is excused."""
    out: list[str] = []
    for name in sorted(set(migrated) ^ set(reference)):
        out.append(f"{name}: table only in {'migrated' if name in migrated else 'reference'}")
    for name in sorted(set(migrated) & set(reference)):
        if name in excused and excused[name] is None:
            continue
        ours, theirs = migrated[name], reference[name]
        if ours.columns != theirs.columns:
            out.append(f"{name}: columns {ours.columns} != {theirs.columns}")
            continue
        skip = excused.get(name) or frozenset()
        found: list[str] = []
        for k in sorted(set(ours.rows) | set(theirs.rows)):
            a, b = ours.rows.get(k), theirs.rows.get(k)
            where = f"{name} {({c: (a or b or {}).get(c) for c in theirs.key})}"
            if a is None or b is None:
                found.append(f"{where}: row only in {'reference' if a is None else 'migrated'}")
                continue
            found += [f"{where}.{c}: migrated {a[c]!r} != reference {b[c]!r}"
                      for c in theirs.columns if c not in skip and a[c] != b[c]]
        out += found[:limit] + ([f"{name}: ... {len(found) - limit} more"] if len(found) > limit else [])
    return out


def coverage_gaps(reference: dict[str, Table]) -> list[str]:
    """What the dataset leaves untried at head: a table without rows, a column never set,
    a nullable column never null."""
    gaps: list[str] = []
    for t in reference.values():
        if not t.rows:
            gaps.append(f"{t.name}: no rows")
            continue
        for c in t.columns:
            values = [r[c] for r in t.rows.values()]
            if all(v is None for v in values):
                gaps.append(f"{t.name}.{c}: never set")
            elif c in t.nullable and None not in values:
                gaps.append(f"{t.name}.{c}: nullable but never null")
    return gaps


def partitions_holding_rows(conninfo: str, table: str) -> int:
    with psycopg.connect(conninfo) as conn:
        stmt = sql.SQL(_query("partitions")).format(table=sql.Identifier(table))
        row = conn.execute(stmt).fetchone()
        return int(row[0]) if row else 0
