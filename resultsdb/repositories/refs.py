"""References typed by people: the rows an id, an id's first hex digits, or a name names.

Each function returns every match (up to ``limit`` per kind), never picks one:
:func:`resultsdb.browse.resolve` decides, and lists the candidates when several match.
"""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

from resultsdb.records import ModelVersionStatus, RefKind, RefMatch
from resultsdb.repositories.common import Connection

CANDIDATES = 11  # one more than an ambiguity message lists, so it can say "and more"


def in_id_range(conn: Connection, low: UUID, high: UUID, kinds: Collection[RefKind],
                *, limit: int = CANDIDATES) -> list[RefMatch]:
    """Rows of ``kinds`` with an id from ``low`` to ``high`` (a primary-key range scan each)."""
    return conn.q.refs_in_id_range(low=low, high=high, kinds=list(kinds), limit=limit)


def named(conn: Connection, name: str, kinds: Collection[RefKind]) -> list[RefMatch]:
    """The live experiment and the model called ``name``, of those in ``kinds``."""
    return conn.q.refs_named(name=name, kinds=list(kinds))


def runs_named(conn: Connection, experiment_id: UUID, name: str, *,
               limit: int = CANDIDATES) -> list[RefMatch]:
    """The runs of one experiment called ``name``, oldest first."""
    return conn.q.runs_named(experiment_id=experiment_id, name=name, limit=limit)


def versions(conn: Connection, model_id: UUID, *, version: int | None = None,
             status: ModelVersionStatus | None = None, limit: int = CANDIDATES) -> list[RefMatch]:
    """Versions of a model, newest first: only number ``version``, only those in ``status``."""
    return conn.q.versions_of_model_matching(model_id=model_id, version=version, status=status,
                                             limit=limit)
