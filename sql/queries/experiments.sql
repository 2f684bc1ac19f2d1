-- Experiments: look-ups, keyset pages, tag searches and writes.
-- Pages are keyset pages on the time-ordered UUIDv7 id: rows after :after (null = from the start).

-- name: experiment_by_id
-- returns: one
-- record: Experiment
-- table: experiments
-- The experiment with this id.
select * from experiments where id = :id;

-- name: live_experiment_by_name
-- returns: one_or_none
-- record: Experiment
-- The experiment holding this name, if any (names are unique among non-archived experiments).
select * from experiments where name = :name and status <> 'archived';

-- name: experiments_named
-- returns: many
-- record: Experiment
-- Every experiment called :name, archived ones included, oldest first.
select * from experiments where name = :name order by id;

-- name: experiments_page
-- returns: many
-- record: Experiment
-- Up to :limit experiments with id after :after, oldest first.
select *
  from experiments
 where id > coalesce(cast(:after as uuid), '00000000-0000-0000-0000-000000000000')
 order by id
 limit :limit;

-- name: active_experiments_page
-- returns: many
-- record: Experiment
-- Up to :limit active experiments with id after :after, oldest first.
select *
  from experiments
 where status = 'active'
   and id > coalesce(cast(:after as uuid), '00000000-0000-0000-0000-000000000000')
 order by id
 limit :limit;

-- name: experiments_with_any_tag
-- returns: many
-- record: Experiment
-- Experiments whose tags object has at least one of the keys :labels (jsonb ?|, GIN-indexed).
select *
  from experiments
 where tags ?| cast(:labels as text[])
   and id > coalesce(cast(:after as uuid), '00000000-0000-0000-0000-000000000000')
 order by id
 limit :limit;

-- name: experiments_containing_tags
-- returns: many
-- record: Experiment
-- Experiments whose tags contain the object :tags (jsonb @>, GIN-indexed).
select *
  from experiments
 where tags @> cast(:tags as jsonb)
   and id > coalesce(cast(:after as uuid), '00000000-0000-0000-0000-000000000000')
 order by id
 limit :limit;

-- name: lock_experiment_name
-- returns: none
-- Serialise writers of one experiment name until the transaction ends (e.g. the seeder).
select pg_advisory_xact_lock(hashtextextended('experiments:' || cast(:name as text), 0));

-- name: insert_experiment
-- returns: one
-- record: Experiment
-- table: experiments
-- The new experiment.
insert into experiments (name, description, tags, status)
values (:name, :description, :tags, :status)
returning *;

-- name: update_experiment
-- returns: one
-- record: Experiment
-- table: experiments
-- The experiment after merging :patch (a JSON object of the columns to change) into it.
update experiments t
   set (name, description, tags, status) =
       (select r.name, r.description, r.tags, r.status
          from jsonb_populate_record(t, to_jsonb(t) || cast(:patch as jsonb)) as r)
 where t.id = :id
returning t.*;

-- name: delete_experiment
-- returns: scalar
-- type: uuid
-- table: experiments
-- The id of the deleted experiment (NotFound when there was none). Its runs go with it.
delete from experiments where id = :id returning id;
