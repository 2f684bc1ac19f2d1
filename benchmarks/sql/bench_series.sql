-- Baselines and bulk data for benchmarks/bench_series.py. Not part of the library: these are
-- what a hand-written client (or psql) would send, measured against resultsdb.series.
-- The psql_* entries are psql scripts, run by psql with -v variables; psycopg never sees them.

-- name: series_bench_experiment
-- returns: scalar
-- type: uuid
-- A fresh experiment's id.
insert into experiments (name) values (:name) returning id;

-- name: series_bench_run
-- returns: scalar
-- type: uuid
-- A fresh run's id in experiment :experiment_id.
insert into runs (experiment_id) values (:experiment_id) returning id;

-- name: series_bench_truncate
-- returns: none
-- Empty the series tables between benchmark parts.
truncate equity_curves, trade_logs, series_batches;

-- name: series_bench_checkpoint
-- returns: none
-- Write out every dirty page, so a load does not pay for the previous one's.
checkpoint;

-- name: series_bench_analyze
-- returns: none
-- Fresh planner statistics after bulk loads (as autovacuum would give them).
analyze equity_curves;

-- name: series_bench_without_triggers
-- returns: none
-- Fill sessions skip the per-row foreign-key triggers (every row is one known run).
set session_replication_role = replica;

-- name: series_bench_fill
-- returns: rowcount
-- :n points of a synthetic curve for one run, generated in SQL (bulk data for reads).
insert into equity_curves (run_id, model_id, ts, portfolio_value, benchmark_value, drawdown)
select cast(:run_id as uuid), null,
       timestamptz '2015-01-01 00:00:00+00' + g * interval '1 minute',
       100.0 + 10.0 * sin(g / 1000.0) + g * 1e-6,
       100.0 + g * 1e-6,
       0.0
  from generate_series(0, cast(:n as bigint) - 1) as g;

-- name: series_bench_insert_point
-- returns: none
-- One point, for executemany (the row-at-a-time baseline).
insert into equity_curves (run_id, model_id, ts, portfolio_value, benchmark_value, drawdown)
values (:run_id, :model_id, :ts, :portfolio_value, :benchmark_value, :drawdown);

-- name: series_bench_read
-- returns: none
-- One run's curve in time order: what pandas.read_sql and psql \copy read (the same rows and
-- plan as copy_equity_out, with NULLs as NULLs).
select ts, portfolio_value, benchmark_value, drawdown
  from equity_curves
 where run_id = :run_id
   and model_id is null
 order by model_id, ts;

-- name: psql_copy_equity_in
-- returns: none
-- psql: load CSV rows of equity_curves from psql's standard input (the CSV file).
\copy equity_curves (run_id, model_id, ts, portfolio_value, benchmark_value, drawdown) from pstdin with (format csv)

-- name: psql_copy_trades_in
-- returns: none
-- psql: load CSV rows of trade_logs (seq given, no metadata) from psql's standard input.
\copy trade_logs (run_id, model_id, seq, ts, asset, action, price, quantity, pnl) from pstdin with (format csv)

-- name: psql_copy_equity_out
-- returns: none
-- psql -v run_id=... -o file: one run's curve as CSV (series_bench_read's query). \copy takes
-- no psql variables; this is what it runs, COPY TO STDOUT written by psql to its output file.
copy (select ts, portfolio_value, benchmark_value, drawdown from equity_curves where run_id = :'run_id' and model_id is null order by model_id, ts) to stdout with (format csv);

-- name: series_bench_mlflow_truncate
-- returns: none
-- In the MLflow tracking store's own database: empty its metric tables, so every log_batch
-- measurement loads empty tables as the others do.
truncate metrics, latest_metrics;
