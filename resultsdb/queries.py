"""Typed handles of the named queries in ``sql/queries/``: GENERATED, do not edit.

Run ``make queries`` (``python -m resultsdb.codegen``) after changing a query's header or
parameters; ``default_registry()`` refuses to load while this file is stale, and a test
compares it with a fresh generation.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Literal
from uuid import UUID

import psycopg

from resultsdb import records as r
from resultsdb.registry import BoundQueries

SIGNATURE = "aec848a024fbe839"


class Queries(BoundQueries):
    """Every named query as a method bound to one connection (``conn.q``)."""

    __slots__ = ()

    # -- analytics.sql ---------------------------------------------------------------------------

    def leaderboard_desc(
        self, *, experiment_id: Any, metric: Any, limit: int,
        status: Literal[
            "completed", "failed", "killed", "running", "scheduled",
        ] | None,
    ) -> list[r.LeaderboardRow]:
        """An experiment's runs ranked by a summary metric, highest first (an index range scan on
        run_metrics). status filters the runs (null = any); ties rank by run id. The limit and
        status are written in (literals), so the prepared statement's cached plan knows them (as
        parameters every call was planned afresh). (analytics.sql:3)
        """
        return self._many(
            "leaderboard_desc", r.LeaderboardRow,
            {"experiment_id": experiment_id, "metric": metric},
            literals={"limit": limit, "status": status},
        )

    def leaderboard_asc(
        self, *, experiment_id: Any, metric: Any, limit: int,
        status: Literal[
            "completed", "failed", "killed", "running", "scheduled",
        ] | None,
    ) -> list[r.LeaderboardRow]:
        """As leaderboard_desc, lowest first (for losses, drawdowns). (analytics.sql:22)"""
        return self._many(
            "leaderboard_asc", r.LeaderboardRow, {"experiment_id": experiment_id, "metric": metric},
            literals={"limit": limit, "status": status},
        )

    def compare_runs(self, *, run_ids: Any) -> list[r.RunComparison]:
        """Runs side by side: summary metrics and, per configuration name, the parameters of the latest
        version each run saved. Rows come in the order of the ids given. (analytics.sql:38)
        """
        return self._many("compare_runs", r.RunComparison, {"run_ids": run_ids})

    def experiment_summary(
        self, *, metric: Any, direction: Any, experiment_id: Any,
    ) -> r.ExperimentSummary:
        """Counts by status, durations of ended runs, and the best completed run by a metric (direction
        'max' or 'min'; null metric = no best run): the leaderboard's first. (analytics.sql:54)
        """
        return self._one(
            "experiment_summary", r.ExperimentSummary,
            {"metric": metric, "direction": direction, "experiment_id": experiment_id},
        )

    def model_summary(self, *, model_id: Any) -> r.ModelSummary:
        """A model's versions, the one in production, the newest, and the bytes its artifacts hold.
        (analytics.sql:81)
        """
        return self._one("model_summary", r.ModelSummary, {"model_id": model_id})

    def models_needing_attention(
        self, *, metric: Any, direction: Any, max_age_days: Any,
    ) -> list[r.ModelAttention]:
        """Models with no production version, a production version older than max_age_days, or a newer
        version whose metric beats production's (direction 'max' or 'min'). Metrics are compared
        through jsonb_number_within: a value that is not a number double precision can hold compares
        as null, and no version's metrics fail the query. (analytics.sql:99)
        """
        return self._many(
            "models_needing_attention", r.ModelAttention,
            {"metric": metric, "direction": direction, "max_age_days": max_age_days},
        )

    def model_version_lineage(self, *, version_id: Any) -> r.LineageRow:
        """Where a model version came from, in one query: its model, run and experiment, the
        configuration chain root -> leaf, the run's data snapshots and the artifacts.
        (analytics.sql:132)
        """
        return self._one("model_version_lineage", r.LineageRow, {"version_id": version_id})

    # -- artifacts.sql ---------------------------------------------------------------------------

    def claim_blob(self, *, content_hash: Any, size_bytes: Any) -> r.Blob:
        """Promise that blob :content_hash is about to be referenced: insert its row, or refresh
        last_claimed_at. Waits while gc holds the row; if gc then deletes it, the insert goes ahead
        and the caller puts the bytes back. (artifacts.sql:4)
        """
        return self._one(
            "claim_blob", r.Blob, {"content_hash": content_hash, "size_bytes": size_bytes},
        )

    def retract_blob_claim(self, *, content_hash: Any, claimed_at: Any) -> int:
        """Undo the claim that created blob :content_hash's row at :claimed_at, when its bytes could
        not be stored: only while no later claim refreshed the row and no row references it (a claim
        that refreshed an older row is left to gc). (artifacts.sql:17)
        """
        return self._rowcount(
            "retract_blob_claim", {"content_hash": content_hash, "claimed_at": claimed_at},
        )

    def pin_blobs(self, *, hashes: Any) -> list[r.Blob]:
        """Lock the rows of :hashes (key share, in hash order) until the transaction ends, so gc skips
        them; the hashes missing from the result were collected. (artifacts.sql:27)
        """
        return self._many("pin_blobs", r.Blob, {"hashes": hashes})

    def collectable_blobs(self, *, grace_seconds: Any, after: Any, limit: Any) -> list[r.Blob]:
        """Blobs no row references and nobody claimed for :grace_seconds, in hash order after :after
        (gc --dry-run: looks, locks nothing). (artifacts.sql:38)
        """
        return self._many(
            "collectable_blobs", r.Blob,
            {"grace_seconds": grace_seconds, "after": after, "limit": limit},
        )

    def lock_collectable_blobs(self, *, grace_seconds: Any, after: Any, limit: Any) -> list[r.Blob]:
        """As collectable_blobs, locking each row returned until the transaction ends. Rows a save has
        pinned (or a claim is refreshing) are skipped, not waited for. (artifacts.sql:52)
        """
        return self._many(
            "lock_collectable_blobs", r.Blob,
            {"grace_seconds": grace_seconds, "after": after, "limit": limit},
        )

    def delete_blobs(self, *, hashes: Any) -> int:
        """Forget the rows of :hashes (after their objects were deleted). (artifacts.sql:67)"""
        return self._rowcount("delete_blobs", {"hashes": hashes})

    def referenced_blobs_page(self, *, after: Any, limit: Any) -> list[r.ReferencedBlob]:
        """Up to :limit distinct content hashes that rows reference, after :after in hash order, with
        the largest size a row records and how many rows reference each. (artifacts.sql:72)
        """
        return self._many(
            "referenced_blobs_page", r.ReferencedBlob, {"after": after, "limit": limit},
        )

    def referenced_among(self, *, hashes: Any) -> list[r.ReferencedBlob]:
        """Which of :hashes rows reference now (gc's re-check after locking). (artifacts.sql:86)"""
        return self._many("referenced_among", r.ReferencedBlob, {"hashes": hashes})

    def referenced_blob_totals(self) -> r.BlobTotals:
        """How many distinct blobs rows reference, and their bytes (verify's progress total).
        (artifacts.sql:99)
        """
        return self._one("referenced_blob_totals", r.BlobTotals, {})

    def references_to_blobs(self, *, hashes: Any) -> list[r.BlobReference]:
        """Every row that references one of :hashes: model artifacts (owner: the model version) and
        data snapshots (owner: the run). (artifacts.sql:112)
        """
        return self._many("references_to_blobs", r.BlobReference, {"hashes": hashes})

    def versions_to_clean(self, *, model_id: Any, keep: Any) -> list[r.ModelVersion]:
        """The versions of :model_id older than its newest :keep, never the production one, oldest
        first; locked so that no promotion slips in before the cleanup. (artifacts.sql:127)
        """
        return self._many("versions_to_clean", r.ModelVersion, {"model_id": model_id, "keep": keep})

    # -- browse.sql ------------------------------------------------------------------------------

    def model_listing_page(
        self, *, experiment_id: Any, after: Any, limit: Any,
    ) -> list[r.ModelListing]:
        """Up to :limit models with id after :after, oldest first, each with its latest and production
        version numbers; only models first produced in experiment :experiment_id unless it is null.
        (browse.sql:4)
        """
        return self._many(
            "model_listing_page", r.ModelListing,
            {"experiment_id": experiment_id, "after": after, "limit": limit},
        )

    def metric_keys_of_experiment(self, *, experiment_id: Any) -> list[r.MetricKey]:
        """The summary metrics the runs of experiment :experiment_id have, by name: what a leaderboard
        can rank by (run_metrics_rank_idx leads with experiment_id and key). (browse.sql:28)
        """
        return self._many(
            "metric_keys_of_experiment", r.MetricKey, {"experiment_id": experiment_id},
        )

    # -- catalog.sql -----------------------------------------------------------------------------

    def database_exists(self, *, name: Any) -> bool:
        """True when a database of that name exists on the server. (catalog.sql:3)"""
        return self._scalar("database_exists", bool, {"name": name})

    def create_database(self, *, name: str) -> None:
        """Create a database (the name is quoted as an identifier). (catalog.sql:9)"""
        return self._execute("create_database", {}, identifiers={"name": name})

    def constraint_catalog(self) -> list[r.ConstraintInfo]:
        """Every constraint of the current schema with its table (the partitioned table for a
        partition's), its columns in the order the constraint names them, and its COMMENT, which
        error messages quote; a foreign key also with the table and columns it references, which
        tell the two sides of a violation apart. Unique indexes that back no constraint (the partial
        ones) are listed with the index's COMMENT. Other indexes are listed with their variable-
        width columns only: an index row outgrows its page (54000) through those. Every table is
        listed too, under its own name with no columns, mapped to its partitioned table: a not-null
        error names the partition and no constraint. (catalog.sql:15)
        """
        return self._many("constraint_catalog", r.ConstraintInfo, {})

    def try_advisory_lock(self, *, key: Any) -> bool:
        """Session-level advisory lock (released when the session ends, even on a crash).
        (catalog.sql:76)
        """
        return self._scalar("try_advisory_lock", bool, {"key": key})

    def advisory_lock(self, *, key: Any) -> None:
        """Wait for a session-level advisory lock. (catalog.sql:82)"""
        return self._execute("advisory_lock", {"key": key})

    def ensure_series_partitions(
        self, *, months_ahead: Any, months_behind: Any,
    ) -> list[r.PartitionName]:
        """Create the series partitions around the current month; returns the ones created.
        (catalog.sql:87)
        """
        return self._many(
            "ensure_series_partitions", r.PartitionName,
            {"months_ahead": months_ahead, "months_behind": months_behind},
        )

    def series_tables_exist(self) -> bool:
        """(catalog.sql:93)"""
        return self._scalar("series_tables_exist", bool, {})

    def yoyo_tables_exist(self) -> bool:
        """(catalog.sql:98)"""
        return self._scalar("yoyo_tables_exist", bool, {})

    def yoyo_applied(self) -> list[r.AppliedMigration]:
        """(catalog.sql:103)"""
        return self._many("yoyo_applied", r.AppliedMigration, {})

    def yoyo_history(self) -> list[r.MigrationLogEntry]:
        """yoyo's log of migration operations, oldest first. (catalog.sql:109)"""
        return self._many("yoyo_history", r.MigrationLogEntry, {})

    def lock_timeout_setting(self) -> str:
        """How long a statement waits for a lock ('0': no limit). (catalog.sql:118)"""
        return self._scalar("lock_timeout_setting", str, {})

    def set_local_lock_timeout(self, *, value: Any) -> str:
        """SET LOCAL lock_timeout = :value (e.g. '3000ms'; '0': no limit) until the transaction ends: a
        DDL statement that cannot get its lock in time gives up instead of holding the queue of
        everyone who came after it. (catalog.sql:124)
        """
        return self._scalar("set_local_lock_timeout", str, {"value": value})

    # -- configurations.sql ----------------------------------------------------------------------

    def configuration_by_id(self, *, id: Any) -> r.Configuration:
        """The configuration with this id. (configurations.sql:3)"""
        return self._one("configuration_by_id", r.Configuration, {"id": id})

    def configurations_page(self, *, after: Any, limit: Any) -> list[r.Configuration]:
        """Up to :limit configurations with id after :after, oldest first. (configurations.sql:10)"""
        return self._many("configurations_page", r.Configuration, {"after": after, "limit": limit})

    def configurations_of_run(self, *, run_id: Any) -> list[r.Configuration]:
        """The configurations a run uses, oldest first. (configurations.sql:20)"""
        return self._many("configurations_of_run", r.Configuration, {"run_id": run_id})

    def configuration_versions(self, *, name: Any) -> list[r.Configuration]:
        """Every version of the configuration called :name, version 1 first. (configurations.sql:26)"""
        return self._many("configuration_versions", r.Configuration, {"name": name})

    def latest_configuration(self, *, name: Any) -> r.Configuration:
        """The highest version of the configuration called :name. (configurations.sql:32)"""
        return self._one("latest_configuration", r.Configuration, {"name": name})

    def configuration_lineage(self, *, id: Any) -> list[r.Configuration]:
        """The chain of configurations from the root down to :id (root first, :id last). CYCLE ends the
        walk should a cycle ever exist. (configurations.sql:39)
        """
        return self._many("configuration_lineage", r.Configuration, {"id": id})

    def lock_configuration_name(self, *, name: Any) -> None:
        """Serialise version numbering of one configuration name until the transaction ends.
        (configurations.sql:56)
        """
        return self._execute("lock_configuration_name", {"name": name})

    def insert_configuration(
        self, *, run_id: Any, name: Any, config_type: Any, parameters: Any, parent_id: Any,
    ) -> r.Configuration:
        """The new configuration, numbered one past the highest version of its name. Run it after
        lock_configuration_name in the same transaction: the lock makes this statement's snapshot
        see every earlier version. (configurations.sql:61)
        """
        return self._one(
            "insert_configuration", r.Configuration,
            {
                "run_id": run_id, "name": name, "config_type": config_type,
                "parameters": parameters, "parent_id": parent_id,
            },
        )

    def update_configuration(self, *, patch: Any, id: Any) -> r.Configuration:
        """The configuration after merging :patch. Name, version and parameters never change: a changed
        parameter set is a new version. (configurations.sql:75)
        """
        return self._one("update_configuration", r.Configuration, {"patch": patch, "id": id})

    def delete_configuration(self, *, id: Any) -> UUID:
        """The id of the deleted configuration (NotFound when there was none). (configurations.sql:88)"""
        return self._scalar("delete_configuration", UUID, {"id": id})

    # -- counts.sql ------------------------------------------------------------------------------

    def table_row_count(
        self, *,
        table: Literal[
            "configurations", "data_snapshots", "equity_curves", "experiments",
            "hyperparameter_results", "model_artifacts", "model_version_transitions",
            "model_versions", "models", "runs", "trade_logs",
        ],
    ) -> int:
        """The number of rows in one results table. (counts.sql:3)"""
        return self._scalar("table_row_count", int, {}, identifiers={"table": table})

    # -- data_snapshots.sql ----------------------------------------------------------------------

    def data_snapshot_by_id(self, *, id: Any) -> r.DataSnapshot:
        """The snapshot with this id. (data_snapshots.sql:3)"""
        return self._one("data_snapshot_by_id", r.DataSnapshot, {"id": id})

    def data_snapshots_page(self, *, after: Any, limit: Any) -> list[r.DataSnapshot]:
        """Up to :limit snapshots with id after :after, oldest first. (data_snapshots.sql:10)"""
        return self._many("data_snapshots_page", r.DataSnapshot, {"after": after, "limit": limit})

    def data_snapshots_of_run(self, *, run_id: Any) -> list[r.DataSnapshot]:
        """The snapshots a run used, oldest first. (data_snapshots.sql:20)"""
        return self._many("data_snapshots_of_run", r.DataSnapshot, {"run_id": run_id})

    def insert_data_snapshot(
        self, *, run_id: Any, data_source: Any, start_date: Any, end_date: Any, features_hash: Any,
        storage_path: Any, content_hash: Any, size_bytes: Any,
    ) -> r.DataSnapshot:
        """The new snapshot. (data_snapshots.sql:26)"""
        return self._one(
            "insert_data_snapshot", r.DataSnapshot,
            {
                "run_id": run_id, "data_source": data_source, "start_date": start_date,
                "end_date": end_date, "features_hash": features_hash, "storage_path": storage_path,
                "content_hash": content_hash, "size_bytes": size_bytes,
            },
        )

    def update_data_snapshot(self, *, patch: Any, id: Any) -> r.DataSnapshot:
        """The snapshot after merging :patch. What the data is (source, range, features) never changes;
        where a stored copy lives may be filled in later. (data_snapshots.sql:37)
        """
        return self._one("update_data_snapshot", r.DataSnapshot, {"patch": patch, "id": id})

    def delete_data_snapshot(self, *, id: Any) -> UUID:
        """The id of the deleted snapshot (NotFound when there was none). (data_snapshots.sql:50)"""
        return self._scalar("delete_data_snapshot", UUID, {"id": id})

    # -- experiments.sql -------------------------------------------------------------------------

    def experiment_by_id(self, *, id: Any) -> r.Experiment:
        """The experiment with this id. (experiments.sql:4)"""
        return self._one("experiment_by_id", r.Experiment, {"id": id})

    def live_experiment_by_name(self, *, name: Any) -> r.Experiment | None:
        """The experiment holding this name, if any (names are unique among non-archived experiments).
        (experiments.sql:11)
        """
        return self._one_or_none("live_experiment_by_name", r.Experiment, {"name": name})

    def experiments_named(self, *, name: Any) -> list[r.Experiment]:
        """Every experiment called :name, archived ones included, oldest first. (experiments.sql:17)"""
        return self._many("experiments_named", r.Experiment, {"name": name})

    def experiments_page(self, *, after: Any, limit: Any) -> list[r.Experiment]:
        """Up to :limit experiments with id after :after, oldest first. (experiments.sql:23)"""
        return self._many("experiments_page", r.Experiment, {"after": after, "limit": limit})

    def active_experiments_page(self, *, after: Any, limit: Any) -> list[r.Experiment]:
        """Up to :limit active experiments with id after :after, oldest first. (experiments.sql:33)"""
        return self._many("active_experiments_page", r.Experiment, {"after": after, "limit": limit})

    def experiments_with_any_tag(
        self, *, labels: Any, after: Any, limit: Any,
    ) -> list[r.Experiment]:
        """Experiments whose tags object has at least one of the keys :labels (jsonb ?|, GIN-indexed).
        (experiments.sql:44)
        """
        return self._many(
            "experiments_with_any_tag", r.Experiment,
            {"labels": labels, "after": after, "limit": limit},
        )

    def experiments_containing_tags(
        self, *, tags: Any, after: Any, limit: Any,
    ) -> list[r.Experiment]:
        """Experiments whose tags contain the object :tags (jsonb @>, GIN-indexed).
        (experiments.sql:55)
        """
        return self._many(
            "experiments_containing_tags", r.Experiment,
            {"tags": tags, "after": after, "limit": limit},
        )

    def lock_experiment_name(self, *, name: Any) -> None:
        """Serialise writers of one experiment name until the transaction ends (e.g. the seeder).
        (experiments.sql:66)
        """
        return self._execute("lock_experiment_name", {"name": name})

    def insert_experiment(
        self, *, name: Any, description: Any, tags: Any, status: Any,
    ) -> r.Experiment:
        """The new experiment. (experiments.sql:71)"""
        return self._one(
            "insert_experiment", r.Experiment,
            {"name": name, "description": description, "tags": tags, "status": status},
        )

    def update_experiment(self, *, patch: Any, id: Any) -> r.Experiment:
        """The experiment after merging :patch (a JSON object of the columns to change) into it.
        (experiments.sql:80)
        """
        return self._one("update_experiment", r.Experiment, {"patch": patch, "id": id})

    def delete_experiment(self, *, id: Any) -> UUID:
        """The id of the deleted experiment (NotFound when there was none). Its runs go with it.
        (experiments.sql:92)
        """
        return self._scalar("delete_experiment", UUID, {"id": id})

    # -- models.sql ------------------------------------------------------------------------------

    def model_by_id(self, *, id: Any) -> r.Model:
        """The model with this id. (models.sql:4)"""
        return self._one("model_by_id", r.Model, {"id": id})

    def model_by_name(self, *, name: Any) -> r.Model:
        """The model called :name (names are unique). (models.sql:11)"""
        return self._one("model_by_name", r.Model, {"name": name})

    def models_page(self, *, after: Any, limit: Any) -> list[r.Model]:
        """Up to :limit models with id after :after, oldest first. (models.sql:18)"""
        return self._many("models_page", r.Model, {"after": after, "limit": limit})

    def insert_model(
        self, *, run_id: Any, config_id: Any, model_type: Any, name: Any, metadata: Any,
    ) -> r.Model:
        """The new model (version_count 0: it has no versions yet). (models.sql:28)"""
        return self._one(
            "insert_model", r.Model,
            {
                "run_id": run_id, "config_id": config_id, "model_type": model_type, "name": name,
                "metadata": metadata,
            },
        )

    def update_model(self, *, patch: Any, id: Any) -> r.Model:
        """The model after merging :patch. run_id (where it was first produced) and version_count (the
        version counter) never change here. (models.sql:37)
        """
        return self._one("update_model", r.Model, {"patch": patch, "id": id})

    def delete_model(self, *, id: Any) -> UUID:
        """The id of the deleted model (NotFound when there was none); its versions and artifacts go
        with it, unless a version is in production. (models.sql:50)
        """
        return self._scalar("delete_model", UUID, {"id": id})

    def model_version_by_id(self, *, id: Any) -> r.ModelVersion:
        """The model version with this id. (models.sql:58)"""
        return self._one("model_version_by_id", r.ModelVersion, {"id": id})

    def model_versions_page(self, *, after: Any, limit: Any) -> list[r.ModelVersion]:
        """Up to :limit model versions (of every model) with id after :after, oldest first.
        (models.sql:65)
        """
        return self._many("model_versions_page", r.ModelVersion, {"after": after, "limit": limit})

    def versions_of_model(self, *, model_id: Any) -> list[r.ModelVersion]:
        """Every version of one model, version 1 first. (models.sql:75)"""
        return self._many("versions_of_model", r.ModelVersion, {"model_id": model_id})

    def insert_model_version(
        self, *, model_id: Any, run_id: Any, config_id: Any, commit_hash: Any, status: Any,
        metrics: Any, description: Any,
    ) -> r.ModelVersion:
        """The new version, numbered by bumping models.version_count in the same statement: the row
        lock on the model serialises concurrent creators, and no row comes back when the model does
        not exist. (models.sql:81)
        """
        return self._one(
            "insert_model_version", r.ModelVersion,
            {
                "model_id": model_id, "run_id": run_id, "config_id": config_id,
                "commit_hash": commit_hash, "status": status, "metrics": metrics,
                "description": description,
            },
        )

    def set_audit_context(self, *, actor: Any, reason: Any) -> None:
        """Who changes model version statuses and why, for the audit trigger, until the transaction
        ends ('' falls back to session_user / no reason). (models.sql:101)
        """
        return self._execute("set_audit_context", {"actor": actor, "reason": reason})

    def update_model_version(self, *, patch: Any, id: Any) -> r.ModelVersion:
        """The version after merging :patch into its metrics and description (its status changes
        through set_version_status alone: locked, checked and audited). (models.sql:108)
        """
        return self._one("update_model_version", r.ModelVersion, {"patch": patch, "id": id})

    def delete_model_version(self, *, id: Any) -> UUID:
        """The id of the deleted version (NotFound when there was none). A production version is
        protected (archive it first). Its number is not reused. (models.sql:121)
        """
        return self._scalar("delete_model_version", UUID, {"id": id})

    def transitions_of_model_version(
        self, *, model_version_id: Any,
    ) -> list[r.ModelVersionTransition]:
        """The audit trail of one version's statuses, oldest first (creation included).
        (models.sql:129)
        """
        return self._many(
            "transitions_of_model_version", r.ModelVersionTransition,
            {"model_version_id": model_version_id},
        )

    def model_artifact_by_id(self, *, id: Any) -> r.ModelArtifact:
        """The artifact with this id. (models.sql:138)"""
        return self._one("model_artifact_by_id", r.ModelArtifact, {"id": id})

    def model_artifacts_page(self, *, after: Any, limit: Any) -> list[r.ModelArtifact]:
        """Up to :limit artifacts (of every version) with id after :after, oldest first.
        (models.sql:145)
        """
        return self._many("model_artifacts_page", r.ModelArtifact, {"after": after, "limit": limit})

    def artifacts_of_model_version(self, *, model_version_id: Any) -> list[r.ModelArtifact]:
        """The artifacts one model version owns, oldest first. (models.sql:155)"""
        return self._many(
            "artifacts_of_model_version", r.ModelArtifact, {"model_version_id": model_version_id},
        )

    def insert_model_artifact(
        self, *, model_version_id: Any, artifact_type: Any, storage_path: Any, size_bytes: Any,
        file_format: Any, content_hash: Any,
    ) -> r.ModelArtifact:
        """The new artifact row (the bytes themselves live in the artifact store). (models.sql:161)"""
        return self._one(
            "insert_model_artifact", r.ModelArtifact,
            {
                "model_version_id": model_version_id, "artifact_type": artifact_type,
                "storage_path": storage_path, "size_bytes": size_bytes, "file_format": file_format,
                "content_hash": content_hash,
            },
        )

    def update_model_artifact(self, *, patch: Any, id: Any) -> r.ModelArtifact:
        """The artifact after merging :patch. The content (hash, size, type) never changes; only where
        it is stored and its declared format. (models.sql:172)
        """
        return self._one("update_model_artifact", r.ModelArtifact, {"patch": patch, "id": id})

    def delete_model_artifact(self, *, id: Any) -> UUID:
        """The id of the deleted artifact row (NotFound when there was none). (models.sql:185)"""
        return self._scalar("delete_model_artifact", UUID, {"id": id})

    # -- ops.sql ---------------------------------------------------------------------------------

    def server_info(self) -> r.ServerInfo:
        """Who and where we are connected. (ops.sql:3)"""
        return self._one("server_info", r.ServerInfo, {})

    def replica_status(self) -> r.ReplicaStatus:
        """On a read replica: in recovery, and how far behind the primary its last replayed transaction
        is (null on a primary, or before the first replay). (ops.sql:14)
        """
        return self._one("replica_status", r.ReplicaStatus, {})

    def series_partition_coverage(self, *, months_ahead: Any) -> list[r.PartitionCoverage]:
        """For every table RANGE-partitioned on run_id, each month from the current one (UTC) to
        :months_ahead ahead, and whether its partition, named <table>_pYYYYMM as
        ensure_series_partition() names it, is attached. (ops.sql:25)
        """
        return self._many(
            "series_partition_coverage", r.PartitionCoverage, {"months_ahead": months_ahead},
        )

    def table_sizes(self) -> list[r.TableSize]:
        """Every table of the schema, a partitioned one with its partitions summed, largest first.
        row_estimate is pg_class.reltuples (no scan): null until the table has been analyzed.
        (ops.sql:54)
        """
        return self._many("table_sizes", r.TableSize, {})

    def database_bytes(self) -> int:
        """(ops.sql:80)"""
        return self._scalar("database_bytes", int, {})

    def artifact_usage(self) -> r.ArtifactUsage:
        """Artifacts as model_artifacts records them: rows and bytes, and the distinct blobs behind
        them (the store keeps one copy per content hash). (ops.sql:85)
        """
        return self._one("artifact_usage", r.ArtifactUsage, {})

    # -- refs.sql --------------------------------------------------------------------------------

    def refs_in_id_range(self, *, kinds: Any, low: Any, high: Any, limit: int) -> list[r.RefMatch]:
        """Experiments, runs, models and model versions (those whose kind is in :kinds) with an id from
        :low to :high. An id prefix pads to that range with 0s and fs, a whole id is a range of one:
        each branch is a range scan of its primary key (id::text like '01a2%' would read every row).
        At most :limit per kind: enough to list the candidates. (refs.sql:5)
        """
        return self._many(
            "refs_in_id_range", r.RefMatch, {"kinds": kinds, "low": low, "high": high},
            literals={"limit": limit},
        )

    def refs_named(self, *, kinds: Any, name: Any) -> list[r.RefMatch]:
        """The live experiment and the model called :name, of those kinds in :kinds (both names are
        unique: experiments_name_live_key, models_name_key). (refs.sql:41)
        """
        return self._many("refs_named", r.RefMatch, {"kinds": kinds, "name": name})

    def runs_named(self, *, experiment_id: Any, name: Any, limit: int) -> list[r.RefMatch]:
        """The runs of experiment :experiment_id called :name, oldest first (run names need not be
        unique: several rows are listed as candidates). (refs.sql:54)
        """
        return self._many(
            "runs_named", r.RefMatch, {"experiment_id": experiment_id, "name": name},
            literals={"limit": limit},
        )

    def versions_of_model_matching(
        self, *, model_id: Any, version: Any, status: Any, limit: int,
    ) -> list[r.RefMatch]:
        """Versions of model :model_id, newest first: number :version when it is not null, only those
        with status :status when it is not null. (refs.sql:67)
        """
        return self._many(
            "versions_of_model_matching", r.RefMatch,
            {"model_id": model_id, "version": version, "status": status}, literals={"limit": limit},
        )

    # -- roles.sql -------------------------------------------------------------------------------

    def role_exists(self, *, name: Any) -> bool:
        """True when a role (group or login) of that name exists in the cluster. (roles.sql:5)"""
        return self._scalar("role_exists", bool, {"name": name})

    def role_is_privileged(self, *, name: Any) -> bool:
        """True for the current user and for a role with more than a login's rights (superuser,
        CREATEROLE, CREATEDB, REPLICATION, BYPASSRLS): `roles --login` never changes those.
        (roles.sql:11)
        """
        return self._scalar("role_is_privileged", bool, {"name": name})

    def role_details(self, *, names: Any) -> list[r.RoleInfo]:
        """The roles named, whether they can log in and the roles they are members of. (roles.sql:21)"""
        return self._many("role_details", r.RoleInfo, {"names": names})

    def needs_membership_to_own(self, *, role: Any) -> bool:
        """True when the current user can hand objects to the role only after joining it: ALTER ...
        OWNER TO needs membership in the new owner, unless one is superuser. (roles.sql:36)
        """
        return self._scalar("needs_membership_to_own", bool, {"role": role})

    def create_group_role(self, *, role: str) -> None:
        """A group role: nobody logs in as it; login roles are granted it. (roles.sql:44)"""
        return self._execute("create_group_role", {}, identifiers={"role": role})

    def create_login_role(self, *, role: str) -> None:
        """(roles.sql:50)"""
        return self._execute("create_login_role", {}, identifiers={"role": role})

    def allow_login(self, *, role: str) -> None:
        """(roles.sql:55)"""
        return self._execute("allow_login", {}, identifiers={"role": role})

    def grant_role(self, *, group: str, member: str) -> None:
        """(roles.sql:60)"""
        return self._execute("grant_role", {}, identifiers={"group": group, "member": member})

    def revoke_role(self, *, group: str, member: str) -> None:
        """(A warning, not an error, when member is not in group.) (roles.sql:66)"""
        return self._execute("revoke_role", {}, identifiers={"group": group, "member": member})

    def grant_role_to_current_user(self, *, role: str) -> None:
        """(roles.sql:73)"""
        return self._execute("grant_role_to_current_user", {}, identifiers={"role": role})

    def act_as_role(self, *, login: str, role: str) -> None:
        """Every session of the login runs SET ROLE to the group: what it creates belongs to the group.
        (roles.sql:78)
        """
        return self._execute("act_as_role", {}, identifiers={"login": login, "role": role})

    def stop_acting_as_role(self, *, login: str) -> None:
        """(roles.sql:85)"""
        return self._execute("stop_acting_as_role", {}, identifiers={"login": login})

    def stage_role_password(self, *, role: Any, verifier: Any) -> None:
        """Utility statements take no parameters, so the role and its password verifier (a SCRAM hash
        made client-side, as psql's \\password does: the password itself never reaches the server or
        its logs) travel to apply_role_password in transaction-local settings. (roles.sql:90)
        """
        return self._execute("stage_role_password", {"role": role, "verifier": verifier})

    def apply_role_password(self) -> None:
        """(roles.sql:98)"""
        return self._execute("apply_role_password", {})

    def current_schema_name(self) -> str:
        """(roles.sql:108)"""
        return self._scalar("current_schema_name", str, {})

    def current_database_name(self) -> str:
        """(roles.sql:113)"""
        return self._scalar("current_database_name", str, {})

    def current_user_name(self) -> str:
        """(roles.sql:118)"""
        return self._scalar("current_user_name", str, {})

    def schema_objects(self, *, schema: Any) -> list[r.SchemaObject]:
        """Relations and routines of the schema with their owner. Left out: extension members (their
        extension owns them), indexes and sequences that belong to a column (they follow their
        table). (roles.sql:123)
        """
        return self._many("schema_objects", r.SchemaObject, {"schema": schema})

    def alter_table_owner(self, *, schema: str, name: str, owner: str) -> None:
        """(roles.sql:152)"""
        return self._execute(
            "alter_table_owner", {}, identifiers={"schema": schema, "name": name, "owner": owner},
        )

    def alter_view_owner(self, *, schema: str, name: str, owner: str) -> None:
        """(roles.sql:159)"""
        return self._execute(
            "alter_view_owner", {}, identifiers={"schema": schema, "name": name, "owner": owner},
        )

    def alter_materialized_view_owner(self, *, schema: str, name: str, owner: str) -> None:
        """(roles.sql:166)"""
        return self._execute(
            "alter_materialized_view_owner", {},
            identifiers={"schema": schema, "name": name, "owner": owner},
        )

    def alter_sequence_owner(self, *, schema: str, name: str, owner: str) -> None:
        """(roles.sql:173)"""
        return self._execute(
            "alter_sequence_owner", {},
            identifiers={"schema": schema, "name": name, "owner": owner},
        )

    def alter_foreign_table_owner(self, *, schema: str, name: str, owner: str) -> None:
        """(roles.sql:180)"""
        return self._execute(
            "alter_foreign_table_owner", {},
            identifiers={"schema": schema, "name": name, "owner": owner},
        )

    def alter_routine_owner(self, *, schema: str, name: str, owner: str) -> None:
        """By name alone: resultsdb defines no overloaded functions (PostgreSQL says so if one
        appears). (roles.sql:187)
        """
        return self._execute(
            "alter_routine_owner", {}, identifiers={"schema": schema, "name": name, "owner": owner},
        )

    def grant_connect(self, *, database: str, role: str) -> None:
        """(roles.sql:195)"""
        return self._execute("grant_connect", {}, identifiers={"database": database, "role": role})

    def grant_schema_usage(self, *, schema: str, role: str) -> None:
        """(roles.sql:201)"""
        return self._execute("grant_schema_usage", {}, identifiers={"schema": schema, "role": role})

    def grant_schema_create(self, *, schema: str, role: str) -> None:
        """The owner creates tables: migrations, and partitions through maintain_series_partitions().
        (roles.sql:207)
        """
        return self._execute(
            "grant_schema_create", {}, identifiers={"schema": schema, "role": role},
        )

    def revoke_schema_create_from_public(self, *, schema: str) -> None:
        """PostgreSQL 15+ no longer gives PUBLIC CREATE on schema public; older databases did.
        (roles.sql:214)
        """
        return self._execute("revoke_schema_create_from_public", {}, identifiers={"schema": schema})

    def grant_select_on_all_tables(self, *, schema: str, role: str) -> None:
        """Tables, partitions and views. (roles.sql:220)"""
        return self._execute(
            "grant_select_on_all_tables", {}, identifiers={"schema": schema, "role": role},
        )

    def grant_writes_on_all_tables(self, *, schema: str, role: str) -> None:
        """Row writes only: no TRUNCATE, REFERENCES or TRIGGER, and no DDL (that needs ownership).
        (roles.sql:227)
        """
        return self._execute(
            "grant_writes_on_all_tables", {}, identifiers={"schema": schema, "role": role},
        )

    def revoke_writes_on_relation(self, *, schema: str, name: str, role: str) -> None:
        """(roles.sql:234)"""
        return self._execute(
            "revoke_writes_on_relation", {},
            identifiers={"schema": schema, "name": name, "role": role},
        )

    def revoke_changes_on_relation(self, *, schema: str, name: str, role: str) -> None:
        """Append-only: rows may be added, never changed or removed (cascades run as the owner).
        (roles.sql:241)
        """
        return self._execute(
            "revoke_changes_on_relation", {},
            identifiers={"schema": schema, "name": name, "role": role},
        )

    def grant_sequences(self, *, schema: str, role: str) -> None:
        """(roles.sql:249)"""
        return self._execute("grant_sequences", {}, identifiers={"schema": schema, "role": role})

    def grant_execute_on_all_functions(self, *, schema: str, role: str) -> None:
        """(roles.sql:255)"""
        return self._execute(
            "grant_execute_on_all_functions", {}, identifiers={"schema": schema, "role": role},
        )

    def grant_execute_on_routine(self, *, schema: str, name: str, role: str) -> None:
        """(roles.sql:261)"""
        return self._execute(
            "grant_execute_on_routine", {},
            identifiers={"schema": schema, "name": name, "role": role},
        )

    def revoke_execute_on_routine(self, *, schema: str, name: str, role: str) -> None:
        """(roles.sql:268)"""
        return self._execute(
            "revoke_execute_on_routine", {},
            identifiers={"schema": schema, "name": name, "role": role},
        )

    def default_select_on_tables(self, *, creator: str, schema: str, role: str) -> None:
        """Tables (and partitions, views) the creator makes later are readable by the role.
        (roles.sql:275)
        """
        return self._execute(
            "default_select_on_tables", {},
            identifiers={"creator": creator, "schema": schema, "role": role},
        )

    def default_writes_on_tables(self, *, creator: str, schema: str, role: str) -> None:
        """(roles.sql:283)"""
        return self._execute(
            "default_writes_on_tables", {},
            identifiers={"creator": creator, "schema": schema, "role": role},
        )

    def default_sequences(self, *, creator: str, schema: str, role: str) -> None:
        """(roles.sql:291)"""
        return self._execute(
            "default_sequences", {},
            identifiers={"creator": creator, "schema": schema, "role": role},
        )

    # -- runs.sql --------------------------------------------------------------------------------

    def run_by_id(self, *, id: Any) -> r.Run:
        """The run with this id. (runs.sql:3)"""
        return self._one("run_by_id", r.Run, {"id": id})

    def runs_page(self, *, after: Any, limit: Any) -> list[r.Run]:
        """Up to :limit runs with id after :after, oldest first. (runs.sql:10)"""
        return self._many("runs_page", r.Run, {"after": after, "limit": limit})

    def runs_of_experiment(
        self, *, experiment_id: Any, status: Any, after: Any, limit: Any,
    ) -> list[r.Run]:
        """Up to :limit runs of one experiment with id after :after, oldest first; only those with
        status :status unless it is null. (runs.sql:20)
        """
        return self._many(
            "runs_of_experiment", r.Run,
            {"experiment_id": experiment_id, "status": status, "after": after, "limit": limit},
        )

    def most_recent_runs(self, *, limit: Any) -> list[r.Run]:
        """The :limit runs that started last, newest first. Scheduled runs have not started (no
        start_time) and are left out; this walks runs_start_time_idx. (runs.sql:33)
        """
        return self._many("most_recent_runs", r.Run, {"limit": limit})

    def insert_run(
        self, *, experiment_id: Any, parent_run_id: Any, name: Any, run_type: Any, status: Any,
        start_time: Any, end_time: Any, summary_metrics: Any, tags: Any, user_id: Any,
        error_type: Any, error_message: Any,
    ) -> r.Run:
        """The new run. Like the column default, start_time is now() when not given, except for a
        scheduled run, which has not started yet. (runs.sql:44)
        """
        return self._one(
            "insert_run", r.Run,
            {
                "experiment_id": experiment_id, "parent_run_id": parent_run_id, "name": name,
                "run_type": run_type, "status": status, "start_time": start_time,
                "end_time": end_time, "summary_metrics": summary_metrics, "tags": tags,
                "user_id": user_id, "error_type": error_type, "error_message": error_message,
            },
        )

    def update_run(self, *, patch: Any, id: Any) -> r.Run:
        """The run after merging :patch (a JSON object of the columns to change) into it. (runs.sql:58)"""
        return self._one("update_run", r.Run, {"patch": patch, "id": id})

    def delete_run(self, *, id: Any) -> UUID:
        """The id of the deleted run (NotFound when there was none). Its configurations, snapshots,
        trials and series go with it; a model it produced blocks the delete. (runs.sql:71)
        """
        return self._scalar("delete_run", UUID, {"id": id})

    # -- search.sql ------------------------------------------------------------------------------

    def metric_keys(self, *, limit: Any) -> list[r.MetricKey]:
        """Every summary metric some run reports, by name: a walk of run_metrics_key_value_idx that
        jumps from one key to the next (a loose index scan), so a few dozen probes for a few dozen
        keys however many runs report them. At most :limit names. (search.sql:4)
        """
        return self._many("metric_keys", r.MetricKey, {"limit": limit})

    def metric_key_exists(self, *, key: Any) -> bool:
        """Whether any run reports the summary metric :key (one probe of run_metrics_key_value_idx).
        (search.sql:19)
        """
        return self._scalar("metric_key_exists", bool, {"key": key})

    # -- series_copy.sql -------------------------------------------------------------------------

    def copy_equity_in(self) -> AbstractContextManager[psycopg.Copy]:
        """Rows of equity_curves, in the order resultsdb.series.ingest encodes them.
        (series_copy.sql:10)
        """
        return self._copy("copy_equity_in", {})

    def copy_trades_in(self) -> AbstractContextManager[psycopg.Copy]:
        """Rows of trade_logs, in the order resultsdb.series.ingest encodes them. (series_copy.sql:16)"""
        return self._copy("copy_trades_in", {})

    def copy_equity_out(
        self, *, run_id: Any, model_id: Any, start: Any, end: Any,
    ) -> AbstractContextManager[psycopg.Copy]:
        """One curve in time order, optionally within [:start, :end). NULL comes out as NaN, which no
        stored value can be (a check refuses it), so every row has the same width.
        (series_copy.sql:23)
        """
        return self._copy(
            "copy_equity_out", {"run_id": run_id, "model_id": model_id, "start": start, "end": end},
        )

    def copy_equity_out_downsampled(
        self, *, every: Any, origin: Any, run_id: Any, model_id: Any, start: Any, end: Any,
    ) -> AbstractContextManager[psycopg.Copy]:
        """One curve for plotting: per :every bucket (date_bin from :origin) the first, last, lowest
        and highest point, each a real point of the curve (M4 downsampling), in time order. At most
        four rows per bucket, so a line plot keeps every extreme. (series_copy.sql:39)
        """
        return self._copy(
            "copy_equity_out_downsampled",
            {
                "every": every, "origin": origin, "run_id": run_id, "model_id": model_id,
                "start": start, "end": end,
            },
        )

    def copy_trades_out(
        self, *, run_id: Any, model_id: Any, start: Any, end: Any,
    ) -> AbstractContextManager[psycopg.Copy]:
        """One trade log in seq order, optionally trades with ts within [:start, :end). Fixed-width
        columns first; a NULL pnl, fee or slippage comes out as NaN (no stored one can be NaN).
        (series_copy.sql:62)
        """
        return self._copy(
            "copy_trades_out", {"run_id": run_id, "model_id": model_id, "start": start, "end": end},
        )

    def copy_equity_partition_out(self, *, partition: str) -> AbstractContextManager[psycopg.Copy]:
        """Every row of one equity_curves partition, as stored (archive). (series_copy.sql:77)"""
        return self._copy("copy_equity_partition_out", {}, identifiers={"partition": partition})

    def copy_equity_partition_in(self, *, partition: str) -> AbstractContextManager[psycopg.Copy]:
        """Rows into one equity_curves partition (restore). (series_copy.sql:84)"""
        return self._copy("copy_equity_partition_in", {}, identifiers={"partition": partition})

    def copy_trades_partition_out(self, *, partition: str) -> AbstractContextManager[psycopg.Copy]:
        """Every row of one trade_logs partition, as stored (archive). (series_copy.sql:91)"""
        return self._copy("copy_trades_partition_out", {}, identifiers={"partition": partition})

    def copy_trades_partition_in(self, *, partition: str) -> AbstractContextManager[psycopg.Copy]:
        """Rows into one trade_logs partition (restore). (series_copy.sql:99)"""
        return self._copy("copy_trades_partition_in", {}, identifiers={"partition": partition})

    # -- series_ingest.sql -----------------------------------------------------------------------

    def series_batch_by_key(
        self, *, run_id: Any, model_id: Any, kind: Any, batch_key: Any,
    ) -> r.SeriesBatch | None:
        """The batch of this series with this key: no row or one. (series_ingest.sql:9)"""
        return self._one_or_none(
            "series_batch_by_key", r.SeriesBatch,
            {"run_id": run_id, "model_id": model_id, "kind": kind, "batch_key": batch_key},
        )

    def insert_series_batch(
        self, *, run_id: Any, model_id: Any, kind: Any, batch_key: Any, row_count: Any,
        first_ts: Any, last_ts: Any, checksum: Any,
    ) -> r.SeriesBatch | None:
        """Record a written batch. No row when the key is taken: a concurrent or earlier write of the
        same batch committed first, and the caller rolls its copy back. (series_ingest.sql:20)
        """
        return self._one_or_none(
            "insert_series_batch", r.SeriesBatch,
            {
                "run_id": run_id, "model_id": model_id, "kind": kind, "batch_key": batch_key,
                "row_count": row_count, "first_ts": first_ts, "last_ts": last_ts,
                "checksum": checksum,
            },
        )

    def series_batches_of_run(self, *, run_id: Any) -> list[r.SeriesBatch]:
        """Every batch written to a run's series, in the order they were written.
        (series_ingest.sql:31)
        """
        return self._many("series_batches_of_run", r.SeriesBatch, {"run_id": run_id})

    def ensure_run_series_partition(self, *, run_id: Any) -> list[r.PartitionName]:
        """Create the series partitions of the month the run was created in, if missing
        (ensure_series_partition is idempotent); the names created. (series_ingest.sql:40)
        """
        return self._many("ensure_run_series_partition", r.PartitionName, {"run_id": run_id})

    def lock_series_run(self, *, run_id: Any) -> UUID | None:
        """The run's id, locked FOR KEY SHARE as a foreign-key check locks it (so it cannot be deleted
        until the write ends); null when there is no such run. (series_ingest.sql:48)
        """
        return self._scalar_or_none("lock_series_run", UUID, {"run_id": run_id})

    def lock_series_model(self, *, model_id: Any) -> UUID | None:
        """The model's id, locked FOR KEY SHARE; null when there is no such model.
        (series_ingest.sql:55)
        """
        return self._scalar_or_none("lock_series_model", UUID, {"model_id": model_id})

    def may_skip_series_foreign_keys(self) -> bool:
        """True when this session may set session_replication_role (a superuser, or a role granted SET
        on it): bulk writes then check the run and model once, not once per row.
        (series_ingest.sql:61)
        """
        return self._scalar("may_skip_series_foreign_keys", bool, {})

    def session_replication_role(self) -> str:
        """This session's session_replication_role (origin unless something changed it).
        (series_ingest.sql:68)
        """
        return self._scalar("session_replication_role", str, {})

    def set_session_replication_role(self, *, role: Any) -> str:
        """Set session_replication_role until the transaction (or savepoint) ends; the new value.
        (series_ingest.sql:74)
        """
        return self._scalar("set_session_replication_role", str, {"role": role})

    def lock_series_writer(self, *, kind: Any, run_id: Any, model_id: Any) -> None:
        """Serialise writers of one series until the transaction ends: a trade log's next seq is read,
        then used. (series_ingest.sql:80)
        """
        return self._execute(
            "lock_series_writer", {"kind": kind, "run_id": run_id, "model_id": model_id},
        )

    def next_trade_seq(self, *, run_id: Any, model_id: Any) -> int:
        """The seq after the last one of a trade log (0 for an empty log). (series_ingest.sql:87)"""
        return self._scalar("next_trade_seq", int, {"run_id": run_id, "model_id": model_id})

    def equity_peak_before(self, *, run_id: Any, model_id: Any, before: Any) -> float | None:
        """The highest portfolio_value of a curve before :before (null when it has no earlier point):
        where a batch's running peak, and so its drawdown, starts. (series_ingest.sql:98)
        """
        return self._scalar_or_none(
            "equity_peak_before", float, {"run_id": run_id, "model_id": model_id, "before": before},
        )

    # -- series_partitions.sql -------------------------------------------------------------------

    def series_month_partitions(self, *, before: Any) -> list[r.SeriesPartition]:
        """The month partitions (not DEFAULT) of equity_curves and trade_logs holding only runs created
        before :before, oldest first, with their run-id bounds. (series_partitions.sql:4)
        """
        return self._many("series_month_partitions", r.SeriesPartition, {"before": before})

    def series_partition_by_name(self, *, name: Any) -> r.SeriesPartition | None:
        """The month partition called :name, if it is attached: no row or one.
        (series_partitions.sql:27)
        """
        return self._one_or_none("series_partition_by_name", r.SeriesPartition, {"name": name})

    def ensure_month_series_partition(self, *, month: Any) -> list[r.PartitionName]:
        """Create the series partitions of the month holding :month (idempotent; rows the DEFAULT
        partition holds for that range move in); the names created. (series_partitions.sql:48)
        """
        return self._many("ensure_month_series_partition", r.PartitionName, {"month": month})

    def lock_partition_for_archive(self, *, partition: str) -> None:
        """Block writes to the partition, not reads, until the archiving transaction ends: the rows
        read again under it are the rows dropped. (series_partitions.sql:56)
        """
        return self._execute("lock_partition_for_archive", {}, identifiers={"partition": partition})

    def drop_series_partition(self, *, partition: str) -> None:
        """Drop an archived month partition. Dropped directly, not detached first: DETACH makes the
        partition's foreign keys stand-alone, which creates and drops triggers on runs and models
        and so takes ACCESS EXCLUSIVE locks on both until the commit. DROP locks the series table
        (ACCESS EXCLUSIVE), its DEFAULT partition and the partition itself, nothing else.
        (series_partitions.sql:63)
        """
        return self._execute("drop_series_partition", {}, identifiers={"partition": partition})

    # -- stats.sql -------------------------------------------------------------------------------

    def series_partitions(self) -> list[r.PartitionInfo]:
        """Partitions of the series tables with their run-id bounds, row estimates and sizes.
        row_estimate is -1 until the partition has been analyzed. (stats.sql:3)
        """
        return self._many("series_partitions", r.PartitionInfo, {})

    # -- stats_trading.sql -----------------------------------------------------------------------

    def run_trading_stats(
        self, *, run_id: Any, model_id: Any, risk_free: Any, periods_per_year: Any,
    ) -> r.RunStats:
        """One run's statistics from its equity curve and trade log for one model (or none). Undefined
        statistics are null; NotFound when the run does not exist. (stats_trading.sql:6)
        """
        return self._one(
            "run_trading_stats", r.RunStats,
            {
                "run_id": run_id, "model_id": model_id, "risk_free": risk_free,
                "periods_per_year": periods_per_year,
            },
        )

    def store_run_trading_stats(self, *, drop: Any, patch: Any, run_id: Any) -> r.Run:
        """The run after storing statistics into summary_metrics in one statement: the keys in :drop
        (statistics now undefined) go, :patch is merged over the rest, and every other key stays.
        Concurrent merges serialise on the row lock, so none is lost. (stats_trading.sql:144)
        """
        return self._one(
            "store_run_trading_stats", r.Run, {"drop": drop, "patch": patch, "run_id": run_id},
        )

    def search_trial_returns(self, *, search_run_id: Any) -> list[r.TrialReturn]:
        """Per-period returns of every trial of a search, aligned in time. A trial is one equity curve
        (run_id, model_id) of a completed child run of :search_run_id (by runs.parent_run_id or
        hyperparameter_results.trial_run_id). Only timestamps present in every trial's curve are
        kept, and each return spans consecutive kept timestamps, so every trial has the same number
        of rows. ret is null after a value <= 0. (stats_trading.sql:156)
        """
        return self._many("search_trial_returns", r.TrialReturn, {"search_run_id": search_run_id})

    # -- tearsheet.sql ---------------------------------------------------------------------------

    def tearsheet_benchmark(
        self, *, run_id: Any, model_id: Any, periods_per_year: Any, risk_free: Any,
    ) -> r.TearSheetBenchmark:
        """One series' statistics against its benchmark_value column: the benchmark's total return and
        Sharpe, excess return, CAPM alpha and beta (OLS of excess returns on the periods where both
        returns exist; alpha per period times P, as quantstats' greeks), R², correlation, tracking
        error, information ratio (annualised) and Morningstar's geometric up and down capture. Null
        where undefined; NotFound for no such run. (tearsheet.sql:20)
        """
        return self._one(
            "tearsheet_benchmark", r.TearSheetBenchmark,
            {
                "run_id": run_id, "model_id": model_id, "periods_per_year": periods_per_year,
                "risk_free": risk_free,
            },
        )

    def tearsheet_distribution(
        self, *, run_id: Any, model_id: Any, omega_threshold: Any, periods_per_year: Any,
    ) -> r.TearSheetDistribution:
        """One series' distribution of periodic returns: skew and excess kurtosis (pandas' bias-
        corrected estimators, as quantstats), historical VaR and CVaR at 95% and 99% (linear
        interpolation between order statistics, numpy's and pandas' default; CVaR the mean of the
        returns at or below VaR), tail ratio, Omega above :omega_threshold (an annual rate,
        converted to one period like the risk-free rate), the best and worst period, and the best
        and worst UTC day, month and year (returns compounded in each). (tearsheet.sql:130)
        """
        return self._one(
            "tearsheet_distribution", r.TearSheetDistribution,
            {
                "run_id": run_id, "model_id": model_id, "omega_threshold": omega_threshold,
                "periods_per_year": periods_per_year,
            },
        )

    def tearsheet_monthly_returns(self, *, run_id: Any, model_id: Any) -> list[r.PeriodReturn]:
        """Calendar-month returns of one series, oldest first: the strategy's and the benchmark's
        returns compounded within each UTC month. A month is listed when a return ends in it; its
        benchmark_return is null when no benchmark return does. No rows for a curve without returns.
        (tearsheet.sql:253)
        """
        return self._many(
            "tearsheet_monthly_returns", r.PeriodReturn, {"run_id": run_id, "model_id": model_id},
        )

    def tearsheet_annual_returns(self, *, run_id: Any, model_id: Any) -> list[r.PeriodReturn]:
        """Calendar-year returns of one series, oldest first, as tearsheet_monthly_returns but
        compounded within each UTC year; month is null. (tearsheet.sql:304)
        """
        return self._many(
            "tearsheet_annual_returns", r.PeriodReturn, {"run_id": run_id, "model_id": model_id},
        )

    def tearsheet_drawdowns(
        self, *, run_id: Any, model_id: Any, top: int,
    ) -> list[r.DrawdownEpisode]:
        """The {top} deepest drawdown episodes of one series, deepest first (ties: earliest peak
        first), as run_trading_stats defines them: a point at its running peak opens an episode, the
        next point at or above the peak recovers it. Each with its peak, valley (the deepest point,
        the earliest on a tie) and recovery time (null when never recovered), depth (1 - valley /
        peak) and days from the peak to the valley and to the recovery (or to the last point). No
        rows for a curve without returns. (tearsheet.sql:353)
        """
        return self._many(
            "tearsheet_drawdowns", r.DrawdownEpisode, {"run_id": run_id, "model_id": model_id},
            literals={"top": top},
        )

    def tearsheet_rolling_rows(
        self, *, run_id: Any, model_id: Any, window: Any, points: Any, risk_free: Any,
        periods_per_year: Any,
    ) -> list[r.RollingPoint]:
        """Rolling Sharpe, volatility and beta of one series over windows of the last :window returns
        (quantstats' rolling_sharpe, rolling_volatility and rolling_greeks' beta: pandas rolling
        with min_periods = window), for plotting: at most :points rows, oldest first. Of the returns
        with a full window, every k-th is kept counting back from the last (so the last is always
        kept), k = ceil(full windows / :points). Only the kept windows are aggregated: each return
        is sent to the kept windows that hold it, by arithmetic on its index, so the cost is the
        curve plus the kept windows' sizes. Beta uses the periods of a window where the benchmark
        has a return. No rows for a curve without returns. (tearsheet.sql:421)
        """
        return self._many(
            "tearsheet_rolling_rows", r.RollingPoint,
            {
                "run_id": run_id, "model_id": model_id, "window": window, "points": points,
                "risk_free": risk_free, "periods_per_year": periods_per_year,
            },
        )

    def tearsheet_rolling_interval(
        self, *, window: Any, run_id: Any, model_id: Any, points: Any, risk_free: Any,
        periods_per_year: Any,
    ) -> list[r.RollingPoint]:
        """As tearsheet_rolling_rows, over a time window instead: the returns ending in (t - :window,
        t], pandas' rolling(offset) default closed='right'. A return has a full window once t -
        :window reaches the curve's first point. A forward frame over [t_i, t_i + :window - 1
        microsecond] (timestamps are whole microseconds) counts the points whose windows hold return
        i; count has an inverse transition, so it is one pass, and the rest is the arithmetic of
        tearsheet_rolling_rows. (tearsheet.sql:486)
        """
        return self._many(
            "tearsheet_rolling_interval", r.RollingPoint,
            {
                "window": window, "run_id": run_id, "model_id": model_id, "points": points,
                "risk_free": risk_free, "periods_per_year": periods_per_year,
            },
        )

    # -- tracking.sql ----------------------------------------------------------------------------

    def merge_run_summary_metrics(self, *, metrics: Any, id: Any) -> r.Run:
        """Merge metrics into a run's summary_metrics in one statement: concurrent merges serialise on
        the row lock and each sees the other's keys, so nothing is lost. (tracking.sql:4)
        """
        return self._one("merge_run_summary_metrics", r.Run, {"metrics": metrics, "id": id})

    def end_run(self, *, status: Any, error_type: Any, error_message: Any, id: Any) -> r.Run:
        """Move a run that has not ended yet to a terminal status, recording the error of a failed run.
        end_time is stamped by trigger; the status machine trigger refuses scheduled -> completed. A
        run that already ended is not matched (no row), even for its own status: the trigger would
        let completed -> completed overwrite the error. (tracking.sql:15)
        """
        return self._one(
            "end_run", r.Run,
            {"status": status, "error_type": error_type, "error_message": error_message, "id": id},
        )

    def set_experiment_status(self, *, status: Any, id: Any) -> r.Experiment:
        """Change an experiment's status (the transition trigger decides what is allowed).
        (tracking.sql:30)
        """
        return self._one("set_experiment_status", r.Experiment, {"status": status, "id": id})

    def search_runs_asc(
        self, *, experiment_id: Any, parent_run_id: Any, status: Any, run_type: Any, tags: Any,
        started_after: Any, started_before: Any, after_id: Any, after_value: Any, limit: Any,
        order_by: Literal[
            "created_at", "end_time", "id", "run_type", "start_time", "status", "updated_at",
        ],
    ) -> list[r.Run]:
        """Runs matching every filter given (null = no filter), ascending by order_by then id, after
        the keyset cursor (after_value, after_id). Rows whose sort column is null (e.g. end_time of
        a running run) are not listed when sorting by that column. Each order has an index on
        (order_by, id) (docs/design.md); id is for a filter that pins the sort column, which leaves
        the id's order. (tracking.sql:37)
        """
        return self._many(
            "search_runs_asc", r.Run,
            {
                "experiment_id": experiment_id, "parent_run_id": parent_run_id, "status": status,
                "run_type": run_type, "tags": tags, "started_after": started_after,
                "started_before": started_before, "after_id": after_id, "after_value": after_value,
                "limit": limit,
            },
            identifiers={"order_by": order_by},
        )

    def search_runs_desc(
        self, *, experiment_id: Any, parent_run_id: Any, status: Any, run_type: Any, tags: Any,
        started_after: Any, started_before: Any, after_id: Any, after_value: Any, limit: Any,
        order_by: Literal[
            "created_at", "end_time", "id", "run_type", "start_time", "status", "updated_at",
        ],
    ) -> list[r.Run]:
        """As search_runs_asc, descending. (tracking.sql:60)"""
        return self._many(
            "search_runs_desc", r.Run,
            {
                "experiment_id": experiment_id, "parent_run_id": parent_run_id, "status": status,
                "run_type": run_type, "tags": tags, "started_after": started_after,
                "started_before": started_before, "after_id": after_id, "after_value": after_value,
                "limit": limit,
            },
            identifiers={"order_by": order_by},
        )

    def search_experiments(
        self, *, status: Any, tags: Any, created_after: Any, created_before: Any, after_id: Any,
        limit: Any,
    ) -> list[r.Experiment]:
        """Experiments matching every filter given, oldest first, after the id cursor.
        (tracking.sql:79)
        """
        return self._many(
            "search_experiments", r.Experiment,
            {
                "status": status, "tags": tags, "created_after": created_after,
                "created_before": created_before, "after_id": after_id, "limit": limit,
            },
        )

    def runs_using_snapshot(self, *, snapshot_id: Any) -> list[r.Run]:
        """Runs that registered a snapshot of the same data: same source, range and features_hash.
        md5(data_source) is what data_snapshots_features_idx holds of the source. (tracking.sql:93)
        """
        return self._many("runs_using_snapshot", r.Run, {"snapshot_id": snapshot_id})

    def lock_model(self, *, model_id: Any) -> UUID | None:
        """Lock a model's row for the rest of the transaction: promotions of one model's versions queue
        here, so exactly one version ends in production. (tracking.sql:108)
        """
        return self._scalar_or_none("lock_model", UUID, {"model_id": model_id})

    def archive_production_except(self, *, model_id: Any, keep_id: Any) -> int:
        """Archive the model's production version unless it is the one being promoted.
        (tracking.sql:115)
        """
        return self._rowcount(
            "archive_production_except", {"model_id": model_id, "keep_id": keep_id},
        )

    def set_version_status(self, *, status: Any, id: Any) -> r.ModelVersion:
        """(tracking.sql:122)"""
        return self._one("set_version_status", r.ModelVersion, {"status": status, "id": id})

    def production_version(self, *, model_id: Any) -> r.ModelVersion:
        """The model's version in production (NotFound when none is). (tracking.sql:128)"""
        return self._one("production_version", r.ModelVersion, {"model_id": model_id})

    def latest_version(self, *, model_id: Any) -> r.ModelVersion:
        """The model's highest-numbered version. (tracking.sql:135)"""
        return self._one("latest_version", r.ModelVersion, {"model_id": model_id})

    def finish_trial(self, *, status: Any, objective_value: Any, metrics: Any, id: Any) -> r.Trial:
        """End a running trial. A trial that already ended is not matched (no row), even for its own
        status: completed -> completed would otherwise overwrite its objective. (tracking.sql:142)
        """
        return self._one(
            "finish_trial", r.Trial,
            {"status": status, "objective_value": objective_value, "metrics": metrics, "id": id},
        )

    def best_trial_max(self, *, run_id: Any) -> r.Trial:
        """The completed trial with the highest objective (ties: the earliest number).
        (tracking.sql:155)
        """
        return self._one("best_trial_max", r.Trial, {"run_id": run_id})

    def best_trial_min(self, *, run_id: Any) -> r.Trial:
        """The completed trial with the lowest objective (ties: the earliest number).
        (tracking.sql:165)
        """
        return self._one("best_trial_min", r.Trial, {"run_id": run_id})

    def all_trials_of_run(self, *, run_id: Any) -> list[r.Trial]:
        """Every trial of a run, in number order. (tracking.sql:175)"""
        return self._many("all_trials_of_run", r.Trial, {"run_id": run_id})

    # -- trades.sql ------------------------------------------------------------------------------

    def run_round_trips(self, *, run_id: Any, model_id: Any) -> list[r.RoundTrip]:
        """A run's trade log paired FIFO into round trips per asset and side: the closed ones in exit
        order (exit ts, exit seq, then entry seq), then the quantity still open at the end ('open',
        in entry order) and closes that found nothing open ('unmatched', a data error, in log order
        among the closed ones). Empty for a log without trades. (trades.sql:6)
        """
        return self._many("run_round_trips", r.RoundTrip, {"run_id": run_id, "model_id": model_id})

    def run_trade_stats(self, *, run_id: Any, model_id: Any) -> r.TradeStats:
        """Statistics of a run's round trips (closed ones only); turnover from every leg of the log
        over the mean of the series' equity curve. Undefined statistics are null; NotFound when the
        run does not exist. Sums are numeric (no overflow error) and read back through
        numeric_as_double (null beyond double precision's range). (trades.sql:18)
        """
        return self._one("run_trade_stats", r.TradeStats, {"run_id": run_id, "model_id": model_id})

    # -- trials.sql ------------------------------------------------------------------------------

    def trial_by_id(self, *, id: Any) -> r.Trial:
        """The trial with this id. (trials.sql:3)"""
        return self._one("trial_by_id", r.Trial, {"id": id})

    def trials_page(self, *, after: Any, limit: Any) -> list[r.Trial]:
        """Up to :limit trials (of every run) with id after :after, oldest first. (trials.sql:10)"""
        return self._many("trials_page", r.Trial, {"after": after, "limit": limit})

    def trials_of_run(self, *, run_id: Any, after_number: Any, limit: Any) -> list[r.Trial]:
        """Up to :limit trials of one run numbered after :after_number, in trial order. (trials.sql:20)"""
        return self._many(
            "trials_of_run", r.Trial,
            {"run_id": run_id, "after_number": after_number, "limit": limit},
        )

    def insert_trial(
        self, *, synchronous_commit: Any, run_id: Any, trial_run_id: Any, parameters: Any,
        objective_value: Any, metrics: Any, status: Any,
    ) -> r.Trial:
        """The new trial, numbered by bumping runs.trial_count in the same statement: the row lock on
        the run serialises concurrent creators, and no row comes back when the run does not exist.
        :synchronous_commit, when not null, is this statement's own commit mode (set_config local to
        its transaction): 'off' lets a running trial's start commit without waiting for its WAL
        flush, which its finish then does (see docs/design.md, "Trial starts"). Null keeps the
        session's setting. (trials.sql:31)
        """
        return self._one(
            "insert_trial", r.Trial,
            {
                "synchronous_commit": synchronous_commit, "run_id": run_id,
                "trial_run_id": trial_run_id, "parameters": parameters,
                "objective_value": objective_value, "metrics": metrics, "status": status,
            },
        )

    def update_trial(self, *, patch: Any, id: Any) -> r.Trial:
        """The trial after merging :patch. Its run, number and parameters never change. (trials.sql:59)"""
        return self._one("update_trial", r.Trial, {"patch": patch, "id": id})

    def delete_trial(self, *, id: Any) -> UUID:
        """The id of the deleted trial (NotFound when there was none). Its number is not reused.
        (trials.sql:71)
        """
        return self._scalar("delete_trial", UUID, {"id": id})
