-- Browsing from the command line: listings with what a person wants to see beside
-- each row (what a name or an id refers to: refs.sql).

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

-- name: metric_keys_of_experiment
-- returns: many
-- record: MetricKey
-- The summary metrics the runs of experiment :experiment_id have, by name: what a
-- leaderboard can rank by (run_metrics_rank_idx leads with experiment_id and key).
select distinct key
  from run_metrics
 where experiment_id = :experiment_id
 order by key;
