-- Browsing from the command line: listings with what a person wants to see beside
-- each row, and finding what an id or a name refers to.

-- name: model_listing_page
-- returns: many
-- record: ModelListing
-- Up to :limit models with id after :after, oldest first, each with its latest
-- and production version numbers; only models first produced in experiment
-- :experiment_id unless it is null.
select m.id, m.name, m.model_type, m.version_count, r.experiment_id,
       latest.version as latest_version,
       prod.version as production_version,
       prod.id as production_version_id,
       m.created_at
  from models m
  join runs r on r.id = m.run_id
  left join lateral (
        select mv.version from model_versions mv
         where mv.model_id = m.id order by mv.version desc limit 1) latest on true
  left join lateral (
        select mv.id, mv.version from model_versions mv
         where mv.model_id = m.id and mv.status = 'production') prod on true
 where (cast(:experiment_id as uuid) is null or r.experiment_id = :experiment_id)
   and m.id > coalesce(cast(:after as uuid), '00000000-0000-0000-0000-000000000000')
 order by m.id
 limit :limit;

-- name: kind_of_id
-- returns: scalar
-- type: str?
-- Which table holds a row with id :id: experiment, run, model or version (null
-- when none does). Ids are UUIDv7, unique across tables in practice.
select case
         when exists (select 1 from experiments where id = :id) then 'experiment'
         when exists (select 1 from runs where id = :id) then 'run'
         when exists (select 1 from models where id = :id) then 'model'
         when exists (select 1 from model_versions where id = :id) then 'version'
       end;
