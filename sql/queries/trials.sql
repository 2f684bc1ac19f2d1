-- Hyperparameter search trials (table hyperparameter_results), numbered per run.

-- name: trial_by_id
-- returns: one
-- record: Trial
-- table: hyperparameter_results
-- The trial with this id.
select * from hyperparameter_results where id = :id;

-- name: trials_page
-- returns: many
-- record: Trial
-- Up to :limit trials (of every run) with id after :after, oldest first.
select *
  from hyperparameter_results
 where id > coalesce(cast(:after as uuid), '00000000-0000-0000-0000-000000000000')
 order by id
 limit :limit;

-- name: trials_of_run
-- returns: many
-- record: Trial
-- Up to :limit trials of one run numbered after :after_number, in trial order.
select *
  from hyperparameter_results
 where run_id = :run_id
   and trial_number > :after_number
 order by trial_number
 limit :limit;

-- name: insert_trial
-- returns: one
-- record: Trial
-- table: runs
-- The new trial, numbered by bumping runs.trial_count in the same statement:
-- the row lock on the run serialises concurrent creators, and no row comes
-- back when the run does not exist.
-- :synchronous_commit, when not null, is this statement's own commit mode
-- (set_config local to its transaction): 'off' lets a running trial's start
-- commit without waiting for its WAL flush, which its finish then does (see
-- docs/design.md, "Trial starts"). Null keeps the session's setting.
with durability as (
    select set_config('synchronous_commit',
                      coalesce(cast(:synchronous_commit as text),
                               current_setting('synchronous_commit')), true) as mode
), n as (
    update runs set trial_count = trial_count + 1
     where id = :run_id
    returning id, trial_count
)
insert into hyperparameter_results (run_id, trial_number, trial_run_id, parameters,
                                    objective_value, metrics, status)
select n.id, n.trial_count, cast(:trial_run_id as uuid), cast(:parameters as jsonb),
       cast(:objective_value as double precision), cast(:metrics as jsonb),
       cast(:status as text)
  from n cross join durability
returning *;

-- name: update_trial
-- returns: one
-- record: Trial
-- table: hyperparameter_results
-- The trial after merging :patch. Its run, number and parameters never change.
update hyperparameter_results t
   set (trial_run_id, objective_value, metrics, status) =
       (select r.trial_run_id, r.objective_value, r.metrics, r.status
          from jsonb_populate_record(t, to_jsonb(t) || cast(:patch as jsonb)) as r)
 where t.id = :id
returning t.*;

-- name: delete_trial
-- returns: scalar
-- type: uuid
-- table: hyperparameter_results
-- The id of the deleted trial (NotFound when there was none). Its number is not reused.
delete from hyperparameter_results where id = :id returning id;
