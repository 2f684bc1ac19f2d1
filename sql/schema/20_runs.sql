-- Runs: one execution (training, backtest, search...) inside an experiment.
create table runs (
    id              uuid primary key default uuid_v7(),
    experiment_id   uuid not null references experiments (id) on delete cascade,
    parent_run_id   uuid references runs (id) on delete cascade,
    name            text,
    run_type        text not null default 'training',
    status          text not null default 'running',
    start_time      timestamptz,
    end_time        timestamptz,
    summary_metrics jsonb not null default '{}',
    tags            jsonb not null default '{}',
    user_id         uuid,
    error_type      text,
    error_message   text,
    trial_count     integer not null default 0,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    parameters      jsonb not null default '[]',
    constraint runs_name_length check (length(name) between 1 and 255),
    constraint runs_run_type_format check (run_type ~ '^[a-z][a-z0-9_]{0,63}$'),
    constraint runs_status_valid
        check (status in ('scheduled', 'running', 'completed', 'failed', 'killed')),
    constraint runs_started_unless_scheduled
        check (status in ('scheduled', 'failed', 'killed') or start_time is not null),
    constraint runs_end_time_iff_ended
        check ((end_time is null) = (status in ('scheduled', 'running'))),
    constraint runs_end_after_start check (end_time >= start_time),
    constraint runs_summary_metrics_numbers check (jsonb_is_number_map(summary_metrics)),
    constraint runs_tags_object check (jsonb_typeof(tags) = 'object'),
    constraint runs_error_type_length check (length(error_type) <= 255),
    constraint runs_error_message_length check (length(error_message) <= 10000),
    constraint runs_trial_count_nonnegative check (trial_count >= 0),
    constraint runs_not_own_parent check (parent_run_id <> id),
    constraint runs_parameters_array check (jsonb_typeof(parameters) = 'array')
);
comment on table runs is 'One execution inside an experiment; child runs (parent_run_id) hold search trials.';
comment on column runs.start_time is
    'When the run started: stamped when it runs (on insert, or when a scheduled run starts) unless given.';
comment on column runs.parameters is
    'Derived, kept by trigger: the parameters of the run''s configurations, then of the trial it ran (a JSON array of objects). Searches read it.';
comment on constraint runs_parameters_array on runs is 'must be a JSON array';
comment on column runs.trial_count is 'Trials started so far: the counter that numbers hyperparameter_results.';
comment on constraint runs_name_length on runs is 'must be 1 to 255 characters';
comment on constraint runs_run_type_format on runs is
    'must be lower-case letters, digits and underscores, starting with a letter, at most 64';
comment on constraint runs_status_valid on runs is
    'must be one of scheduled, running, completed, failed, killed';
comment on constraint runs_started_unless_scheduled on runs is
    'a running or completed run needs a start_time (a scheduled run cancelled before starting has none)';
comment on constraint runs_end_time_iff_ended on runs is
    'is set exactly when the run has ended (completed, failed or killed)';
comment on constraint runs_end_after_start on runs is 'must not be before start_time';
comment on constraint runs_summary_metrics_numbers on runs is
    'must be a JSON object whose values are all numbers';
comment on constraint runs_tags_object on runs is 'must be a JSON object';
comment on constraint runs_error_type_length on runs is 'must be at most 255 characters';
comment on constraint runs_error_message_length on runs is 'must be at most 10000 characters';
comment on constraint runs_trial_count_nonnegative on runs is 'must be >= 0';
comment on constraint runs_not_own_parent on runs is 'a run cannot be its own parent';

create index runs_experiment_start_idx on runs (experiment_id, start_time desc);
create index runs_start_time_idx on runs (start_time desc);
create index runs_tags_gin on runs using gin (tags);
-- Keyset pages of db.runs(): one (order column, id) index per allowlisted order (start_time
-- has runs_start_time_idx), so a page is an index range scan, not a sort of every run.
-- created_at is not the id's time (the id is stamped as the row is inserted, created_at at
-- the transaction's start), so it has an index of its own. See docs/design.md.
create index runs_created_at_idx on runs (created_at, id);
create index runs_updated_at_idx on runs (updated_at, id);
create index runs_end_time_idx on runs (end_time, id);
create index runs_status_idx on runs (status, id);
create index runs_run_type_idx on runs (run_type, id);
-- An experiment's runs in the default order, and by id; a search run's children in the
-- default order (and the parent_run_id foreign key's index).
create index runs_experiment_created_idx on runs (experiment_id, created_at, id);
create index runs_experiment_id_idx on runs (experiment_id, id);
create index runs_parent_created_idx on runs (parent_run_id, created_at, id)
    where parent_run_id is not null;

-- Stamp start_time / end_time as the status moves, so callers cannot forget.
create function runs_stamp_times() returns trigger
language plpgsql
as $$
begin
    -- A running or completed run has started, by now at the latest; a scheduled run
    -- that is killed or fails before it starts never did.
    if new.status in ('running', 'completed') and new.start_time is null then
        new.start_time := now();
    end if;
    if new.status in ('completed', 'failed', 'killed') and new.end_time is null then
        new.end_time := greatest(now(), new.start_time);
    end if;
    return new;
end
$$;

-- A change of the derived parameters alone (a configuration saved) is not an update of
-- the run by anyone: it keeps its updated_at.
create trigger runs_updated_at before update on runs
    for each row when (old.parameters is not distinct from new.parameters)
    execute function set_updated_at();
create trigger runs_status_transition before update of status on runs
    for each row execute function enforce_status_transition();
create trigger runs_stamp_times before insert or update of status on runs
    for each row execute function runs_stamp_times();
