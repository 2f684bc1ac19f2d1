"""Looking around the database: what ``resultsdb ls`` and ``resultsdb show`` print.

Listings page like the API's (keyset cursors); :func:`find` turns an id or a name
into the experiment, run, model or model version it names, with the details a
person wants beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from resultsdb.api import ResultsDB
from resultsdb.api.base import Page, decode_cursor, encode_cursor
from resultsdb.errors import InvalidInput, NotFound
from resultsdb.inputs import as_limit, is_uuid
from resultsdb.records import ModelListing, Record, Trial, TrialStatus
from resultsdb.repositories import catalog
from resultsdb.repositories import configurations as configs_repo
from resultsdb.repositories import experiments as experiments_repo
from resultsdb.repositories import models as models_repo
from resultsdb.repositories.catalog import Kind
from resultsdb.repositories.common import Connection


def parse_tags(pairs: list[str] | None) -> dict[str, str] | None:
    """``["k=v", ...]`` as a tags filter (values compared as strings); None when empty."""
    if not pairs:
        return None
    tags: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInput(f"tag: expected KEY=VALUE, got {pair!r}", field="tag")
        tags[key] = value
    return tags


def models(rdb: ResultsDB, *, experiment: Any = None, limit: int = 100,
           cursor: str | None = None) -> Page[ModelListing]:
    """Models, oldest first, with latest and production version numbers, a page at a time."""
    lim = as_limit(limit)
    after = decode_cursor(cursor, "models")[1] if cursor else None

    def go(conn: Connection) -> list[ModelListing]:
        exp_id = experiments_repo.resolve(conn, experiment) if experiment is not None else None
        return models_repo.listing(conn, experiment_id=exp_id, after=after, limit=lim)

    rows = rdb.db.read(go)
    return Page(rows, encode_cursor("models", "", rows[-1].id) if len(rows) == lim else None)


def trials(rdb: ResultsDB, run: Any, *, status: TrialStatus | None = None,
           limit: int | None = None) -> list[Trial]:
    """A search run's trials in number order, only those with ``status`` if given."""
    rows = [t for t in rdb.trials(run) if status is None or t.status == status]
    return rows[:as_limit(limit)] if limit is not None else rows


@dataclass
class Found:
    """What an id or name refers to: the record, and details to show beside it."""

    kind: Kind
    record: Record
    details: dict[str, Any] = field(default_factory=dict)


def kind_of(rdb: ResultsDB, ident: str) -> tuple[Kind, UUID]:
    """(kind, id) of an id, or of a live experiment's or a model's name; NotFound otherwise."""
    if is_uuid(ident):
        row_id = UUID(str(ident))
        kind = rdb.db.read(lambda c: catalog.kind_of_id(c, row_id))
        if kind is None:
            raise NotFound(f"no experiment, run, model or model version has id {row_id}",
                           key={"id": row_id})
        return kind, row_id
    try:
        return "experiment", rdb.get_experiment(ident).id
    except NotFound:
        pass
    try:
        return "model", rdb.get_model(ident).id
    except NotFound:
        raise NotFound(f"no live experiment or model is named {ident!r}",
                       key={"name": ident}) from None


def find(rdb: ResultsDB, ident: str) -> Found:
    """The experiment, run, model or model version ``ident`` names, with its details."""
    kind, row_id = kind_of(rdb, ident)
    if kind == "experiment":
        return Found(kind, rdb.get_experiment(row_id), {"summary": rdb.experiment_summary(row_id)})
    if kind == "run":
        run = rdb.get_run(row_id)
        details: dict[str, Any] = {
            "configurations": rdb.db.read(lambda c: configs_repo.by_run(c, row_id))}
        if run.trial_count:
            details["trials"] = run.trial_count
        return Found(kind, run, details)
    if kind == "model":
        return Found(kind, rdb.get_model(row_id), {"summary": rdb.model_summary(row_id),
                                                   "versions": rdb.list_versions(row_id)})
    version = rdb.db.read(lambda c: models_repo.get_version(c, row_id))
    return Found(kind, version, {"history": rdb.version_history(row_id)})
