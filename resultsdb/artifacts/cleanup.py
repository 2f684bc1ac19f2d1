"""Model version cleanup: keep the newest N versions of a model, archive or delete the rest."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from uuid import UUID

from resultsdb.db import Database
from resultsdb.errors import InvalidInput
from resultsdb.repositories import models
from resultsdb.repositories.common import Connection

Action = Literal["archive", "delete"]


@dataclass
class CleanupReport:
    model_id: UUID
    action: Action
    dry_run: bool
    kept: int
    versions: list[int] = field(default_factory=list)  # archived / deleted (or would be)


def cleanup_versions(db: Database, model: UUID | str, *, keep: int, action: Action = "archive",
                     dry_run: bool = False, actor: str | None = None) -> CleanupReport:
    """Archive (or delete) every version of ``model`` but its newest ``keep``.

    The production version is never touched, wherever it ranks. Archived versions keep
    their artifact rows; deleted ones take them along, so their blobs become collectable
    by gc once its grace period has passed. One transaction: the versions are locked, so
    a concurrent promotion cannot slip a version into production mid-cleanup.
    """
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 0:
        raise InvalidInput(f"keep: must be an integer >= 0, got {keep!r}", field="keep")
    if action not in ("archive", "delete"):
        raise InvalidInput(f"action: must be archive or delete, got {action!r}", field="action")

    def work(conn: Connection) -> CleanupReport:
        model_id = models.resolve(conn, model)
        models.get(conn, model_id)  # NotFound names the model, not an empty result
        doomed = models.versions_to_clean(conn, model_id, keep=keep)
        if action == "archive":
            doomed = [v for v in doomed if v.status != "archived"]
        report = CleanupReport(model_id=model_id, action=action, dry_run=dry_run, kept=keep,
                               versions=[v.version for v in doomed])
        if dry_run:
            return report
        reason = f"cleanup: keep newest {keep}"
        for version in doomed:
            if action == "archive":
                models.set_version_status(conn, version.id, "archived", reason=reason, actor=actor)
            else:
                models.delete_version(conn, version.id)
        return report

    return db.write(work)
