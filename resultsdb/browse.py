"""Looking around the database: what ``resultsdb ls``, ``show`` and ``leaderboard`` print,
and :func:`resolve`, the one place a reference typed by a person becomes a row.

Listings page like the API's (keyset cursors); :func:`find` turns a reference into the
experiment, run, model or model version it names, with the details a person wants
beside it. Every CLI command that takes an id takes any form :func:`resolve` does.
"""

from __future__ import annotations

import string
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, get_args
from uuid import UUID

from resultsdb.api import ResultsDB
from resultsdb.api.base import Page, decode_cursor, encode_cursor
from resultsdb.db import Database
from resultsdb.errors import Ambiguous, InvalidInput, NotFound
from resultsdb.inputs import as_limit, is_uuid
from resultsdb.records import (
    LeaderboardRow,
    ModelListing,
    ModelVersionStatus,
    Record,
    RefKind,
    RefMatch,
    Trial,
    TrialStatus,
)
from resultsdb.repositories import analytics as analytics_repo
from resultsdb.repositories import configurations as configs_repo
from resultsdb.repositories import experiments as experiments_repo
from resultsdb.repositories import models as models_repo
from resultsdb.repositories import refs
from resultsdb.repositories.common import Connection

KINDS: tuple[RefKind, ...] = get_args(RefKind)
STAGES: tuple[ModelVersionStatus, ...] = get_args(ModelVersionStatus)
MIN_PREFIX = 4  # hex digits, as git asks of a short commit id
SHOWN = 10  # candidates an ambiguity error lists
_NOUNS: dict[RefKind, str] = {"experiment": "experiment", "run": "run", "model": "model",
                              "version": "model version"}
_TABLES: dict[RefKind, str] = {"experiment": "experiments", "run": "runs", "model": "models",
                               "version": "model_versions"}


# -- references: ids, short ids and names -------------------------------------------------


def resolve(db: Database, ref: str, kinds: RefKind | Collection[RefKind] | None = None
            ) -> RefMatch:
    """The experiment, run, model or model version ``ref`` names (one of ``kinds`` if given).

    ``ref`` is any of:

    - an id, or its first 4 or more hex digits (as git takes a short commit id);
    - the name of a live experiment, or of a model;
    - ``experiment/run-name``: a run by its experiment (any form above) and its own name;
    - ``model@production`` (``@staging``, ``@draft``, ``@archived``, ``@latest``) or
      ``model:3``: a model version;
    - where only a model version will do, a model: its production version, else its latest.

    Every form that parses is tried, and exactly one row must match: NotFound names the
    forms tried, Ambiguous lists the candidates. Example:
    ``resolve(db, "ma-crossover-synth@production", "version").id``
    """
    wanted = _kinds(kinds)
    return db.read(lambda conn: _resolve(conn, ref, wanted))


def _kinds(kinds: RefKind | Collection[RefKind] | None) -> tuple[RefKind, ...]:
    given = KINDS if kinds is None else (kinds,) if isinstance(kinds, str) else tuple(kinds)
    chosen = tuple(k for k in KINDS if k in given)
    if not chosen or len(chosen) != len(set(given)):
        raise InvalidInput(f"kinds: must be some of {', '.join(KINDS)}, got {kinds!r}",
                           field="kinds")
    return chosen


def _resolve(conn: Connection, ref: str, kinds: tuple[RefKind, ...]) -> RefMatch:
    if not isinstance(ref, str) or not ref:
        raise InvalidInput(f"ref: must be an id or a name, got {ref!r}", field="ref")
    found, tried = _candidates(conn, ref, kinds)
    unique = list({m.id: m for m in found}.values())
    if len(unique) == 1:
        return unique[0]
    table = _TABLES[kinds[0]] if len(kinds) == 1 else None
    where = f"{table}: " if table else ""
    nouns = [_NOUNS[k] for k in kinds]
    noun = nouns[0] if len(nouns) == 1 else ", ".join(nouns[:-1]) + " or " + nouns[-1]
    if not unique:
        raise NotFound(f"{where}no {noun} matches {ref!r} (tried {'; '.join(tried)})",
                       table=table, key={"ref": ref})
    listed = "; ".join(f"{m.kind} {m.id} ({m.label})" for m in unique[:SHOWN])
    count = f"more than {SHOWN}, among them" if len(unique) > SHOWN else str(len(unique))
    raise Ambiguous(f"{where}{ref!r} is ambiguous, it matches {count}: {listed}; "
                    "give more of the id or a unique name",
                    candidates=tuple(unique), field="ref", table=table)


def _candidates(conn: Connection, ref: str, kinds: tuple[RefKind, ...]
                ) -> tuple[list[RefMatch], list[str]]:
    """Every row some form of ``ref`` names, and the forms tried (for the error)."""
    # Where only a version will do (lineage), a model stands for the version people mean.
    as_model = "version" in kinds and "model" not in kinds
    row_kinds: tuple[RefKind, ...] = (*kinds, "model") if as_model else kinds
    found: list[RefMatch] = []
    tried: list[str] = []
    digits = ref.replace("-", "").lower()
    hex_only = all(c in string.hexdigits for c in digits)
    if is_uuid(ref):
        tried.append("id")
        whole = UUID(ref)
        found += refs.in_id_range(conn, whole, whole, row_kinds)
        return (_as_versions(conn, found) if as_model else found), tried
    if hex_only and MIN_PREFIX <= len(digits) < 32:
        tried.append("id prefix")
        found += refs.in_id_range(conn, UUID(digits.ljust(32, "0")), UUID(digits.ljust(32, "f")),
                                  row_kinds)
    named = [k for k in row_kinds if k in ("experiment", "model")]
    if named:
        tried.append(" and ".join(f"{k} name" for k in named)
                     + (" (for its production, else latest, version)" if as_model else ""))
        found += refs.named(conn, ref, named)
    if "run" in kinds and "/" in ref:
        tried.append("experiment/run-name")
        found += _runs_by_path(conn, ref)
    if "version" in kinds and ("@" in ref or ":" in ref):
        tried.append("model@stage, model:number")
        found += _versions_by_path(conn, ref)
    if not tried:  # no form fits: a malformed reference, not a missing row
        short = (f" (an id prefix needs {MIN_PREFIX} or more hex digits)"
                 if hex_only and digits else "")
        raise InvalidInput(f"{_TABLES[kinds[0]]}: {ref!r} is not {_forms(kinds)}{short}",
                           field="ref", table=_TABLES[kinds[0]])
    return (_as_versions(conn, found) if as_model else found), tried


def _forms(kinds: tuple[RefKind, ...]) -> str:
    """The forms that name a row of ``kinds``, for an error message."""
    names = {"experiment": "an experiment name", "run": "experiment/run-name",
             "model": "a model name", "version": "model@stage or model:number"}
    forms = ["an id", "a unique id prefix", *(names[k] for k in kinds)]
    return ", ".join(forms[:-1]) + " or " + forms[-1]


def _maybe(conn: Connection, ref: str, kind: RefKind) -> RefMatch | None:
    try:
        return _resolve(conn, ref, (kind,)) if ref else None
    except NotFound:
        return None


def _runs_by_path(conn: Connection, ref: str) -> list[RefMatch]:
    """Runs named ``experiment/run-name``; names may hold "/" themselves, so every split
    whose left side is an experiment counts."""
    found = []
    for at, char in enumerate(ref):
        if char == "/":
            experiment = _maybe(conn, ref[:at], "experiment")
            if experiment is not None and ref[at + 1:]:
                found += refs.runs_named(conn, experiment.id, ref[at + 1:])
    return found


def _versions_by_path(conn: Connection, ref: str) -> list[RefMatch]:
    """Versions named ``model@stage`` or ``model:number`` (split at the last @ or :)."""
    found = []
    name, at, stage = ref.rpartition("@")
    if at and (stage == "latest" or stage in STAGES):
        model = _maybe(conn, name, "model")
        if model is not None:
            found += (refs.versions(conn, model.id, limit=1) if stage == "latest"
                      else refs.versions(conn, model.id, status=_stage(stage)))
    name, colon, number = ref.rpartition(":")
    if colon and number.isdigit() and len(number) < 10:
        model = _maybe(conn, name, "model")
        if model is not None:
            found += refs.versions(conn, model.id, version=int(number))
    return found


def _stage(stage: str) -> ModelVersionStatus:
    return next(s for s in STAGES if s == stage)


def _as_versions(conn: Connection, found: list[RefMatch]) -> list[RefMatch]:
    """Models replaced by their production version, else their latest (none: dropped)."""
    versions = []
    for match in found:
        if match.kind != "model":
            versions.append(match)
            continue
        chosen = (refs.versions(conn, match.id, status="production", limit=1)
                  or refs.versions(conn, match.id, limit=1))
        versions += chosen
    return versions


# -- listings -----------------------------------------------------------------------------


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


def leaderboard(rdb: ResultsDB, experiment: Any, metric: str, direction: str = "max",
                limit: int = 10) -> list[LeaderboardRow]:
    """:meth:`ResultsDB.leaderboard`; a metric no run of the experiment has is InvalidInput
    listing those its runs have, rather than an empty ranking."""
    rows = rdb.leaderboard(experiment, metric, direction, limit)
    if rows:
        return rows
    known = rdb.db.read(lambda c: analytics_repo.metric_keys(
        c, experiments_repo.resolve(c, experiment)))
    if metric not in known:
        have = (f"its runs have {', '.join(known)}" if known
                else "no run of it has summary metrics yet")
        raise InvalidInput(f"metric: no run of this experiment has {metric!r}; {have}",
                           field="metric")
    return rows


@dataclass
class Found:
    """What an id or name refers to: the record, and details to show beside it."""

    kind: RefKind
    record: Record
    details: dict[str, Any] = field(default_factory=dict)


def find(rdb: ResultsDB, ident: str) -> Found:
    """The experiment, run, model or model version ``ident`` names (any form :func:`resolve`
    takes), with its details."""
    match = resolve(rdb.db, ident)
    kind, row_id = match.kind, match.id
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
