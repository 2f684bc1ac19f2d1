-- Baselines and bulk data for benchmarks/bench_api.py. Not part of the library: these are
-- what a hand-written client would send, measured against the same work through ResultsDB.

-- name: bench_trial_insert_raw
-- returns: scalar
-- type: uuid
-- The trial-lifecycle floor: one statement that bumps the run's counter and inserts the
-- numbered trial (the same counter-row statement as the library's insert_trial), as a
-- hand-written client would send it, autocommit.
with n as (
    update runs set trial_count = trial_count + 1
     where id = :run_id
    returning id, trial_count
)
insert into hyperparameter_results (run_id, trial_number, parameters, status)
select n.id, n.trial_count, cast(:parameters as jsonb), 'running'
  from n
returning id, trial_number;

-- name: bench_trial_finish_raw
-- returns: scalar
-- type: uuid
-- The second half of a raw lifecycle: end the running trial with its objective, the
-- same update as the library's finish_trial.
update hyperparameter_results
   set status = 'completed',
       objective_value = :objective_value,
       metrics = metrics || :metrics
 where id = :id and status = 'running'
returning id;

-- name: bench_run_insert_raw
-- returns: scalar
-- type: uuid
-- Run creation, raw: a running run in :experiment_id (the row the API's start_run inserts).
insert into runs (experiment_id, run_type, status) values (:experiment_id, 'backtest', 'running')
returning id;

-- name: bench_run_metrics_raw
-- returns: scalar
-- type: uuid
-- Merge metrics into the run's summary_metrics (the update log_summary_metrics makes).
update runs set summary_metrics = summary_metrics || :metrics where id = :id returning id;

-- name: bench_bulk_runs
-- returns: rowcount
-- :n completed runs in one experiment, each with random summary metrics; the
-- run_metrics trigger indexes them as it would for runs logged one at a time.
insert into runs (experiment_id, name, run_type, status, start_time, end_time, summary_metrics)
select :experiment_id, 'bulk-' || g, 'backtest', 'completed',
       now() - interval '1 hour', now(),
       jsonb_build_object('sharpe', random() * 3, 'sortino', random() * 4,
                          'max_drawdown', -random(), 'total_return', random() - 0.2)
  from generate_series(1, :n) as g;

-- name: bench_analyze
-- returns: none
-- The tables as autovacuum leaves them shortly after the bulk load: planner statistics,
-- and the visibility map that lets the leaderboard's index-only scan skip the heap.
vacuum (analyze) runs, run_metrics, configurations, model_versions, data_snapshots,
       model_artifacts;

-- name: bench_leaderboard_raw
-- returns: scalar
-- type: int
-- literal: limit
-- The raw indexed leaderboard: an index range scan on run_metrics (experiment, key, value),
-- the columns the API returns, the limit written in as the library's query has it. Run
-- with tuple rows by the benchmark (scalar is only its registry header).
select row_number() over (order by m.value desc, m.run_id) as rank,
       r.id, r.name, r.run_type, r.status, m.key, m.value,
       r.summary_metrics, r.start_time, r.end_time
  from run_metrics m
  join runs r on r.id = m.run_id
 where m.experiment_id = :experiment_id and m.key = :metric and r.status = 'completed'
 order by m.value desc, m.run_id
 limit {limit};

-- name: bench_leaderboard_unindexed
-- returns: scalar
-- type: int
-- literal: limit
-- The same leaderboard without the run_metrics table: rank by the jsonb value over runs,
-- which sorts every run of the experiment (why run_metrics exists).
select row_number() over (order by (r.summary_metrics ->> :metric)::float8 desc, r.id) as rank,
       r.id, r.name, r.run_type, r.status, cast(:metric as text),
       (r.summary_metrics ->> :metric)::float8,
       r.summary_metrics, r.start_time, r.end_time
  from runs r
 where r.experiment_id = :experiment_id and r.status = 'completed'
   and r.summary_metrics ? :metric
 order by (r.summary_metrics ->> :metric)::float8 desc, r.id
 limit {limit};

-- name: bench_compare_raw
-- returns: scalar
-- type: uuid
-- Runs side by side (summary metrics and each configuration's latest parameters).
select r.id, r.name, r.run_type, r.status, r.summary_metrics,
       coalesce((select jsonb_object_agg(c.name, c.parameters)
                   from (select distinct on (name) name, parameters
                           from configurations
                          where run_id = r.id
                          order by name, version desc) c), '{}'::jsonb),
       r.start_time, r.end_time
  from unnest(cast(:run_ids as uuid[])) with ordinality as ids(id, ord)
  join runs r on r.id = ids.id
 order by ids.ord;

-- name: bench_lineage_raw
-- returns: scalar
-- type: json
-- A model version's lineage in one query: version, model, run, experiment, the
-- configuration chain root -> leaf, the run's snapshots and the version's artifacts.
with recursive chain as (
    select c.*, 0 as depth from configurations c
     where c.id = (select coalesce(v.config_id, m.config_id)
                     from model_versions v join models m on m.id = v.model_id
                    where v.id = :version_id)
    union all
    select p.*, chain.depth + 1 from configurations p join chain on p.id = chain.parent_id
)
select to_jsonb(v), to_jsonb(m), to_jsonb(r), to_jsonb(e),
       coalesce((select jsonb_agg(to_jsonb(c) - 'depth' order by c.depth desc) from chain c),
                '[]'::jsonb),
       coalesce((select jsonb_agg(to_jsonb(s) order by s.id) from data_snapshots s
                  where s.run_id = r.id), '[]'::jsonb),
       coalesce((select jsonb_agg(to_jsonb(a) order by a.id) from model_artifacts a
                  where a.model_version_id = v.id), '[]'::jsonb)
  from model_versions v
  join models m on m.id = v.model_id
  join runs r on r.id = v.run_id
  join experiments e on e.id = r.experiment_id
 where v.id = :version_id;
