-- Sizes and counts for operators (resultsdb demo / partitions / stats).

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
