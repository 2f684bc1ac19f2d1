-- Bulk runs and raw keyset pages for benchmarks/bench_lists.py. Not part of the library.

-- name: bench_list_experiments
-- returns: rowcount
-- :n experiments to spread the runs over.
insert into experiments (name) select 'bench-lists-' || g from generate_series(1, :n) as g;

-- name: bench_list_runs
-- returns: rowcount
-- :n runs, one every 100 ms from :t0 (id and created_at from that time), spread round-robin
-- over the experiments; 2% still running, every 23rd failed, three run types.
with e as (select array_agg(id order by id) as ids from experiments)
insert into runs (id, experiment_id, name, run_type, status, start_time, end_time,
                  created_at, updated_at)
select uuid_v7(t), e.ids[1 + mod(g, cardinality(e.ids))], 'run-' || g,
       (array['training', 'backtest', 'trial'])[1 + mod(g, 3)], s, t,
       case when s <> 'running' then t + interval '5 minutes' end,
       t, t + interval '5 minutes' + mod(g, 7) * interval '1 second'
  from e cross join generate_series(1, :n) as g
 cross join lateral (select cast(:t0 as timestamptz) + g * interval '100 ms' as t,
                            case when mod(g, 50) = 0 then 'running'
                                 when mod(g, 23) = 0 then 'failed' else 'completed' end as s) as x;

-- name: bench_list_analyze
-- returns: none
vacuum (analyze) experiments, runs;

-- name: bench_list_cursors
-- returns: scalar
-- type: json
-- identifier: order_by = created_at | updated_at | start_time | end_time | status | run_type
-- literal: n
-- :n runs at random, each as the (sort value, id) a keyset page after it starts from (of
-- the experiment :experiment_id only, unless null). Run with tuple rows by the benchmark.
select {order_by}, id
  from runs
 where {order_by} is not null
   and (cast(:experiment_id as uuid) is null or experiment_id = :experiment_id)
 order by random()
 limit {n};

-- name: bench_runs_page_asc
-- returns: scalar
-- type: json
-- identifier: order_by = created_at | updated_at | start_time | end_time | status | run_type
-- literal: limit
-- The keyset page a hand-written client sends: the rows after (after_value, after_id).
-- Run with tuple rows by the benchmark (scalar is only its registry header).
select * from runs
 where {order_by} is not null and ({order_by}, id) > (:after_value, :after_id)
 order by {order_by}, id
 limit {limit};

-- name: bench_runs_page_desc
-- returns: scalar
-- type: json
-- identifier: order_by = created_at | updated_at | start_time | end_time | status | run_type
-- literal: limit
select * from runs
 where {order_by} is not null and ({order_by}, id) < (:after_value, :after_id)
 order by {order_by} desc, id desc
 limit {limit};

-- name: bench_runs_of_experiment_page
-- returns: scalar
-- type: json
-- literal: limit
-- An experiment's runs after (after_value, after_id), oldest first: the default db.runs(experiment).
select * from runs
 where experiment_id = :experiment_id and (created_at, id) > (:after_value, :after_id)
 order by created_at, id
 limit {limit};

-- name: bench_list_experiment
-- returns: scalar
-- type: uuid
-- The first experiment (a hundredth of the runs).
select id from experiments order by id limit 1;

-- name: bench_runs_ids_page
-- returns: scalar
-- type: json
-- literal: limit
-- The created_at keyset page with only the ids: what the index and the server cost, without
-- sending and decoding the rows' other columns.
select id from runs
 where created_at is not null and (created_at, id) > (:after_value, :after_id)
 order by created_at, id
 limit {limit};
