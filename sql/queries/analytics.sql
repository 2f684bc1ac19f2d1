-- Analytics: what researchers ask when picking the next model to promote.

-- name: leaderboard_desc
-- returns: many
-- record: LeaderboardRow
-- literal: limit
-- literal: status = scheduled | running | completed | failed | killed
-- An experiment's runs ranked by a summary metric, highest first (an index range scan
-- on run_metrics). status filters the runs (null = any); ties rank by run id. The
-- limit and status are written in (literals), so the prepared statement's cached
-- plan knows them (as parameters every call was planned afresh).
select row_number() over (order by m.value desc, m.run_id) as rank,
       r.id as run_id, r.name, r.run_type, r.status, m.key as metric, m.value,
       r.summary_metrics, r.start_time, r.end_time
  from run_metrics m
  join runs r on r.id = m.run_id
 where m.experiment_id = :experiment_id and m.key = :metric
   and ({status} is null or r.status = {status})
 order by m.value desc, m.run_id
 limit {limit};

-- name: leaderboard_asc
-- returns: many
-- record: LeaderboardRow
-- literal: limit
-- literal: status = scheduled | running | completed | failed | killed
-- As leaderboard_desc, lowest first (for losses, drawdowns).
select row_number() over (order by m.value, m.run_id) as rank,
       r.id as run_id, r.name, r.run_type, r.status, m.key as metric, m.value,
       r.summary_metrics, r.start_time, r.end_time
  from run_metrics m
  join runs r on r.id = m.run_id
 where m.experiment_id = :experiment_id and m.key = :metric
   and ({status} is null or r.status = {status})
 order by m.value, m.run_id
 limit {limit};

-- name: compare_runs
-- returns: many
-- record: RunComparison
-- Runs side by side: summary metrics and, per configuration name, the parameters of the
-- latest version each run saved. Rows come in the order of the ids given.
select r.id as run_id, r.name, r.run_type, r.status, r.summary_metrics,
       coalesce((select jsonb_object_agg(c.name, c.parameters)
                   from (select distinct on (name) name, parameters
                           from configurations
                          where run_id = r.id
                          order by name, version desc) c), '{}'::jsonb) as parameters,
       r.start_time, r.end_time
  from unnest(cast(:run_ids as uuid[])) with ordinality as ids(id, ord)
  join runs r on r.id = ids.id
 order by ids.ord;

-- name: experiment_summary
-- returns: one
-- record: ExperimentSummary
-- table: experiments
-- Counts by status, durations of ended runs, and the best completed run by a metric
-- (direction 'max' or 'min'; null metric = no best run): the leaderboard's first.
select e.id as experiment_id, e.name, e.status,
       (select count(*) from runs where experiment_id = e.id) as run_count,
       coalesce((select jsonb_object_agg(status, n)
                   from (select status, count(*) as n from runs
                          where experiment_id = e.id group by status) s), '{}'::jsonb)
           as runs_by_status,
       d.mean_duration_s, d.max_duration_s,
       best.run_id as best_run_id, best.value as best_value
  from experiments e
  cross join lateral (
        select avg(extract(epoch from end_time - start_time))::float8 as mean_duration_s,
               max(extract(epoch from end_time - start_time))::float8 as max_duration_s
          from runs where experiment_id = e.id and end_time is not null) d
  left join lateral (
        select m.run_id, m.value from run_metrics m
          join runs br on br.id = m.run_id and br.status = 'completed'
         where m.experiment_id = e.id and m.key = :metric
         order by case when :direction = 'min' then m.value else -m.value end, m.run_id
         limit 1) best on true
 where e.id = :experiment_id;

-- name: model_summary
-- returns: one
-- record: ModelSummary
-- table: models
-- A model's versions, the one in production, the newest, and the bytes its artifacts hold.
select m.id as model_id, m.name, m.model_type,
       count(v.id) as version_count,
       max(v.version) as latest_version,
       max(v.version) filter (where v.status = 'production') as production_version,
       max(v.updated_at) filter (where v.status = 'production') as production_since,
       coalesce((select sum(a.size_bytes) from model_artifacts a
                   join model_versions av on av.id = a.model_version_id
                  where av.model_id = m.id), 0)::bigint as artifact_bytes
  from models m
  left join model_versions v on v.model_id = m.id
 where m.id = :model_id
 group by m.id, m.name, m.model_type;

-- name: models_needing_attention
-- returns: many
-- record: ModelAttention
-- Models with no production version, a production version older than max_age_days,
-- or a newer version whose metric beats production's (direction 'max' or 'min').
-- Metrics are compared through jsonb_number_within: a value that is not a number
-- double precision can hold compares as null, and no version's metrics fail the query.
with prod as (
    select model_id, id, version, updated_at, metrics from model_versions where status = 'production'
), better as (
    select v.model_id, max(v.version) as version
      from model_versions v join prod p on p.model_id = v.model_id
     where v.version > p.version and v.status <> 'archived'
       and (v.metrics ->> :metric) is not null and (p.metrics ->> :metric) is not null
       and case when :direction = 'min'
                then jsonb_number_within(v.metrics -> :metric) < jsonb_number_within(p.metrics -> :metric)
                else jsonb_number_within(v.metrics -> :metric) > jsonb_number_within(p.metrics -> :metric) end
     group by v.model_id
)
select m.id as model_id, m.name,
       p.version as production_version,
       b.version as better_version,
       case when p.id is null then 'no production version'
            when b.version is not null then 'a newer version has a better ' || :metric
            else 'production version older than ' || cast(:max_age_days as integer) || ' days' end as reason
  from models m
  left join prod p on p.model_id = m.id
  left join better b on b.model_id = m.id
 where p.id is null
    or b.version is not null
    or p.updated_at < now() - make_interval(days => cast(:max_age_days as integer))
 order by m.name;

-- name: model_version_lineage
-- returns: one
-- record: LineageRow
-- table: model_versions
-- Where a model version came from, in one query: its model, run and experiment, the
-- configuration chain root -> leaf, the run's data snapshots and the artifacts.
with recursive chain as (
    select c.*, 0 as depth from configurations c
     where c.id = (select coalesce(v.config_id, m.config_id)
                     from model_versions v join models m on m.id = v.model_id
                    where v.id = :version_id)
    union all
    select p.*, chain.depth + 1 from configurations p join chain on p.id = chain.parent_id
)
select to_jsonb(v) as version,
       to_jsonb(m) as model,
       to_jsonb(r) as run,
       to_jsonb(e) as experiment,
       coalesce((select jsonb_agg(to_jsonb(c) - 'depth' order by c.depth desc) from chain c),
                '[]'::jsonb) as configurations,
       coalesce((select jsonb_agg(to_jsonb(s) order by s.id) from data_snapshots s
                  where s.run_id = r.id), '[]'::jsonb) as snapshots,
       coalesce((select jsonb_agg(to_jsonb(a) order by a.id) from model_artifacts a
                  where a.model_version_id = v.id), '[]'::jsonb) as artifacts
  from model_versions v
  join models m on m.id = v.model_id
  join runs r on r.id = v.run_id
  join experiments e on e.id = r.experiment_id
 where v.id = :version_id;
