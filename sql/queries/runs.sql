-- Runs: look-ups, keyset pages, runs of an experiment, recent runs and writes.

-- name: run_by_id
-- returns: one
-- record: Run
-- table: runs
-- The run with this id.
select * from runs where id = :id;

-- name: runs_page
-- returns: many
-- record: Run
-- Up to :limit runs with id after :after, oldest first.
select *
  from runs
 where id > coalesce(cast(:after as uuid), '00000000-0000-0000-0000-000000000000')
 order by id
 limit :limit;

-- name: runs_of_experiment
-- returns: many
-- record: Run
-- Up to :limit runs of one experiment with id after :after, oldest first;
-- only those with status :status unless it is null.
select *
  from runs
 where experiment_id = :experiment_id
   and (cast(:status as text) is null or status = :status)
   and id > coalesce(cast(:after as uuid), '00000000-0000-0000-0000-000000000000')
 order by id
 limit :limit;

-- name: most_recent_runs
-- returns: many
-- record: Run
-- The :limit runs that started last, newest first. Scheduled runs have not
-- started (no start_time) and are left out; this walks runs_start_time_idx.
select *
  from runs
 where start_time is not null
 order by start_time desc, id desc
 limit :limit;

-- name: insert_run
-- returns: one
-- record: Run
-- table: runs
-- The new run. Like the column default, start_time is now() when not given,
-- except for a scheduled run, which has not started yet.
insert into runs (experiment_id, parent_run_id, name, run_type, status, start_time, end_time,
                  summary_metrics, tags, user_id, error_type, error_message)
values (:experiment_id, :parent_run_id, :name, :run_type, :status,
        coalesce(cast(:start_time as timestamptz),
                 case when cast(:status as text) <> 'scheduled' then now() end),
        :end_time, :summary_metrics, :tags, :user_id, :error_type, :error_message)
returning *;

-- name: update_run
-- returns: one
-- record: Run
-- table: runs
-- The run after merging :patch (a JSON object of the columns to change) into it.
update runs t
   set (name, status, start_time, end_time, summary_metrics, tags, error_type, error_message) =
       (select r.name, r.status, r.start_time, r.end_time, r.summary_metrics, r.tags,
               r.error_type, r.error_message
          from jsonb_populate_record(t, to_jsonb(t) || cast(:patch as jsonb)) as r)
 where t.id = :id
returning t.*;

-- name: delete_run
-- returns: scalar
-- type: uuid
-- table: runs
-- The id of the deleted run (NotFound when there was none). Its configurations,
-- snapshots, trials and series go with it; a model it produced blocks the delete.
delete from runs where id = :id returning id;
