"""Functions run in child processes (spawn: importable by module path, no fixtures)."""

from __future__ import annotations


def store_worker(url: str, store_url: str, payload: bytes, start_event: object) -> str:
    """store_blob the same bytes as every other process; the sha256 it got back."""
    from resultsdb.artifacts import ArtifactStore, store_blob
    from resultsdb.db import Database

    store = ArtifactStore(store_url)
    with Database(url=url) as db:
        db.read(lambda c: c.execute("select 1").fetchone())  # connected before the signal
        start_event.wait()  # type: ignore[attr-defined]  # a Barrier proxy
        return str(store_blob(db, store, payload).sha256)
