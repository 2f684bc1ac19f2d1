-- Retention of the series tables (resultsdb.series.partitions): month partitions are
-- archived whole to Parquet, then detached and dropped; restore brings them back.

-- name: series_month_partitions
-- returns: many
-- record: SeriesPartition
-- The month partitions (not DEFAULT) of equity_curves and trade_logs holding only runs
-- created before :before, oldest first, with their run-id bounds.
select parent.relname::text as parent,
       child.relname::text as name,
       bounds.lower_bound,
       bounds.upper_bound,
       uuid_v7_time(bounds.lower_bound) as month
  from pg_inherits i
  join pg_class parent on parent.oid = i.inhparent
  join pg_class child on child.oid = i.inhrelid
  cross join lateral regexp_match(pg_get_expr(child.relpartbound, child.oid),
                                  $re$FROM \('([0-9a-f-]{36})'\) TO \('([0-9a-f-]{36})'\)$re$) as m
  cross join lateral (select cast(m[1] as uuid) as lower_bound,
                             cast(m[2] as uuid) as upper_bound) as bounds
 where parent.relname in ('equity_curves', 'trade_logs')
   and parent.relnamespace = current_schema()::regnamespace
   and m is not null
   and bounds.upper_bound <= uuid_v7_floor(cast(:before as timestamptz))
 order by bounds.lower_bound, parent.relname;

-- name: series_partition_by_name
-- returns: one_or_none
-- record: SeriesPartition
-- The month partition called :name, if it is attached: no row or one.
select parent.relname::text as parent,
       child.relname::text as name,
       bounds.lower_bound,
       bounds.upper_bound,
       uuid_v7_time(bounds.lower_bound) as month
  from pg_inherits i
  join pg_class parent on parent.oid = i.inhparent
  join pg_class child on child.oid = i.inhrelid
  cross join lateral regexp_match(pg_get_expr(child.relpartbound, child.oid),
                                  $re$FROM \('([0-9a-f-]{36})'\) TO \('([0-9a-f-]{36})'\)$re$) as m
  cross join lateral (select cast(m[1] as uuid) as lower_bound,
                             cast(m[2] as uuid) as upper_bound) as bounds
 where parent.relname in ('equity_curves', 'trade_logs')
   and parent.relnamespace = current_schema()::regnamespace
   and m is not null
   and child.relname = :name;

-- name: ensure_month_series_partition
-- returns: many
-- record: PartitionName
-- Create the series partitions of the month holding :month (idempotent; rows the DEFAULT
-- partition holds for that range move in); the names created.
select p as name
  from ensure_series_partition(cast(:month as timestamptz)) as p;

-- name: lock_partition_for_archive
-- returns: none
-- identifier: partition
-- Block writes to the partition, not reads, until the archiving transaction ends: the rows
-- read again under it are the rows dropped.
lock table {partition} in share mode;

-- name: drop_series_partition
-- returns: none
-- identifier: partition
-- Drop an archived month partition. Dropped directly, not detached first: DETACH makes the
-- partition's foreign keys stand-alone, which creates and drops triggers on runs and models
-- and so takes ACCESS EXCLUSIVE locks on both until the commit. DROP locks the series table
-- (ACCESS EXCLUSIVE), its DEFAULT partition and the partition itself, nothing else.
drop table {partition};
