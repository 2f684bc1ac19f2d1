"""``ResultsDB``: what pipeline stages call.

One object per process (or per thread pool): it owns a connection pool and is
thread-safe; every public method is one transaction (writes retry transient
failures) and takes and returns records or plain values, never cursors.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import ValidationError

from resultsdb.api.analytics import AnalyticsAPI
from resultsdb.api.base import Page
from resultsdb.api.configs import ConfigDiff, ConfigsAPI
from resultsdb.api.experiments import ExperimentsAPI
from resultsdb.api.models import ModelLineage, ModelsAPI, SavedModel
from resultsdb.api.search import SearchAPI
from resultsdb.api.series import SeriesAPI
from resultsdb.api.tearsheet import TearSheetAPI
from resultsdb.api.trades import TradesAPI
from resultsdb.api.trials import TrialsAPI
from resultsdb.config import Settings
from resultsdb.connection import Connection
from resultsdb.db import Database
from resultsdb.errors import InvalidInput
from resultsdb.fields import text_problem
from resultsdb.inputs import invalid_input

__all__ = ["ConfigDiff", "ModelLineage", "Page", "ResultsDB", "SavedModel", "connect"]


class ResultsDB(ExperimentsAPI, ConfigsAPI, ModelsAPI, TrialsAPI, SeriesAPI, AnalyticsAPI,
                SearchAPI, TradesAPI, TearSheetAPI):
    """The results database. ``with ResultsDB() as db: ...`` or ``resultsdb.connect()``.

    Built from :class:`~resultsdb.config.Settings` (environment ``RESULTSDB_*``) or
    a URL; with neither, the embedded PostgreSQL under ``./.resultsdb`` is used.
    """

    def __init__(self, settings: Settings | None = None, *, url: str | None = None,
                 artifact_store: Any = None) -> None:
        if settings is not None and not isinstance(settings, Settings):
            raise InvalidInput(f"settings: must be a resultsdb Settings, not {type(settings).__name__}",
                               field="settings")
        if url is not None:
            # The message never shows the URL: it may hold a password.
            problem = (text_problem(url) if isinstance(url, str)
                       else f"must be a string, not {type(url).__name__}")
            if problem is not None:
                raise InvalidInput(f"url: {problem}", field="url")
        with _settings_checked():
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
    unknown = sorted(set(settings) - set(Settings.model_fields))
    if unknown:  # Settings ignores what it does not know; a typo would go unnoticed
        raise InvalidInput(f"{unknown[0]}: not a setting (see resultsdb.Settings)", field=unknown[0])
    with _settings_checked():
        base = Settings(**settings) if settings else Settings()
    return ResultsDB(base, url=url).open()


@contextmanager
def _settings_checked() -> Iterator[None]:
    """Settings refused (an argument or a RESULTSDB_* variable) as InvalidInput naming the
    setting; pydantic's own error would show the value, which may be a password."""
    try:
        yield
    except ValidationError as exc:
        raise invalid_input(exc, table=None) from None
