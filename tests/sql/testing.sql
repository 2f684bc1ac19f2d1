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
