-- Queries the tests (and benchmarks) need that the library does not: databases made and
-- dropped per test session, the server version. Loaded by tests/conftest.py as TEST_QUERIES.

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

-- name: server_version_num
-- returns: scalar
-- type: int
select current_setting('server_version_num')::int;


-- name: check_constraint_definition
-- returns: scalar
-- type: str?
-- A CHECK constraint as pg_get_constraintdef prints it (null when there is none).
select pg_get_constraintdef(oid) from pg_constraint where conname = :name and contype = 'c' limit 1;

-- name: unindexed_foreign_keys
-- returns: scalar
-- type: json
-- The foreign keys of the current schema that no index leads on, each as
-- "table (columns) -> referenced table"; empty when every one has such an index. Without
-- one, deleting a referenced row (or changing its key) scans the whole referencing table,
-- every partition of a partitioned one. A partial index counts when its only condition is
-- that the column is not null, which the foreign key's own "= value" implies.
select to_jsonb(coalesce(array_agg(format('%s (%s) -> %s', c.conrelid::regclass, cols.names,
                                 c.confrelid::regclass)
                          order by c.conrelid::regclass::text, cols.names), '{}'))
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

-- name: schema_fingerprint
-- returns: scalar
-- type: str
-- A digest of everything a test could change in a database but its rows: the schema's
-- relations (with their planner statistics, owners and grants), columns, constraints,
-- indexes, triggers, functions, views, schemas, and the database's settings. Equal
-- digests: the database is its template again once its rows are.
select md5(string_agg(item, E'\n' order by item))
  from (select format('class %s %s %s %s %s %s %s', c.relname, c.relkind,
                      -- TRUNCATE leaves an index's reltuples at -1 where a build leaves 0;
                      -- the planner reads neither (it sizes an index by its pages).
                      case when c.relkind in ('i', 'I') then greatest(c.reltuples, 0)
                           else c.reltuples end,
                      c.relowner::regrole, c.relacl, c.relpersistence,
                      pg_get_expr(c.relpartbound, c.oid)) as item
          from pg_class c
         where c.relnamespace = current_schema()::regnamespace
        union all
        select format('column %s.%s %s %s %s', a.attrelid::regclass, a.attname,
                      a.atttypid::regtype, a.attnotnull, pg_get_expr(d.adbin, d.adrelid))
          from pg_attribute a
          join pg_class c on c.oid = a.attrelid
          left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
         where c.relnamespace = current_schema()::regnamespace and a.attnum > 0
           and not a.attisdropped
        union all
        select format('constraint %s %s', conname, pg_get_constraintdef(oid))
          from pg_constraint where connamespace = current_schema()::regnamespace
        union all
        select format('index %s', pg_get_indexdef(i.indexrelid))
          from pg_index i join pg_class c on c.oid = i.indexrelid
         where c.relnamespace = current_schema()::regnamespace
        union all
        select format('trigger %s %s %s', tgrelid::regclass, tgname, tgenabled)
          from pg_trigger where not tgisinternal
        union all
        select format('function %s %s %s %s %s', p.oid::regprocedure, md5(p.prosrc),
                      p.proconfig, p.proowner::regrole, p.proacl)
          from pg_proc p where p.pronamespace = current_schema()::regnamespace
        union all
        select format('schema %s %s %s', nspname, nspowner::regrole, nspacl)
          from pg_namespace
        union all
        select format('settings %s %s', s.setrole, s.setconfig)
          from pg_db_role_setting s
         where s.setdatabase = (select oid from pg_database where datname = current_database())
        union all
        select format('database %s', datacl) from pg_database where datname = current_database()
       ) as everything;

-- name: schema_tables
-- returns: scalar
-- type: json
-- The tables of the schema but partitions (a parent's rows include theirs), by name.
select coalesce(jsonb_agg(c.relname::text order by c.relname), '[]')
  from pg_class c
 where c.relnamespace = current_schema()::regnamespace
   and c.relkind in ('r', 'p') and not c.relispartition;

-- name: table_digest
-- returns: scalar
-- type: str
-- identifier: table
-- An md5 of a table's rows in a fixed order (of '' when it has none).
select md5(coalesce(string_agg(t::text, E'\n' order by t::text), '')) from {table} as t;

-- name: sequence_values
-- returns: scalar
-- type: json
-- The schema's sequences: where each stands and whether it was used.
select coalesce(jsonb_agg(jsonb_build_array(format('%I', sequencename),
                                            coalesce(last_value, start_value),
                                            last_value is not null)), '[]')
  from pg_sequences where schemaname = current_schema();

-- name: terminate_other_sessions
-- returns: none
-- End every other session on this database (what DROP DATABASE ... WITH (FORCE) does).
select pg_terminate_backend(pid) from pg_stat_activity
 where datname = current_database() and pid <> pg_backend_pid();

-- name: set_sequence
-- returns: none
select setval(cast(:name as regclass), :value, :is_called);

-- name: reset_statistics
-- returns: none
-- Zero this database's activity counters, as a fresh clone has them: autovacuum decides
-- from them, and would otherwise analyze tables an earlier test filled, mid-test.
select pg_stat_reset();

-- name: table_file_bytes
-- returns: scalar
-- type: json
-- Of these tables and their partitions, the ones whose file holds a page, with its size in
-- bytes: those a row was written to (even one rolled back or deleted) since they were
-- created or truncated.
select coalesce(jsonb_object_agg(c.relname, pg_relation_size(c.oid)), '{}')
  from unnest(:tables::text[]) as t(name)
 cross join lateral (select t.name::regclass as relid  -- a plain table has no tree
                     union select relid from pg_partition_tree(t.name::regclass)) as p
  join pg_class c on c.oid = p.relid
 where c.relkind = 'r' and pg_relation_size(c.oid) > 0;

-- name: delete_all_rows
-- returns: none
-- identifier: table
-- Every row of a table (and of its partitions). Run by the test database pool after
-- skip_triggers, so that no trigger or foreign key check runs: every table goes.
delete from {table};

-- name: skip_triggers
-- returns: none
-- This transaction fires no trigger and checks no foreign key (a superuser's setting).
set local session_replication_role = replica;

-- name: is_superuser
-- returns: scalar
-- type: bool
select rolsuper from pg_roles where rolname = current_user;

-- name: commit_without_flush
-- returns: none
-- This transaction's commit does not wait for the WAL to reach the disk.
set local synchronous_commit = off;

-- name: planner_statistics
-- returns: scalar
-- type: str
-- A digest of what autovacuum may change in a database nobody uses: each relation's size
-- and row estimates, as the planner reads them (a cheap part of schema_fingerprint).
select md5(string_agg(format('%s %s %s %s', c.relname, c.relpages, c.reltuples,
                             c.relallvisible), E'\n' order by c.relname))
  from pg_class c
 where c.relnamespace = current_schema()::regnamespace;
