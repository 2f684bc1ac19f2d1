-- trials: hyperparameter search trials with their search run and experiment by name.
create view trials as
select h.id as trial_id,
       h.run_id as search_run_id,
       s.name as search_run_name,
       s.experiment_id,
       e.name as experiment_name,
       h.trial_number,
       h.status,
       h.objective_value,
       h.parameters,
       h.metrics,
       h.trial_run_id,
       t.status as trial_run_status,
       h.created_at,
       h.finished_at,
       h.finished_at - h.created_at as duration
  from hyperparameter_results h
  join runs s on s.id = h.run_id
  join experiments e on e.id = s.experiment_id
  left join runs t on t.id = h.trial_run_id;
comment on view trials is
    'Hyperparameter search trials (hyperparameter_results) with the search run and experiment they belong to.';
comment on column trials.trial_id is 'hyperparameter_results.id.';
comment on column trials.search_run_id is 'The search run the trial belongs to (hyperparameter_results.run_id).';
comment on column trials.search_run_name is 'runs.name of the search run.';
comment on column trials.experiment_id is 'The experiment of the search run.';
comment on column trials.experiment_name is 'experiments.name of that experiment.';
comment on column trials.trial_number is '1, 2, 3 ... per search run, in the order trials started.';
comment on column trials.status is 'running, completed, pruned or failed.';
comment on column trials.objective_value is 'The value the search optimises; set on every completed trial.';
comment on column trials.parameters is 'The hyperparameters tried: a JSON object.';
comment on column trials.metrics is 'Other metrics of the trial: a JSON object of numbers.';
comment on column trials.trial_run_id is 'The child run holding the trial''s series, if any.';
comment on column trials.trial_run_status is 'Status of that child run.';
comment on column trials.created_at is 'When the trial started.';
comment on column trials.finished_at is 'When the trial ended (null while running).';
comment on column trials.duration is 'finished_at - created_at; null while running.';
