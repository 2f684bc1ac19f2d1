-- What a reference typed on the command line names: an id, the first hex digits of one,
-- a name, model@stage, model:version or experiment/run-name. Each query returns RefMatch
-- rows (kind, id, label); resultsdb.browse.resolve decides which forms to try.

-- name: refs_in_id_range
-- returns: many
-- record: RefMatch
-- literal: limit
-- Experiments, runs, models and model versions (those whose kind is in :kinds) with an
-- id from :low to :high. An id prefix pads to that range with 0s and fs, a whole id is a
-- range of one: each branch is a range scan of its primary key (id::text like '01a2%'
-- would read every row). At most :limit per kind: enough to list the candidates.
select kind, id, label
  from ((select 'experiment' as kind, e.id, e.name as label
           from experiments e
          where 'experiment' = any(cast(:kinds as text[])) and e.id >= :low and e.id <= :high
          order by e.id
          limit {limit})
        union all
        (select 'run', r.id, coalesce(e.name || '/' || r.name, e.name || ' (an unnamed run)')
           from runs r
           join experiments e on e.id = r.experiment_id
          where 'run' = any(cast(:kinds as text[])) and r.id >= :low and r.id <= :high
          order by r.id
          limit {limit})
        union all
        (select 'model', m.id, m.name
           from models m
          where 'model' = any(cast(:kinds as text[])) and m.id >= :low and m.id <= :high
          order by m.id
          limit {limit})
        union all
        (select 'version', v.id, m.name || ':' || v.version || ' (' || v.status || ')'
           from model_versions v
           join models m on m.id = v.model_id
          where 'version' = any(cast(:kinds as text[])) and v.id >= :low and v.id <= :high
          order by v.id
          limit {limit})) as found
 order by id;

-- name: refs_named
-- returns: many
-- record: RefMatch
-- The live experiment and the model called :name, of those kinds in :kinds (both names
-- are unique: experiments_name_live_key, models_name_key).
select 'experiment' as kind, id, name as label
  from experiments
 where 'experiment' = any(cast(:kinds as text[])) and name = :name and status <> 'archived'
union all
select 'model', id, name
  from models
 where 'model' = any(cast(:kinds as text[])) and name = :name;

-- name: runs_named
-- returns: many
-- record: RefMatch
-- literal: limit
-- The runs of experiment :experiment_id called :name, oldest first (run names need not
-- be unique: several rows are listed as candidates).
select 'run' as kind, r.id, e.name || '/' || r.name as label
  from runs r
  join experiments e on e.id = r.experiment_id
 where r.experiment_id = :experiment_id and r.name = :name
 order by r.id
 limit {limit};

-- name: versions_of_model_matching
-- returns: many
-- record: RefMatch
-- literal: limit
-- Versions of model :model_id, newest first: number :version when it is not null, only
-- those with status :status when it is not null.
select 'version' as kind, v.id, m.name || ':' || v.version || ' (' || v.status || ')' as label
  from model_versions v
  join models m on m.id = v.model_id
 where v.model_id = :model_id
   and (cast(:version as integer) is null or v.version = :version)
   and (cast(:status as text) is null or v.status = :status)
 order by v.version desc
 limit {limit};
