-- model_registry: one row per model with its production and latest versions, how long
-- production has been live, and the artifact bytes its versions own.
create view model_registry as
select m.id as model_id,
       m.name as model_name,
       m.model_type,
       r.experiment_id,
       e.name as experiment_name,
       coalesce(v.versions, 0) as versions,
       latest.version as latest_version,
       latest.id as latest_version_id,
       latest.status as latest_status,
       prod.version as production_version,
       prod.id as production_version_id,
       prod.since as production_since,
       now() - prod.since as production_age,
       prod.metrics as production_metrics,
       coalesce(v.artifact_bytes, 0) as artifact_bytes,
       m.created_at
  from models m
  join runs r on r.id = m.run_id
  join experiments e on e.id = r.experiment_id
  left join lateral (
        select count(distinct mv.id)::integer as versions,
               sum(a.size_bytes)::bigint as artifact_bytes
          from model_versions mv
          left join model_artifacts a on a.model_version_id = mv.id
         where mv.model_id = m.id) v on true
  left join lateral (
        select mv.id, mv.version, mv.status
          from model_versions mv
         where mv.model_id = m.id
         order by mv.version desc
         limit 1) latest on true
  -- At most one production version per model (model_versions_one_production). It went
  -- live at its last transition to production in the audit trail.
  left join lateral (
        select mv.id, mv.version, mv.metrics,
               coalesce((select max(t.changed_at) from model_version_transitions t
                          where t.model_version_id = mv.id and t.to_status = 'production'),
                        mv.updated_at) as since
          from model_versions mv
         where mv.model_id = m.id and mv.status = 'production') prod on true;
comment on view model_registry is
    'One row per model: its production version (and since when), its latest version, and the bytes of its artifacts.';
comment on column model_registry.model_id is 'models.id.';
comment on column model_registry.model_name is 'models.name (unique).';
comment on column model_registry.model_type is 'dqn, lgbm, ...';
comment on column model_registry.experiment_id is 'The experiment of the run that first produced the model.';
comment on column model_registry.experiment_name is 'experiments.name of that experiment.';
comment on column model_registry.versions is 'Versions that exist now (deleted ones are not counted; models.version_count counts every version created).';
comment on column model_registry.latest_version is 'The highest version number (null when the model has no version).';
comment on column model_registry.latest_version_id is 'model_versions.id of the latest version.';
comment on column model_registry.latest_status is 'Status of the latest version: draft, staging, production or archived.';
comment on column model_registry.production_version is 'The version in production (null when none is).';
comment on column model_registry.production_version_id is 'model_versions.id of the production version.';
comment on column model_registry.production_since is 'When the production version last entered production (from model_version_transitions).';
comment on column model_registry.production_age is 'now() - production_since: how long production has been live.';
comment on column model_registry.production_metrics is 'metrics of the production version (a JSON object of numbers).';
comment on column model_registry.artifact_bytes is 'Bytes of all artifacts of all versions, as model_artifacts records them (a blob shared by two versions counts twice).';
comment on column model_registry.created_at is 'When the model was registered.';
