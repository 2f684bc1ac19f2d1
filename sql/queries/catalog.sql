-- Catalog look-ups the library itself needs: databases, constraints, yoyo's log.

-- name: database_exists
-- returns: scalar
-- type: bool
-- True when a database of that name exists on the server.
select exists (select 1 from pg_database where datname = :name);

-- name: create_database
-- returns: none
-- identifier: name
-- Create a database (the name is quoted as an identifier).
create database {name};

-- name: constraint_catalog
-- returns: many
-- record: ConstraintInfo
-- Every constraint of the current schema with its table (the partitioned table for a
-- partition's), its columns in the order the constraint names them, and its COMMENT,
-- which error messages quote; a foreign key also with the table and columns it
-- references, which tell the two sides of a violation apart. Unique indexes that back
-- no constraint (the partial ones) are listed with the index's COMMENT. Other indexes
-- are listed with their variable-width columns only: an index row outgrows its page
-- (54000) through those. Every table is listed too, under its own name with no
-- columns, mapped to its partitioned table: a not-null error names the partition and
-- no constraint.
select distinct on (name) name, table_name, columns, description, referenced_table,
       referenced_columns
  from (
    select c.conname::text as name,
           coalesce(pg_partition_root(c.conrelid), c.conrelid)::regclass::text as table_name,
           array(select a.attname::text
                   from unnest(c.conkey) with ordinality as k(attnum, ord)
                   join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum
                  order by k.ord) as columns,
           coalesce(obj_description(c.oid, 'pg_constraint'),
                    obj_description(nullif(c.conparentid, 0), 'pg_constraint')) as description,
           coalesce(pg_partition_root(nullif(c.confrelid, 0)),
                    nullif(c.confrelid, 0))::regclass::text as referenced_table,
           array(select a.attname::text
                   from unnest(c.confkey) with ordinality as k(attnum, ord)
                   join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.attnum
                  order by k.ord) as referenced_columns
      from pg_constraint c
     where c.connamespace = current_schema()::regnamespace
       and c.conrelid <> 0
    union all
    select i.relname::text,
           coalesce(pg_partition_root(x.indrelid), x.indrelid)::regclass::text,
           array(select a.attname::text
                   from unnest(x.indkey::int2[]) with ordinality as k(attnum, ord)
                   join pg_attribute a on a.attrelid = x.indrelid and a.attnum = k.attnum
                  where x.indisunique or a.attlen = -1
                  order by k.ord),
           obj_description(i.oid, 'pg_class'),
           null,
           array[]::text[]
      from pg_index x
      join pg_class i on i.oid = x.indexrelid
     where i.relnamespace = current_schema()::regnamespace
       and not exists (select 1 from pg_constraint c
                        where c.conindid = x.indexrelid and c.contype in ('p', 'u', 'x'))
    union all
    select t.relname::text,
           coalesce(pg_partition_root(t.oid), t.oid)::regclass::text,
           array[]::text[],
           null,
           null,
           array[]::text[]
      from pg_class t
     where t.relkind in ('r', 'p')
       and t.relnamespace = current_schema()::regnamespace
  ) as catalog
 order by name, description nulls last;

-- name: try_advisory_lock
-- returns: scalar
-- type: bool
-- Session-level advisory lock (released when the session ends, even on a crash).
select pg_try_advisory_lock(:key);

-- name: advisory_lock
-- returns: none
-- Wait for a session-level advisory lock.
select pg_advisory_lock(:key);

-- name: ensure_series_partitions
-- returns: many
-- record: PartitionName
-- Create the series partitions around the current month; returns the ones created.
select p as name from ensure_series_partitions(:months_ahead, :months_behind) as p;

-- name: series_tables_exist
-- returns: scalar
-- type: bool
select to_regclass('equity_curves') is not null and to_regprocedure('ensure_series_partitions(integer,integer)') is not null;

-- name: yoyo_tables_exist
-- returns: scalar
-- type: bool
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

-- name: lock_timeout_setting
-- returns: scalar
-- type: str
-- How long a statement waits for a lock ('0': no limit).
select current_setting('lock_timeout');

-- name: set_local_lock_timeout
-- returns: scalar
-- type: str
-- SET LOCAL lock_timeout = :value (e.g. '3000ms'; '0': no limit) until the transaction
-- ends: a DDL statement that cannot get its lock in time gives up instead of holding the
-- queue of everyone who came after it.
select set_config('lock_timeout', :value, true);
