-- Model registry: models, their numbered versions, the audit of version status
-- changes (written by trigger, read here) and the artifacts each version owns.

-- name: model_by_id
-- returns: one
-- record: Model
-- table: models
-- The model with this id.
select * from models where id = :id;

-- name: model_by_name
-- returns: one
-- record: Model
-- table: models
-- The model called :name (names are unique).
select * from models where name = :name;

-- name: models_page
-- returns: many
-- record: Model
-- Up to :limit models with id after :after, oldest first.
select *
  from models
 where id > coalesce(cast(:after as uuid), '00000000-0000-0000-0000-000000000000')
 order by id
 limit :limit;

-- name: insert_model
-- returns: one
-- record: Model
-- table: models
-- The new model (version_count 0: it has no versions yet).
insert into models (run_id, config_id, model_type, name, metadata)
values (:run_id, :config_id, :model_type, :name, :metadata)
returning *;

-- name: update_model
-- returns: one
-- record: Model
-- table: models
-- The model after merging :patch. run_id (where it was first produced) and
-- version_count (the version counter) never change here.
update models t
   set (config_id, model_type, name, metadata) =
       (select r.config_id, r.model_type, r.name, r.metadata
          from jsonb_populate_record(t, to_jsonb(t) || cast(:patch as jsonb)) as r)
 where t.id = :id
returning t.*;

-- name: delete_model
-- returns: scalar
-- type: uuid
-- table: models
-- The id of the deleted model (NotFound when there was none); its versions and
-- artifacts go with it, unless a version is in production.
delete from models where id = :id returning id;

-- name: model_version_by_id
-- returns: one
-- record: ModelVersion
-- table: model_versions
-- The model version with this id.
select * from model_versions where id = :id;

-- name: model_versions_page
-- returns: many
-- record: ModelVersion
-- Up to :limit model versions (of every model) with id after :after, oldest first.
select *
  from model_versions
 where id > coalesce(cast(:after as uuid), '00000000-0000-0000-0000-000000000000')
 order by id
 limit :limit;

-- name: versions_of_model
-- returns: many
-- record: ModelVersion
-- Every version of one model, version 1 first.
select * from model_versions where model_id = :model_id order by version;

-- name: insert_model_version
-- returns: one
-- record: ModelVersion
-- table: models
-- The new version, numbered by bumping models.version_count in the same
-- statement: the row lock on the model serialises concurrent creators, and
-- no row comes back when the model does not exist.
with n as (
    update models set version_count = version_count + 1
     where id = :model_id
    returning id, version_count
)
insert into model_versions (model_id, version, run_id, config_id, commit_hash, status,
                            metrics, description)
select n.id, n.version_count, cast(:run_id as uuid), cast(:config_id as uuid),
       cast(:commit_hash as text), cast(:status as text), cast(:metrics as jsonb),
       cast(:description as text)
  from n
returning *;

-- name: set_audit_context
-- returns: none
-- Who changes model version statuses and why, for the audit trigger, until the
-- transaction ends ('' falls back to session_user / no reason).
select set_config('resultsdb.actor', coalesce(cast(:actor as text), ''), true),
       set_config('resultsdb.reason', coalesce(cast(:reason as text), ''), true);

-- name: update_model_version
-- returns: one
-- record: ModelVersion
-- table: model_versions
-- The version after merging :patch into its metrics and description (its status
-- changes through set_version_status alone: locked, checked and audited).
update model_versions t
   set (metrics, description) =
       (select r.metrics, r.description
          from jsonb_populate_record(t, to_jsonb(t) || cast(:patch as jsonb)) as r)
 where t.id = :id
returning t.*;

-- name: delete_model_version
-- returns: scalar
-- type: uuid
-- table: model_versions
-- The id of the deleted version (NotFound when there was none). A production
-- version is protected (archive it first). Its number is not reused.
delete from model_versions where id = :id returning id;

-- name: transitions_of_model_version
-- returns: many
-- record: ModelVersionTransition
-- The audit trail of one version's statuses, oldest first (creation included).
select *
  from model_version_transitions
 where model_version_id = :model_version_id
 order by changed_at, id;

-- name: model_artifact_by_id
-- returns: one
-- record: ModelArtifact
-- table: model_artifacts
-- The artifact with this id.
select * from model_artifacts where id = :id;

-- name: model_artifacts_page
-- returns: many
-- record: ModelArtifact
-- Up to :limit artifacts (of every version) with id after :after, oldest first.
select *
  from model_artifacts
 where id > coalesce(cast(:after as uuid), '00000000-0000-0000-0000-000000000000')
 order by id
 limit :limit;

-- name: artifacts_of_model_version
-- returns: many
-- record: ModelArtifact
-- The artifacts one model version owns, oldest first.
select * from model_artifacts where model_version_id = :model_version_id order by id;

-- name: insert_model_artifact
-- returns: one
-- record: ModelArtifact
-- table: model_artifacts
-- The new artifact row (the bytes themselves live in the artifact store).
insert into model_artifacts (model_version_id, artifact_type, storage_path, size_bytes,
                             file_format, content_hash)
values (:model_version_id, :artifact_type, :storage_path, :size_bytes, :file_format,
        :content_hash)
returning *;

-- name: update_model_artifact
-- returns: one
-- record: ModelArtifact
-- table: model_artifacts
-- The artifact after merging :patch. The content (hash, size, type) never
-- changes; only where it is stored and its declared format.
update model_artifacts t
   set (storage_path, file_format) =
       (select r.storage_path, r.file_format
          from jsonb_populate_record(t, to_jsonb(t) || cast(:patch as jsonb)) as r)
 where t.id = :id
returning t.*;

-- name: delete_model_artifact
-- returns: scalar
-- type: uuid
-- table: model_artifacts
-- The id of the deleted artifact row (NotFound when there was none).
delete from model_artifacts where id = :id returning id;
