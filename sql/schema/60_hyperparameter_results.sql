-- Hyperparameter search trials. trial_number is assigned from runs.trial_count
-- in the same statement, so numbers are 1, 2, 3 ... per run with no gaps.
create table hyperparameter_results (
    id              uuid not null default uuid_v7(),
    run_id          uuid not null references runs (id) on delete cascade,
    trial_number    integer not null,
    trial_run_id    uuid references runs (id) on delete set null,
    parameters      jsonb not null default '{}',
    objective_value double precision,
    metrics         jsonb not null default '{}',
    status          text not null default 'running',
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    finished_at     timestamptz,
    constraint hyperparameter_results_trial_number_positive check (trial_number >= 1),
    constraint hyperparameter_results_parameters_object check (jsonb_typeof(parameters) = 'object'),
    constraint hyperparameter_results_objective_value_finite
        check (objective_value > '-Infinity' and objective_value < 'Infinity'),
    constraint hyperparameter_results_metrics_numbers check (jsonb_is_number_map(metrics)),
    constraint hyperparameter_results_status_valid
        check (status in ('running', 'completed', 'pruned', 'failed')),
    constraint hyperparameter_results_completed_has_objective
        check (status <> 'completed' or objective_value is not null),
    constraint hyperparameter_results_finished_iff_ended
        check ((finished_at is null) = (status = 'running')),
    constraint hyperparameter_results_pkey primary key (run_id, id),
    constraint hyperparameter_results_run_trial_key unique (run_id, trial_number)
);
comment on table hyperparameter_results is
    'Trials of a hyperparameter search run; trial_run_id links the child run that holds the trial''s series.';
comment on constraint hyperparameter_results_trial_number_positive on hyperparameter_results is 'must be >= 1';
comment on constraint hyperparameter_results_parameters_object on hyperparameter_results is 'must be a JSON object';
comment on constraint hyperparameter_results_objective_value_finite on hyperparameter_results is
    'must be a finite number (not NaN or infinite)';
comment on constraint hyperparameter_results_metrics_numbers on hyperparameter_results is
    'must be a JSON object whose values are all numbers';
comment on constraint hyperparameter_results_status_valid on hyperparameter_results is
    'must be one of running, completed, pruned, failed';
comment on constraint hyperparameter_results_completed_has_objective on hyperparameter_results is
    'a completed trial needs an objective_value';
comment on constraint hyperparameter_results_finished_iff_ended on hyperparameter_results is
    'is set exactly when the trial has ended';
comment on constraint hyperparameter_results_run_trial_key on hyperparameter_results is 'one trial number per run';

-- run_id leads the key so the table can be distributed by run_id (docs/scaling.md);
-- look-ups by id alone use this index.
create index hyperparameter_results_id_idx on hyperparameter_results (id);
create index hyperparameter_results_best_idx on hyperparameter_results (run_id, objective_value)
    where status = 'completed';
create index hyperparameter_results_trial_run_idx on hyperparameter_results (trial_run_id)
    where trial_run_id is not null;

create function hyperparameter_results_stamp_finished() returns trigger
language plpgsql
as $$
begin
    if new.status <> 'running' and new.finished_at is null then
        new.finished_at := greatest(now(), new.created_at);
    end if;
    return new;
end
$$;

create trigger hyperparameter_results_updated_at before update on hyperparameter_results
    for each row execute function set_updated_at();
create trigger hyperparameter_results_status_transition before update of status on hyperparameter_results
    for each row execute function enforce_status_transition();
create trigger hyperparameter_results_stamp_finished before insert or update of status on hyperparameter_results
    for each row execute function hyperparameter_results_stamp_finished();
