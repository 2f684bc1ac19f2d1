-- Runs for tests/search/test_search_plans.py: :n runs in 20 experiments, 5 summary metrics
-- and one configuration each (run_metrics and runs.parameters filled set-based, as the
-- triggers would, with triggers off).

-- name: search_plans_experiments
-- returns: rowcount
insert into experiments (name) select 'search-plans-' || g from generate_series(1, 20) as g;

-- name: search_plans_runs
-- returns: rowcount
-- sharpe ~ N(0.5, 1), max_drawdown ~ U(0, 0.5), three more ~ U(0, 1); fast in 5, 10 ... 50.
with e as (select array_agg(id order by id) as ids, setseed(0.7) as seeded from experiments)
insert into runs (id, experiment_id, name, run_type, status, start_time, end_time, created_at,
                  updated_at, summary_metrics, tags, parameters)
select uuid_v7(t), e.ids[1 + mod(g, 20)], 'run-' || g, 'backtest', 'completed', t,
       t + interval '5 minutes', t, t + interval '5 minutes',
       jsonb_build_object('sharpe', 0.5 + sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()),
                          'max_drawdown', random() / 2, 'm2', random(), 'm3', random(),
                          'm4', random()),
       jsonb_build_object('asset', (array['btc', 'eth', 'sol', 'ada'])[1 + mod(g, 4)]),
       jsonb_build_array(jsonb_build_object('fast', 5 * (1 + mod(g * 7, 10)), 'slow', mod(g, 200)))
  from e cross join generate_series(1, :n) as g
 cross join lateral (select timestamptz '2025-01-01' + g * interval '1 second' as t) as x;

-- name: search_plans_metrics
-- returns: rowcount
insert into run_metrics (run_id, experiment_id, key, value)
select r.id, r.experiment_id, m.key, m.value::text::double precision
  from runs r cross join lateral jsonb_each(r.summary_metrics) as m;

-- name: search_plans_configurations
-- returns: rowcount
insert into configurations (run_id, name, config_type, parameters, version)
select r.id, 'cfg-' || r.name, 'strategy', r.parameters -> 0, 1 from runs r;

-- name: search_plans_replica
-- returns: none
set session_replication_role = replica;

-- name: search_plans_analyze
-- returns: none
vacuum (analyze) experiments, runs, run_metrics, configurations;
