"""Operator commands: artifacts (verify, gc, cleanup), roles, health, stats."""

from __future__ import annotations

import os
from dataclasses import asdict
from typing import Annotated

import typer

from resultsdb import errors
from resultsdb.cli._app import _plain, app, emit, err, ref_id, run, state

# -- artifacts -----------------------------------------------------------------------


@app.command("verify")
def verify_cmd(
    workers: Annotated[int, typer.Option(min=1, help="Blobs hashed at once.")] = 4,
) -> None:
    """Re-hash every referenced artifact; list missing and corrupt ones with their rows.

    Exits 2 when any blob is missing or corrupt.

    \b
    Example:
      resultsdb verify --json
    """
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    from resultsdb import artifacts

    def go() -> artifacts.VerifyReport:
        with state.database() as db:
            store = artifacts.ArtifactStore.from_settings(state.settings())
            total = artifacts.totals(db)
            # The bar goes to stderr: stdout stays clean for --json.
            with Progress(*Progress.get_default_columns()[:1], BarColumn(), DownloadColumn(),
                          TransferSpeedColumn(), console=err, disable=state.json) as bar:
                task = bar.add_task(f"verifying {total.blob_count} blobs", total=total.total_bytes)
                report = artifacts.verify(db, store, workers=workers,
                                          progress=lambda n: bar.advance(task, n))
        rows = [{"content_hash": p.content_hash, "problem": p.problem, "table": r.table_name,
                 "row_id": r.row_id, "owner_id": r.owner_id, "storage_path": r.storage_path}
                for p in report.problems for r in p.references]
        if state.json:
            emit({"checked": report.checked, "bytes_checked": report.bytes_checked,
                  "ok": report.ok, "problems": rows})
        else:
            emit(rows, title=f"{report.checked} blobs checked, {len(report.problems)} with problems")
        return report

    if not run(go).ok:
        raise typer.Exit(2)


@app.command("gc")
def gc_cmd(
    grace: Annotated[str, typer.Option(help="Keep blobs claimed within this long: 30m, 24h, 7d.")
                     ] = "24h",
    dry_run: Annotated[bool, typer.Option(help="List what would go; delete nothing.")] = False,
) -> None:
    """Delete stored blobs that no row references, older than the grace period.

    \b
    Example:
      resultsdb gc --grace 7d --dry-run
    """
    from resultsdb import artifacts

    def go() -> None:
        with state.database() as db:
            store = artifacts.ArtifactStore.from_settings(state.settings())
            report = artifacts.gc(db, store, grace=artifacts.parse_duration(grace), dry_run=dry_run)
            emit(asdict(report) if state.json else {
                "dry_run": report.dry_run, "blobs": len(report.deleted),
                "bytes": report.bytes_freed, "stale_uploads": len(report.stale_uploads),
                "failed": len(report.failed), "skipped": len(report.skipped)},
                 title="would delete" if dry_run else "deleted")
    run(go)


@app.command("cleanup-versions")
def cleanup_versions_cmd(
    model: Annotated[str, typer.Argument(help="Model: name, id or unique id prefix.")],
    keep: Annotated[int, typer.Option(min=0, help="How many of the newest versions to keep.")],
    delete: Annotated[bool, typer.Option("--delete", help="Delete instead of archiving.")] = False,
    dry_run: Annotated[bool, typer.Option(help="List them; change nothing.")] = False,
) -> None:
    """Archive (or delete) all but the newest N versions of a model; production is never touched.

    \b
    Example:
      resultsdb cleanup-versions seed-momentum-dqn --keep 1 --dry-run
    """
    from resultsdb import artifacts

    def go() -> None:
        with state.database() as db:
            report = artifacts.cleanup_versions(db, ref_id(db, model, "model"), keep=keep,
                                                dry_run=dry_run,
                                                action="delete" if delete else "archive")
            emit(asdict(report), title=f"{report.action}{' (dry run)' if dry_run else 'd'}")
    run(go)


# -- operations: roles, health, stats ----------------------------------------------


@app.command("roles")
def roles_cmd(
    prefix: Annotated[str, typer.Option(help="Group roles are PREFIX_owner, _writer, _reader.")
                      ] = "resultsdb",
    login: Annotated[str | None, typer.Option(help="Also create this login role ...")] = None,
    group: Annotated[str, typer.Option(help="... in this group: owner, writer or reader.")
                     ] = "writer",
    password_env: Annotated[str | None, typer.Option(
        help="Name of the environment variable holding the login's password.")] = None,
) -> None:
    """Create owner/writer/reader group roles with least privilege (idempotent).

    \b
    Example:
      APP_PW=... resultsdb roles --login pipeline --group writer --password-env APP_PW
    """
    from resultsdb.repositories import roles

    def go() -> None:
        password = None
        if password_env is not None:
            if login is None:
                raise errors.InvalidInput("--password-env needs --login", field="password_env")
            password = os.environ.get(password_env)
            if not password:
                raise errors.InvalidInput(f"--password-env: ${password_env} is not set or empty",
                                          field="password_env")
        with state.database() as db:
            report = roles.ensure_roles(db, prefix=prefix, login=login, group=group,
                                        password=password)
        if state.json:
            emit(_plain(report))
        else:
            emit([{"role": r.name, "login": r.can_login, "member_of": ", ".join(r.member_of),
                   "created": r.name in report.created} for r in report.roles],
                 title=f"roles on {report.database} (schema {report.schema}); "
                 f"{len(report.reassigned)} objects given to the owner"
                 + ("; password set" if report.password_set else ""))
    run(go)


@app.command("health")
def health_cmd(
    months_ahead: Annotated[int, typer.Option(
        min=0, max=24, help="Series partitions needed: the current month and this many after.")] = 1,
) -> None:
    """Check connection, migrations, series partitions, pool and artifact store.

    Exits 2 when a check fails.

    \b
    Example:
      resultsdb health --months-ahead 2 --json
    """
    from resultsdb import ops

    def go() -> ops.HealthReport:
        db = state.new_database()  # not opened here: a server that is down is a result
        try:
            report = ops.health(db, months_ahead=months_ahead)
        finally:
            db.close()
        if state.json:
            emit({"healthy": report.healthy, "checks": report.checks})
        else:
            emit([{"check": c.name, "status": c.status, "detail": c.detail} for c in report.checks],
                 title="healthy" if report.healthy else "UNHEALTHY")
        return report

    if not run(go).healthy:
        raise typer.Exit(2)


@app.command("stats")
def stats_cmd() -> None:
    """Table sizes and row estimates (catalog, no scans), partitions, artifact bytes.

    \b
    Example:
      resultsdb stats --json
    """
    from resultsdb import ops

    def go() -> None:
        with state.database() as db:
            report = ops.stats(db)
        if state.json:
            emit(_plain(report))
            return
        size = ops.human_bytes
        emit([{"table": t.table_name, "rows (estimate)": t.row_estimate,
               "total": size(t.total_bytes), "heap": size(t.table_bytes),
               "indexes": size(t.index_bytes), "partitions": t.partitions or ""}
              for t in report.tables],
             title=f"tables: {size(report.database_bytes)} in the database, "
             f"{report.partitions} partitions")
        a = report.artifacts
        emit({"artifacts": a.artifact_count, "artifact_bytes": size(a.artifact_bytes),
              "distinct blobs": a.distinct_blobs, "distinct_bytes": size(a.distinct_bytes)},
             title="artifacts (model_artifacts)")
    run(go)
