-- What the pipeline API needs beyond plain CRUD: atomic merges, status changes,
-- searches with keyset cursors, the promotion lock.

-- name: merge_run_summary_metrics
-- returns: one
-- record: Run
-- table: runs
-- Merge metrics into a run's summary_metrics in one statement: concurrent merges
-- serialise on the row lock and each sees the other's keys, so nothing is lost.
update runs
   set summary_metrics = summary_metrics || :metrics
 where id = :id
returning *;

-- name: end_run
-- returns: one
-- record: Run
-- table: runs
-- Move a run that has not ended yet to a terminal status, recording the error of a
-- failed run. end_time is stamped by trigger; the status machine trigger refuses
-- scheduled -> completed. A run that already ended is not matched (no row), even for
-- its own status: the trigger would let completed -> completed overwrite the error.
update runs
   set status = :status,
       error_type = :error_type,
       error_message = :error_message
 where id = :id and status in ('scheduled', 'running')
returning *;

-- name: set_experiment_status
-- returns: one
-- record: Experiment
-- table: experiments
-- Change an experiment's status (the transition trigger decides what is allowed).
update experiments set status = :status where id = :id returning *;

-- name: search_runs_asc
-- returns: many
-- record: Run
-- identifier: order_by = created_at | updated_at | start_time | end_time | status | run_type | id
-- Runs matching every filter given (null = no filter), ascending by order_by then id,
-- after the keyset cursor (after_value, after_id). Rows whose sort column is null
-- (e.g. end_time of a running run) are not listed when sorting by that column. Each order
-- has an index on (order_by, id) (docs/design.md); id is for a filter that pins the sort
-- column, which leaves the id's order.
select r.*
  from runs r
 where (cast(:experiment_id as uuid) is null or r.experiment_id = :experiment_id)
   and (cast(:parent_run_id as uuid) is null or r.parent_run_id = :parent_run_id)
   and (cast(:status as text) is null or r.status = :status)
   and (cast(:run_type as text) is null or r.run_type = :run_type)
   and (cast(:tags as jsonb) is null or r.tags @> :tags)
   and (cast(:started_after as timestamptz) is null or r.start_time >= :started_after)
   and (cast(:started_before as timestamptz) is null or r.start_time < :started_before)
   and r.{order_by} is not null
   and (cast(:after_id as uuid) is null or (r.{order_by}, r.id) > (:after_value, :after_id))
 order by r.{order_by}, r.id
 limit :limit;

-- name: search_runs_desc
-- returns: many
-- record: Run
-- identifier: order_by = created_at | updated_at | start_time | end_time | status | run_type | id
-- As search_runs_asc, descending.
select r.*
  from runs r
 where (cast(:experiment_id as uuid) is null or r.experiment_id = :experiment_id)
   and (cast(:parent_run_id as uuid) is null or r.parent_run_id = :parent_run_id)
   and (cast(:status as text) is null or r.status = :status)
   and (cast(:run_type as text) is null or r.run_type = :run_type)
   and (cast(:tags as jsonb) is null or r.tags @> :tags)
   and (cast(:started_after as timestamptz) is null or r.start_time >= :started_after)
   and (cast(:started_before as timestamptz) is null or r.start_time < :started_before)
   and r.{order_by} is not null
   and (cast(:after_id as uuid) is null or (r.{order_by}, r.id) < (:after_value, :after_id))
 order by r.{order_by} desc, r.id desc
 limit :limit;

-- name: search_experiments
-- returns: many
-- record: Experiment
-- Experiments matching every filter given, oldest first, after the id cursor.
select e.*
  from experiments e
 where (cast(:status as text) is null or e.status = :status)
   and (cast(:tags as jsonb) is null or e.tags @> :tags)
   and (cast(:created_after as timestamptz) is null or e.created_at >= :created_after)
   and (cast(:created_before as timestamptz) is null or e.created_at < :created_before)
   and (cast(:after_id as uuid) is null or e.id > :after_id)
 order by e.id
 limit :limit;

-- name: runs_using_snapshot
-- returns: many
-- record: Run
-- Runs that registered a snapshot of the same data: same source, range and features_hash.
-- md5(data_source) is what data_snapshots_features_idx holds of the source.
select distinct r.*
  from data_snapshots s
  join data_snapshots o
    on o.features_hash = s.features_hash and md5(o.data_source) = md5(s.data_source)
   and o.data_source = s.data_source
   and o.start_date = s.start_date and o.end_date = s.end_date
  join runs r on r.id = o.run_id
 where s.id = :snapshot_id
 order by r.id;

-- name: lock_model
-- returns: scalar
-- type: uuid?
-- Lock a model's row for the rest of the transaction: promotions of one model's
-- versions queue here, so exactly one version ends in production.
select id from models where id = :model_id for update;

-- name: archive_production_except
-- returns: rowcount
-- Archive the model's production version unless it is the one being promoted.
update model_versions
   set status = 'archived'
 where model_id = :model_id and status = 'production' and id <> :keep_id;

-- name: set_version_status
-- returns: one
-- record: ModelVersion
-- table: model_versions
update model_versions set status = :status where id = :id returning *;

-- name: production_version
-- returns: one
-- record: ModelVersion
-- table: model_versions
-- The model's version in production (NotFound when none is).
select * from model_versions where model_id = :model_id and status = 'production';

-- name: latest_version
-- returns: one
-- record: ModelVersion
-- table: model_versions
-- The model's highest-numbered version.
select * from model_versions where model_id = :model_id order by version desc limit 1;

-- name: finish_trial
-- returns: one
-- record: Trial
-- table: hyperparameter_results
-- End a running trial. A trial that already ended is not matched (no row), even for
-- its own status: completed -> completed would otherwise overwrite its objective.
update hyperparameter_results
   set status = :status,
       objective_value = coalesce(:objective_value, objective_value),
       metrics = metrics || :metrics
 where id = :id and status = 'running'
returning *;

-- name: best_trial_max
-- returns: one
-- record: Trial
-- table: hyperparameter_results
-- The completed trial with the highest objective (ties: the earliest number).
select * from hyperparameter_results
 where run_id = :run_id and status = 'completed'
 order by objective_value desc, trial_number
 limit 1;

-- name: best_trial_min
-- returns: one
-- record: Trial
-- table: hyperparameter_results
-- The completed trial with the lowest objective (ties: the earliest number).
select * from hyperparameter_results
 where run_id = :run_id and status = 'completed'
 order by objective_value, trial_number
 limit 1;

-- name: all_trials_of_run
-- returns: many
-- record: Trial
-- Every trial of a run, in number order.
select * from hyperparameter_results where run_id = :run_id order by trial_number;
