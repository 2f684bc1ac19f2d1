-- Every table of the current schema the harness compares: ordinary tables and partitioned
-- parents (not their partitions: a parent's rows include them), with their columns in order,
-- which of them may be null, the columns rows are matched by (the primary key, else the
-- first unique constraint, else every column) and whether the table is partitioned.
select t.relname::text as table_name,
       array_agg(a.attname::text order by a.attnum) as columns,
       array_agg(a.attname::text order by a.attnum) filter (where not a.attnotnull) as nullable,
       coalesce(
           (select array_agg(k.attname::text order by x.ord)
              from (select c.conkey
                      from pg_constraint c
                     where c.conrelid = t.oid and c.contype in ('p', 'u')
                     order by c.contype, c.conname
                     limit 1) as pk,
                   unnest(pk.conkey) with ordinality as x (attnum, ord)
              join pg_attribute k on k.attrelid = t.oid and k.attnum = x.attnum),
           array_agg(a.attname::text order by a.attnum)) as key,
       t.relkind = 'p' as partitioned
  from pg_class t
  join pg_attribute a on a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
 where t.relnamespace = current_schema()::regnamespace
   and t.relkind in ('r', 'p')
   and not t.relispartition
   and t.relname !~ '^_?yoyo'
 group by t.oid, t.relname
 order by t.relname;
