-- Configurations: versioned per name (1, 2, 3 ...), parent_id links what a config was derived from.

-- name: configuration_by_id
-- returns: one
-- record: Configuration
-- table: configurations
-- The configuration with this id.
select * from configurations where id = :id;

-- name: configurations_page
-- returns: many
-- record: Configuration
-- Up to :limit configurations with id after :after, oldest first.
select *
  from configurations
 where id > coalesce(cast(:after as uuid), '00000000-0000-0000-0000-000000000000')
 order by id
 limit :limit;

-- name: configurations_of_run
-- returns: many
-- record: Configuration
-- The configurations a run uses, oldest first.
select * from configurations where run_id = :run_id order by id;

-- name: configuration_versions
-- returns: many
-- record: Configuration
-- Every version of the configuration called :name, version 1 first.
select * from configurations where name = :name order by version;

-- name: latest_configuration
-- returns: one
-- record: Configuration
-- table: configurations
-- The highest version of the configuration called :name.
select * from configurations where name = :name order by version desc limit 1;

-- name: configuration_lineage
-- returns: many
-- record: Configuration
-- The chain of configurations from the root down to :id (root first, :id last).
-- CYCLE ends the walk should a cycle ever exist.
with recursive lineage as (
    select c.*, 0 as depth from configurations c where c.id = :id
    union all
    select p.*, l.depth + 1
      from configurations p
      join lineage l on p.id = l.parent_id
) cycle id set is_cycle using path
select id, run_id, name, config_type, parameters, version, parent_id, created_at
  from lineage
 where not is_cycle
 order by depth desc;

-- name: lock_configuration_name
-- returns: none
-- Serialise version numbering of one configuration name until the transaction ends.
select pg_advisory_xact_lock(hashtextextended('configurations:' || cast(:name as text), 0));

-- name: insert_configuration
-- returns: one
-- record: Configuration
-- table: configurations
-- The new configuration, numbered one past the highest version of its name.
-- Run it after lock_configuration_name in the same transaction: the lock makes
-- this statement's snapshot see every earlier version.
insert into configurations (run_id, name, config_type, parameters, version, parent_id)
select cast(:run_id as uuid), cast(:name as text), cast(:config_type as text),
       cast(:parameters as jsonb), coalesce(max(c.version), 0) + 1, cast(:parent_id as uuid)
  from configurations c
 where c.name = cast(:name as text)
returning *;

-- name: update_configuration
-- returns: one
-- record: Configuration
-- table: configurations
-- The configuration after merging :patch. Name, version and parameters never
-- change: a changed parameter set is a new version.
update configurations t
   set (config_type, parent_id) =
       (select r.config_type, r.parent_id
          from jsonb_populate_record(t, to_jsonb(t) || cast(:patch as jsonb)) as r)
 where t.id = :id
returning t.*;

-- name: delete_configuration
-- returns: scalar
-- type: uuid
-- table: configurations
-- The id of the deleted configuration (NotFound when there was none).
delete from configurations where id = :id returning id;
