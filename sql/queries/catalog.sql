-- Catalog look-ups the library itself needs: databases, constraints, yoyo's log.

-- name: database_exists
-- returns: scalar
-- True when a database of that name exists on the server.
select exists (select 1 from pg_database where datname = :name);

-- name: create_database
-- returns: none
-- identifier: name
-- Create a database (the name is quoted as an identifier).
create database {name};

-- name: drop_database
-- returns: none
-- identifier: name
-- Drop a database if it exists, disconnecting its sessions (PostgreSQL 13+).
drop database if exists {name} with (force);

-- name: create_database_from_template
-- returns: none
-- identifier: name
-- identifier: template
-- Clone a database from a template (fast: a file copy, used by the tests).
create database {name} template {template} strategy file_copy;

-- name: constraint_catalog
-- returns: many
-- record: ConstraintInfo
-- Every constraint of the current schema with its table (the partitioned table for a
-- partition's), its columns in the order the constraint names them, and its COMMENT,
-- which error messages quote. Unique indexes that back no constraint (the partial ones)
-- are listed with the index's COMMENT. Every table is listed too, under its own name
-- with no columns, mapped to its partitioned table: a not-null error names the
-- partition and no constraint.
select distinct on (name) name, table_name, columns, description
  from (
    select c.conname::text as name,
           coalesce(pg_partition_root(c.conrelid), c.conrelid)::regclass::text as table_name,
           array(select a.attname::text
                   from unnest(c.conkey) with ordinality as k(attnum, ord)
                   join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum
                  order by k.ord) as columns,
           coalesce(obj_description(c.oid, 'pg_constraint'),
                    obj_description(nullif(c.conparentid, 0), 'pg_constraint')) as description
      from pg_constraint c
     where c.connamespace = current_schema()::regnamespace
       and c.conrelid <> 0
    union all
    select i.relname::text,
           coalesce(pg_partition_root(x.indrelid), x.indrelid)::regclass::text,
           array(select a.attname::text
                   from unnest(x.indkey::int2[]) with ordinality as k(attnum, ord)
                   join pg_attribute a on a.attrelid = x.indrelid and a.attnum = k.attnum
                  order by k.ord),
           obj_description(i.oid, 'pg_class')
      from pg_index x
      join pg_class i on i.oid = x.indexrelid
     where x.indisunique
       and i.relnamespace = current_schema()::regnamespace
       and not exists (select 1 from pg_constraint c
                        where c.conindid = x.indexrelid and c.contype in ('p', 'u', 'x'))
    union all
    select t.relname::text,
           coalesce(pg_partition_root(t.oid), t.oid)::regclass::text,
           array[]::text[],
           null
      from pg_class t
     where t.relkind in ('r', 'p')
       and t.relnamespace = current_schema()::regnamespace
  ) as catalog
 order by name, description nulls last;

-- name: try_advisory_lock
-- returns: scalar
-- Session-level advisory lock (released when the session ends, even on a crash).
select pg_try_advisory_lock(:key);

-- name: advisory_lock
-- returns: none
-- Wait for a session-level advisory lock.
select pg_advisory_lock(:key);

-- name: advisory_unlock
-- returns: scalar
select pg_advisory_unlock(:key);

-- name: ensure_series_partitions
-- returns: many
-- record: PartitionName
-- Create the series partitions around the current month; returns the ones created.
select p as name from ensure_series_partitions(:months_ahead, :months_behind) as p;

-- name: server_version_num
-- returns: scalar
select current_setting('server_version_num')::int;

-- name: series_tables_exist
-- returns: scalar
select to_regclass('equity_curves') is not null and to_regprocedure('ensure_series_partitions(integer,integer)') is not null;

-- name: yoyo_tables_exist
-- returns: scalar
select to_regclass('_yoyo_log') is not null and to_regclass('_yoyo_migration') is not null;

-- name: yoyo_applied
-- returns: many
-- record: AppliedMigration
select migration_hash, migration_id, applied_at_utc at time zone 'UTC' as applied_at
  from _yoyo_migration;

-- name: yoyo_history
-- returns: many
-- record: MigrationLogEntry
-- yoyo's log of migration operations, oldest first.
select migration_id, operation, username, hostname,
       created_at_utc at time zone 'UTC' as created_at
  from _yoyo_log
 order by created_at_utc, id;

-- name: unindexed_foreign_keys
-- returns: scalar
-- The foreign keys of the current schema that no index leads on, each as
-- "table (columns) -> referenced table"; empty when every one has such an index. Without
-- one, deleting a referenced row (or changing its key) scans the whole referencing table,
-- every partition of a partitioned one. A partial index counts when its only condition is
-- that the column is not null, which the foreign key's own "= value" implies.
select coalesce(array_agg(format('%s (%s) -> %s', c.conrelid::regclass, cols.names,
                                 c.confrelid::regclass)
                          order by c.conrelid::regclass::text, cols.names), '{}')
  from pg_constraint c
  cross join lateral (
        select string_agg(a.attname, ', ' order by k.ord) as names
          from unnest(c.conkey) with ordinality as k(attnum, ord)
          join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum) as cols
 where c.contype = 'f'
   and c.conparentid = 0
   and c.connamespace = current_schema()::regnamespace
   and not exists (
        select 1
          from pg_index i
         where i.indrelid = c.conrelid
           and i.indnkeyatts >= cardinality(c.conkey)
           and (select array_agg(x order by x)
                  from unnest((i.indkey::int2[])[0:cardinality(c.conkey) - 1]) as x)
               = (select array_agg(x order by x) from unnest(c.conkey) as x)
           and (i.indpred is null
                or (cardinality(c.conkey) = 1
                    and pg_get_expr(i.indpred, i.indrelid) = format('(%I IS NOT NULL)', cols.names))));

-- name: lock_timeout_setting
-- returns: scalar
-- How long a statement waits for a lock ('0': no limit).
select current_setting('lock_timeout');

-- name: set_local_lock_timeout
-- returns: scalar
-- SET LOCAL lock_timeout = :value (e.g. '3000ms'; '0': no limit) until the transaction
-- ends: a DDL statement that cannot get its lock in time gives up instead of holding the
-- queue of everyone who came after it.
select set_config('lock_timeout', :value, true);
