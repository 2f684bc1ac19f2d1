-- Sizes and counts for operators (resultsdb demo / partitions / stats).

-- name: table_row_counts
-- returns: many
-- record: TableCount
-- Exact row counts of the resultsdb tables (small databases; use estimates on big ones).
select 'experiments' as table_name, count(*) as row_count from experiments
union all select 'runs', count(*) from runs
union all select 'configurations', count(*) from configurations
union all select 'models', count(*) from models
union all select 'model_versions', count(*) from model_versions
union all select 'model_artifacts', count(*) from model_artifacts
union all select 'data_snapshots', count(*) from data_snapshots
union all select 'hyperparameter_results', count(*) from hyperparameter_results
union all select 'equity_curves', count(*) from equity_curves
union all select 'trade_logs', count(*) from trade_logs;

-- name: series_partitions
-- returns: many
-- record: PartitionInfo
-- Partitions of the series tables with their run-id bounds, row estimates and sizes.
-- row_estimate is -1 until the partition has been analyzed.
select parent.relname::text as parent,
       child.relname::text as name,
       pg_get_expr(child.relpartbound, child.oid) as bounds,
       child.reltuples::bigint as row_estimate,
       pg_total_relation_size(child.oid) as total_bytes
  from pg_inherits i
  join pg_class parent on parent.oid = i.inhparent
  join pg_class child on child.oid = i.inhrelid
 where parent.relname in ('equity_curves', 'trade_logs')
   and parent.relnamespace = current_schema()::regnamespace
 order by parent.relname, child.relname;
