-- Runs with 20 metrics and 10 parameters each for benchmarks/bench_search.py, and the same
-- runs in MLflow's tables. Not part of the library.

-- name: bench_search_experiments
-- returns: rowcount
-- :n experiments to spread the runs over.
insert into experiments (name) select 'bench-search-' || g from generate_series(1, :n) as g;

-- name: bench_search_runs
-- returns: rowcount
-- Runs :lo + 1 .. :hi, completed backtests one every 100 ms from :t0, round-robin over the
-- experiments; summary_metrics: sharpe ~ N(0.5, 1), max_drawdown ~ U(0, 0.5) and m02 ..
-- m19 ~ U(0, 1), from a seeded generator. Run with triggers off: run_metrics is filled
-- afterwards by bench_search_run_metrics, as the trigger would.
with e as (select array_agg(id order by id) as ids, setseed(0.42) as seeded from experiments)
insert into runs (id, experiment_id, name, run_type, status, start_time, end_time,
                  created_at, updated_at, summary_metrics, tags, parameters)
select uuid_v7(t), e.ids[1 + mod(g, cardinality(e.ids))], 'run-' || g, 'backtest', 'completed',
       t, t + interval '5 minutes', t, t + interval '5 minutes',
       (select jsonb_object_agg('m' || lpad(k::text, 2, '0'), round(random()::numeric, 6))
          from generate_series(2, 19 + 0 * g) as k)
       || jsonb_build_object(
              'sharpe', round((0.5 + sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))::numeric, 6),
              'max_drawdown', round((random() / 2)::numeric, 6)),
       jsonb_build_object('asset', (array['btc', 'eth', 'sol', 'ada'])[1 + mod(g, 4)]),
       -- 10 parameters, two of them nested under model; fast takes 10 values (5 ... 50)
       jsonb_build_array(jsonb_build_object(
           'fast', 5 * (1 + mod(abs(hashtext(g || 'f')), 10)),
           'slow', 50 + mod(abs(hashtext(g || 's')), 200),
           'lr', (array[0.0001, 0.0003, 0.001, 0.003, 0.01])[1 + mod(abs(hashtext(g || 'l')), 5)],
           'gamma', 0.9 + mod(abs(hashtext(g || 'g')), 10) / 100.0,
           'window', mod(abs(hashtext(g || 'w')), 30) + 5,
           'threshold', mod(abs(hashtext(g || 't')), 100) / 100.0,
           'use_ema', mod(abs(hashtext(g || 'e')), 2) = 0,
           'asset', (array['btc', 'eth', 'sol', 'ada'])[1 + mod(g, 4)],
           'model', jsonb_build_object('kind', (array['dqn', 'ppo', 'a2c'])[1 + mod(abs(hashtext(g || 'k')), 3)],
                                       'layers', 1 + mod(abs(hashtext(g || 'n')), 4))))
  from e cross join generate_series(cast(:lo as integer) + 1, :hi) as g
 cross join lateral (select cast(:t0 as timestamptz) + g * interval '100 ms' as t) as x;

-- name: bench_search_run_metrics
-- returns: rowcount
-- run_metrics as the trigger keeps it: one row per run and key, for the runs after :after.
insert into run_metrics (run_id, experiment_id, key, value)
select r.id, r.experiment_id, m.key, m.value::text::double precision
  from runs r cross join lateral jsonb_each(r.summary_metrics) as m
 where r.id > cast(:after as uuid);

-- name: bench_search_configurations
-- returns: rowcount
-- One configuration per run after :after: its parameters, which bench_search_runs put in
-- runs.parameters (as the trigger would).
insert into configurations (run_id, name, config_type, parameters, version)
select r.id, 'cfg-' || r.name, 'strategy', r.parameters -> 0, 1
  from runs r
 where r.id > cast(:after as uuid);

-- name: bench_search_indexes
-- returns: scalar
-- type: json
-- The indexes of run_metrics and configurations that no constraint owns, as (name, definition):
-- dropped before the load and built after it.
select coalesce(json_agg(json_build_array(c.relname, pg_get_indexdef(i.indexrelid))), '[]')
  from pg_index i join pg_class c on c.oid = i.indexrelid
 where i.indrelid in ('run_metrics'::regclass, 'configurations'::regclass, 'runs'::regclass)
   and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid);

-- name: bench_search_analyze
-- returns: none
vacuum (analyze) experiments, runs, run_metrics, configurations;

-- name: bench_search_replica
-- returns: none
-- Triggers off for the load (the run_metrics trigger is replaced by one set-based insert).
set session_replication_role = replica;

-- name: bench_search_origin
-- returns: none
set session_replication_role = origin;

-- name: bench_search_last_id
-- returns: scalar
-- type: uuid?
select id from runs order by id desc limit 1;

-- name: bench_search_copy_mlflow_runs
-- returns: copy
-- The runs after :after in MLflow's shape (its runs table), for COPY into it. Experiment
-- n + 1 in MLflow is our n-th experiment by id.
copy (select replace(cast(r.id as text), '-', ''), r.name, 'LOCAL', '', '', 'bench', 'FINISHED',
             cast(extract(epoch from r.start_time) * 1000 as bigint),
             cast(extract(epoch from r.end_time) * 1000 as bigint), '', 'active', '', e.n + 1
        from runs r
        join (select id, row_number() over (order by id) as n from experiments) as e
          on e.id = r.experiment_id
       where r.id > cast(:after as uuid)) to stdout;

-- name: bench_search_copy_mlflow_metrics
-- returns: copy
-- The same runs' summary metrics as MLflow's latest_metrics rows (step 0).
copy (select m.key, m.value, 0, 0, false, replace(cast(m.run_id as text), '-', '')
        from run_metrics m
       where m.run_id > cast(:after as uuid)) to stdout;

-- name: bench_search_copy_mlflow_params
-- returns: copy
-- The same runs' configuration parameters as MLflow's params (flat keys, text values).
copy (select p.key, p.value, replace(cast(c.run_id as text), '-', '')
        from configurations c
       cross join lateral (select key, value #>> '{}' as value
                             from jsonb_each(c.parameters - 'model')
                           union all
                           select 'model.' || key, value #>> '{}'
                             from jsonb_each(c.parameters -> 'model')) as p
       where c.run_id > cast(:after as uuid)) to stdout;

-- name: bench_search_copy_mlflow_tags
-- returns: copy
copy (select t.key, t.value, replace(cast(r.id as text), '-', '')
        from runs r
       cross join lateral (values ('asset', r.tags ->> 'asset'), ('mlflow.runName', r.name)) as t (key, value)
       where r.id > cast(:after as uuid)) to stdout;

-- name: bench_search_mlflow_experiments
-- returns: rowcount
-- In MLflow's database: experiments 2 .. :n + 1 (MLflow made 0, Default, and the bench 1).
insert into experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time,
                         last_update_time)
select g + 1, 'bench-search-' || g, 'file:///nonexistent', 'active', 0, 0
  from generate_series(1, :n) as g;

-- name: bench_search_mlflow_copy_runs
-- returns: copy
copy runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time,
           end_time, source_version, lifecycle_stage, artifact_uri, experiment_id) from stdin;

-- name: bench_search_mlflow_copy_metrics
-- returns: copy
copy latest_metrics (key, value, timestamp, step, is_nan, run_uuid) from stdin;

-- name: bench_search_mlflow_copy_params
-- returns: copy
copy params (key, value, run_uuid) from stdin;

-- name: bench_search_mlflow_copy_tags
-- returns: copy
copy tags (key, value, run_uuid) from stdin;

-- name: bench_search_mlflow_analyze
-- returns: none
vacuum (analyze) runs, latest_metrics, params, tags;

-- name: bench_search_count
-- returns: scalar
-- type: int
select count(*) from runs;

-- name: bench_search_drop_index
-- returns: none
-- identifier: name
drop index {name};
