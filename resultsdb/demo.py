"""``make demo``: start the database, migrate, seed, and show what is stored."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from resultsdb import migrate, seed
from resultsdb.config import Settings
from resultsdb.db import Database


def main(settings: Settings, emit: Callable[..., None]) -> None:
    started = time.perf_counter()
    with Database(settings) as db:
        applied = migrate.migrate(db)
        summary = seed.seed(db)

        def counts(conn: Any) -> list[Any]:
            return db.registry.many(conn, "table_row_counts")

        def partitions(conn: Any) -> list[Any]:
            return db.registry.many(conn, "series_partitions")

        emit({"database": db.masked_url, "migrations applied now": ", ".join(applied) or "none",
              "seed": summary.describe()}, title="resultsdb demo")
        emit(db.read(counts), title="rows stored")
        emit(db.read(partitions), title="series partitions (one per month of run creation)")
    emit({"elapsed_s": round(time.perf_counter() - started, 2),
          "next": "make psql, then: \\d+ equity_curves"}, title="done")
