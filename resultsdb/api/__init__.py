"""``ResultsDB``: what pipeline stages call.

One object per process (or per thread pool): it owns a connection pool and is
thread-safe; every public method is one transaction (writes retry transient
failures) and takes and returns records or plain values, never cursors.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from resultsdb.api.analytics import AnalyticsAPI
from resultsdb.api.base import Page
from resultsdb.api.configs import ConfigDiff, ConfigsAPI
from resultsdb.api.experiments import ExperimentsAPI
from resultsdb.api.models import ModelLineage, ModelsAPI, SavedModel
from resultsdb.api.series import SeriesAPI
from resultsdb.api.trials import TrialsAPI
from resultsdb.config import Settings
from resultsdb.connection import Connection
from resultsdb.db import Database

__all__ = ["ConfigDiff", "ModelLineage", "Page", "ResultsDB", "SavedModel", "connect"]


class ResultsDB(ExperimentsAPI, ConfigsAPI, ModelsAPI, TrialsAPI, SeriesAPI, AnalyticsAPI):
    """The results database. ``with ResultsDB() as db: ...`` or ``resultsdb.connect()``.

    Built from :class:`~resultsdb.config.Settings` (environment ``RESULTSDB_*``) or
    a URL; with neither, the embedded PostgreSQL under ``./.resultsdb`` is used.
    """

    def __init__(self, settings: Settings | None = None, *, url: str | None = None,
                 artifact_store: Any = None) -> None:
        self.db = Database(settings, url=url)
        self._artifact_store = artifact_store

    def __repr__(self) -> str:
        return f"ResultsDB({self.db.masked_url})"

    @property
    def settings(self) -> Settings:
        return self.db.settings

    @property
    def artifact_store(self) -> Any:
        """The artifact store (RESULTSDB_ARTIFACTS_URL; default: files under the data dir)."""
        if self._artifact_store is None:
            from resultsdb.artifacts import ArtifactStore

            self._artifact_store = ArtifactStore(self.settings.resolved_artifacts_url())
        return self._artifact_store

    def open(self) -> ResultsDB:
        self.db.open()
        return self

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> ResultsDB:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Group several calls into one transaction: inside it each call is a savepoint,
        and everything commits (or rolls back) together at the end."""
        with self.db.transaction() as conn:
            yield conn


def connect(url: str | None = None, **settings: Any) -> ResultsDB:
    """A ResultsDB for ``url`` (default: RESULTSDB_URL, else the embedded server).

    Extra keyword arguments are :class:`~resultsdb.config.Settings` fields, e.g.
    ``connect(pool_max_size=4, statement_timeout_ms=30_000)``.
    """
    base = Settings(**settings) if settings else Settings()
    return ResultsDB(base, url=url).open()
