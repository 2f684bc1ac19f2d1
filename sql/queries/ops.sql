-- Operator checks and sizes: `resultsdb health` and `resultsdb stats` (resultsdb/ops.py).

-- name: server_info
-- returns: one
-- record: ServerInfo
-- table: pg_settings
-- Who and where we are connected.
select current_setting('server_version') as server_version,
       current_database()::text as database,
       current_user::text as user_name,
       pg_is_in_recovery() as in_recovery,
       pg_postmaster_start_time() as started_at;

-- name: replica_status
-- returns: one
-- record: ReplicaStatus
-- table: pg_settings
-- On a read replica: in recovery, and how far behind the primary its last replayed
-- transaction is (null on a primary, or before the first replay).
select pg_is_in_recovery() as in_recovery,
       case when pg_is_in_recovery()
            then extract(epoch from now() - pg_last_xact_replay_timestamp())::double precision
       end as replay_lag_s;

-- name: series_partition_coverage
-- returns: many
-- record: PartitionCoverage
-- For every table RANGE-partitioned on run_id, each month from the current one (UTC) to
-- :months_ahead ahead, and whether its partition, named <table>_pYYYYMM as
-- ensure_series_partition() names it, is attached.
with months as (
    select date_trunc('month', now() + make_interval(months => n), 'UTC') as month
      from generate_series(0, cast(:months_ahead as integer)) as n
),
parents as (
    select c.oid, c.relname::text as parent
      from pg_partitioned_table pt
      join pg_class c on c.oid = pt.partrelid
      join pg_attribute a on a.attrelid = c.oid and a.attnum = pt.partattrs[0]
     where c.relnamespace = current_schema()::regnamespace
       and pt.partstrat = 'r' and pt.partnatts = 1 and a.attname = 'run_id'
),
wanted as (
    select p.oid, p.parent, m.month,
           p.parent || '_p' || to_char(m.month at time zone 'UTC', 'YYYYMM') as partition
      from parents p cross join months m
)
select w.parent, w.month, w.partition,
       exists (select 1 from pg_inherits i join pg_class c on c.oid = i.inhrelid
                where i.inhparent = w.oid and c.relname = w.partition) as present
  from wanted w
 order by w.parent, w.month;

-- name: table_sizes
-- returns: many
-- record: TableSize
-- Every table of the schema, a partitioned one with its partitions summed, largest first.
-- row_estimate is pg_class.reltuples (no scan): null until the table has been analyzed.
select t.relname::text as table_name,
       t.relkind = 'p' as partitioned,
       (count(*) filter (where tree.level > 0))::integer as partitions,
       case when bool_or(c.reltuples >= 0) filter (where tree.isleaf)
            then (sum(greatest(c.reltuples, 0)) filter (where tree.isleaf))::bigint
       end as row_estimate,
       sum(pg_total_relation_size(tree.relid))::bigint as total_bytes,
       sum(pg_relation_size(tree.relid))::bigint as table_bytes,
       sum(pg_indexes_size(tree.relid))::bigint as index_bytes
  from pg_class t
  -- pg_partition_tree() lists nothing for a table that is not partitioned.
  cross join lateral (select relid, level, isleaf from pg_partition_tree(t.oid)
                      union all
                      select t.oid, 0, true where t.relkind = 'r') as tree
  join pg_class c on c.oid = tree.relid
 where t.relnamespace = current_schema()::regnamespace
   and t.relkind in ('r', 'p')
   and not t.relispartition
 group by t.oid, t.relname, t.relkind
 order by total_bytes desc, table_name;

-- name: database_bytes
-- returns: scalar
-- type: int
select pg_database_size(current_database());

-- name: artifact_usage
-- returns: one
-- record: ArtifactUsage
-- table: model_artifacts
-- Artifacts as model_artifacts records them: rows and bytes, and the distinct blobs
-- behind them (the store keeps one copy per content hash).
select count(*) as artifact_count,
       coalesce(sum(size_bytes), 0)::bigint as artifact_bytes,
       count(distinct content_hash) as distinct_blobs,
       coalesce((select sum(d.size_bytes)
                   from (select distinct on (content_hash) size_bytes
                           from model_artifacts
                          order by content_hash) as d), 0)::bigint as distinct_bytes
  from model_artifacts;
