-- Initial schema: the ten tables of the spec, status machines, audit, partitioned series.
-- Frozen once shipped: later changes are new migrations (and sql/schema/ follows them).

-- ---- from sql/schema/00_functions.sql ----
-- Shared functions: time-ordered ids, updated_at, status transitions.
-- Runs on PostgreSQL 15 and later (15 has no uuidv7(); gen_random_uuid() is core since 13).

-- RFC 9562 version-7 UUID: 48-bit unix milliseconds, then random bits.
-- Ids sort by creation time, so recent rows cluster at the right edge of a
-- b-tree and the series tables can be range-partitioned by run id.
create function uuid_v7(ts timestamptz default clock_timestamp()) returns uuid
language sql volatile parallel safe
as $$
    select encode(
        set_bit(set_bit(
            overlay(uuid_send(gen_random_uuid())
                    placing substring(int8send(floor(extract(epoch from ts) * 1000)::bigint) from 3)
                    from 1 for 6),
            52, 1), 53, 1),
        'hex')::uuid
$$;
comment on function uuid_v7(timestamptz) is
    'Time-ordered UUID (RFC 9562 v7) from the given time (default clock_timestamp()).';

-- The smallest v7 UUID of a millisecond: lower bound for range partitions.
create function uuid_v7_floor(ts timestamptz) returns uuid
language sql immutable parallel safe
as $$
    select encode(
        substring(int8send(floor(extract(epoch from ts) * 1000)::bigint) from 3)
            || '\x00000000000000000000'::bytea,
        'hex')::uuid
$$;
comment on function uuid_v7_floor(timestamptz) is
    'Smallest UUIDv7 whose embedded time is ts: partition bounds for tables keyed by run_id.';

-- The creation time a v7 UUID carries (millisecond precision).
create function uuid_v7_time(id uuid) returns timestamptz
language sql immutable parallel safe
as $$
    select to_timestamp(
        ('x' || lpad(substr(replace(id::text, '-', ''), 1, 12), 16, '0'))::bit(64)::bigint / 1000.0)
$$;
comment on function uuid_v7_time(uuid) is 'Creation time embedded in a UUIDv7.';

create function set_updated_at() returns trigger
language plpgsql
as $$
begin
    new.updated_at := now();
    return new;
end
$$;

-- True when every top-level value of a jsonb object is a JSON number.
-- (JSON has no NaN or Infinity, so a number here is always finite.) Strict mode:
-- lax mode would unwrap an array value and accept {"a": [1, 2]}.
create function jsonb_is_number_map(doc jsonb) returns boolean
language sql immutable parallel safe
as $$
    select jsonb_typeof(doc) = 'object'
       and not jsonb_path_exists(doc, 'strict $.* ? (@.type() != "number")')
$$;

-- Allowed status changes, one row per edge; triggers consult it, psql users can read it.
create table status_transitions (
    entity      text not null,
    from_status text not null,
    to_status   text not null,
    primary key (entity, from_status, to_status),
    constraint status_transitions_no_loop check (from_status <> to_status)
);
comment on constraint status_transitions_no_loop on status_transitions is 'from_status and to_status must differ';
comment on table status_transitions is
    'Allowed status changes per table; enforced by the enforce_status_transition trigger.';

insert into status_transitions (entity, from_status, to_status) values
    ('experiments', 'active', 'completed'),
    ('experiments', 'active', 'failed'),
    ('experiments', 'active', 'archived'),
    ('experiments', 'completed', 'active'),
    ('experiments', 'completed', 'archived'),
    ('experiments', 'failed', 'active'),
    ('experiments', 'failed', 'archived'),
    ('experiments', 'archived', 'active'),
    ('runs', 'scheduled', 'running'),
    ('runs', 'scheduled', 'killed'),
    ('runs', 'scheduled', 'failed'),
    ('runs', 'running', 'completed'),
    ('runs', 'running', 'failed'),
    ('runs', 'running', 'killed'),
    ('model_versions', 'draft', 'staging'),
    ('model_versions', 'draft', 'production'),
    ('model_versions', 'draft', 'archived'),
    ('model_versions', 'staging', 'draft'),
    ('model_versions', 'staging', 'production'),
    ('model_versions', 'staging', 'archived'),
    ('model_versions', 'production', 'staging'),
    ('model_versions', 'production', 'archived'),
    ('model_versions', 'archived', 'staging'),
    ('model_versions', 'archived', 'production'),
    ('hyperparameter_results', 'running', 'completed'),
    ('hyperparameter_results', 'running', 'pruned'),
    ('hyperparameter_results', 'running', 'failed');

-- SQLSTATE RS001 = invalid status transition (mapped to resultsdb.errors.InvalidTransition).
create function enforce_status_transition() returns trigger
language plpgsql
as $$
begin
    if new.status is distinct from old.status and not exists (
        select 1 from status_transitions t
         where t.entity = tg_table_name
           and t.from_status = old.status
           and t.to_status = new.status
    ) then
        raise exception '% %: status cannot change from % to %',
                        tg_table_name, old.id, old.status, new.status
            using errcode = 'RS001', table = tg_table_name, column = 'status',
                  detail = format('from=%s to=%s', old.status, new.status);
    end if;
    return new;
end
$$;

-- ---- from sql/schema/10_experiments.sql ----
-- Experiments: a named line of research that groups runs.
create table experiments (
    id          uuid primary key default uuid_v7(),
    name        text not null,
    description text,
    tags        jsonb not null default '{}',
    status      text not null default 'active',
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    constraint experiments_name_length check (length(name) between 1 and 255),
    constraint experiments_description_length check (length(description) <= 10000),
    constraint experiments_tags_object check (jsonb_typeof(tags) = 'object'),
    constraint experiments_status_valid
        check (status in ('active', 'completed', 'failed', 'archived'))
);
comment on table experiments is 'A line of research; groups runs. Archive instead of deleting.';
comment on constraint experiments_name_length on experiments is 'must be 1 to 255 characters';
comment on constraint experiments_description_length on experiments is 'must be at most 10000 characters';
comment on constraint experiments_tags_object on experiments is 'must be a JSON object';
comment on constraint experiments_status_valid on experiments is
    'must be one of active, completed, failed, archived';

-- Names are unique among experiments that are not archived: archiving frees a name.
create unique index experiments_name_live_key on experiments (name) where status <> 'archived';
comment on index experiments_name_live_key is 'experiment names are unique among experiments that are not archived';
create index experiments_tags_gin on experiments using gin (tags);
create index experiments_status_idx on experiments (status);

create trigger experiments_updated_at before update on experiments
    for each row execute function set_updated_at();
create trigger experiments_status_transition before update of status on experiments
    for each row execute function enforce_status_transition();

-- ---- from sql/schema/20_runs.sql ----
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
    constraint runs_not_own_parent check (parent_run_id <> id)
);
comment on table runs is 'One execution inside an experiment; child runs (parent_run_id) hold search trials.';
comment on column runs.start_time is
    'When the run started: stamped when it runs (on insert, or when a scheduled run starts) unless given.';
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
create index runs_parent_idx on runs (parent_run_id) where parent_run_id is not null;
create index runs_tags_gin on runs using gin (tags);

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

create trigger runs_updated_at before update on runs
    for each row execute function set_updated_at();
create trigger runs_status_transition before update of status on runs
    for each row execute function enforce_status_transition();
create trigger runs_stamp_times before insert or update of status on runs
    for each row execute function runs_stamp_times();

-- ---- from sql/schema/30_configurations.sql ----
-- Configurations: versioned parameter sets; parent_id records what a config was derived from.
create table configurations (
    id          uuid primary key default uuid_v7(),
    run_id      uuid not null references runs (id) on delete cascade,
    name        text not null,
    config_type text not null,
    parameters  jsonb not null default '{}',
    version     integer not null,
    parent_id   uuid references configurations (id) on delete restrict,
    created_at  timestamptz not null default now(),
    constraint configurations_name_length check (length(name) between 1 and 255),
    constraint configurations_config_type_format check (config_type ~ '^[a-z][a-z0-9_]{0,63}$'),
    constraint configurations_parameters_object check (jsonb_typeof(parameters) = 'object'),
    constraint configurations_version_positive check (version >= 1),
    constraint configurations_not_own_parent check (parent_id <> id),
    constraint configurations_name_version_key unique (name, version)
);
comment on table configurations is
    'Versioned parameter sets (version counts per name); parent_id is the config this one was derived from.';
comment on constraint configurations_name_length on configurations is 'must be 1 to 255 characters';
comment on constraint configurations_config_type_format on configurations is
    'must be lower-case letters, digits and underscores, starting with a letter, at most 64';
comment on constraint configurations_parameters_object on configurations is 'must be a JSON object';
comment on constraint configurations_version_positive on configurations is 'must be >= 1';
comment on constraint configurations_not_own_parent on configurations is 'a configuration cannot be its own parent';
comment on constraint configurations_name_version_key on configurations is 'one configuration per (name, version)';

create index configurations_run_idx on configurations (run_id);
create index configurations_parent_idx on configurations (parent_id) where parent_id is not null;

-- parent_id must not close a loop (a configuration derived, through others, from itself).
-- Only an update can create one: a new row has no children yet.
create function configurations_refuse_cycle() returns trigger
language plpgsql
as $$
begin
    if new.parent_id is not null and exists (
        with recursive ancestors as (
            select c.id, c.parent_id from configurations c where c.id = new.parent_id
            union all
            select c.id, c.parent_id from configurations c join ancestors a on c.id = a.parent_id
        ) cycle id set is_cycle using path
        select 1 from ancestors where id = new.id
    ) then
        raise exception 'configurations.parent_id: % would make configuration % its own ancestor',
                        new.parent_id, new.id
            using errcode = 'check_violation', table = 'configurations', column = 'parent_id',
                  constraint = 'configurations_no_cycle';
    end if;
    return new;
end
$$;

create trigger configurations_refuse_cycle before update of parent_id on configurations
    for each row execute function configurations_refuse_cycle();

-- ---- from sql/schema/40_models.sql ----
-- Model registry: models, their numbered versions, the audit of version status changes,
-- and the artifacts (content-addressed blobs) each version owns.
create table models (
    id            uuid primary key default uuid_v7(),
    run_id        uuid not null references runs (id) on delete restrict,
    config_id     uuid references configurations (id) on delete restrict,
    model_type    text not null,
    name          text not null,
    metadata      jsonb not null default '{}',
    version_count integer not null default 0,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now(),
    constraint models_name_length check (length(name) between 1 and 255),
    constraint models_model_type_format check (model_type ~ '^[a-z][a-z0-9_]{0,63}$'),
    constraint models_metadata_object check (jsonb_typeof(metadata) = 'object'),
    constraint models_version_count_nonnegative check (version_count >= 0),
    constraint models_name_key unique (name)
);
comment on table models is
    'A named model; run_id and config_id are where it was first produced. Versions number themselves.';
comment on column models.version_count is 'Versions created so far: the counter that numbers model_versions.';
comment on constraint models_name_length on models is 'must be 1 to 255 characters';
comment on constraint models_model_type_format on models is
    'must be lower-case letters, digits and underscores, starting with a letter, at most 64';
comment on constraint models_metadata_object on models is 'must be a JSON object';
comment on constraint models_version_count_nonnegative on models is 'must be >= 0';
comment on constraint models_name_key on models is 'model names are unique';

create index models_run_idx on models (run_id);
create index models_config_idx on models (config_id) where config_id is not null;

create trigger models_updated_at before update on models
    for each row execute function set_updated_at();

create table model_versions (
    id          uuid primary key default uuid_v7(),
    model_id    uuid not null references models (id) on delete cascade,
    version     integer not null,
    run_id      uuid not null references runs (id) on delete restrict,
    config_id   uuid references configurations (id) on delete restrict,
    commit_hash text,
    status      text not null default 'draft',
    metrics     jsonb not null default '{}',
    description text,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    constraint model_versions_version_positive check (version >= 1),
    constraint model_versions_commit_hash_format check (commit_hash ~ '^[0-9a-f]{7,64}$'),
    constraint model_versions_status_valid
        check (status in ('draft', 'staging', 'production', 'archived')),
    constraint model_versions_metrics_numbers check (jsonb_is_number_map(metrics)),
    constraint model_versions_description_length check (length(description) <= 10000),
    constraint model_versions_model_version_key unique (model_id, version)
);
comment on table model_versions is
    'Numbered versions of a model (1, 2, ... per model); at most one is in production.';
comment on column model_versions.run_id is 'The run that produced this version.';
comment on constraint model_versions_version_positive on model_versions is 'must be >= 1';
comment on constraint model_versions_commit_hash_format on model_versions is
    'must be 7 to 64 lower-case hex characters (a git commit id)';
comment on constraint model_versions_status_valid on model_versions is
    'must be one of draft, staging, production, archived';
comment on constraint model_versions_metrics_numbers on model_versions is
    'must be a JSON object whose values are all numbers';
comment on constraint model_versions_description_length on model_versions is
    'must be at most 10000 characters';
comment on constraint model_versions_model_version_key on model_versions is 'one version number per model';

create unique index model_versions_one_production on model_versions (model_id)
    where status = 'production';
comment on index model_versions_one_production is 'At most one production version per model.';
create index model_versions_run_idx on model_versions (run_id);
create index model_versions_config_idx on model_versions (config_id) where config_id is not null;

-- Audit: every status a version takes, with who and why (set_config('resultsdb.actor'/'resultsdb.reason')).
create table model_version_transitions (
    id               uuid primary key default uuid_v7(),
    model_version_id uuid not null references model_versions (id) on delete cascade,
    from_status      text,
    to_status        text not null,
    reason           text,
    changed_by       text not null,
    changed_at       timestamptz not null default now()
);
comment on table model_version_transitions is
    'Audit trail of model version status changes, written by trigger (psql changes are audited too).';
create index model_version_transitions_version_idx
    on model_version_transitions (model_version_id, changed_at);

create function model_versions_audit() returns trigger
language plpgsql
as $$
begin
    insert into model_version_transitions (model_version_id, from_status, to_status, reason, changed_by)
    values (new.id,
            case when tg_op = 'UPDATE' then old.status end,
            new.status,
            nullif(current_setting('resultsdb.reason', true), ''),
            coalesce(nullif(current_setting('resultsdb.actor', true), ''), session_user));
    return null;
end
$$;

-- SQLSTATE RS002 = the row is protected (mapped to resultsdb.errors.ProtectedRow).
create function model_versions_protect_production() returns trigger
language plpgsql
as $$
begin
    if old.status = 'production' then
        raise exception 'model version % is in production: archive it before deleting', old.id
            using errcode = 'RS002', table = 'model_versions', column = 'status';
    end if;
    return old;
end
$$;

create trigger model_versions_updated_at before update on model_versions
    for each row execute function set_updated_at();
create trigger model_versions_status_transition before update of status on model_versions
    for each row execute function enforce_status_transition();
create trigger model_versions_audit_insert after insert on model_versions
    for each row execute function model_versions_audit();
create trigger model_versions_audit_update after update of status on model_versions
    for each row when (old.status is distinct from new.status)
    execute function model_versions_audit();
create trigger model_versions_protect_production before delete on model_versions
    for each row execute function model_versions_protect_production();

create table model_artifacts (
    id               uuid primary key default uuid_v7(),
    model_version_id uuid not null references model_versions (id) on delete cascade,
    artifact_type    text not null,
    storage_path     text not null,
    size_bytes       bigint not null,
    file_format      text,
    content_hash     text not null,
    created_at       timestamptz not null default now(),
    constraint model_artifacts_artifact_type_format check (artifact_type ~ '^[a-z][a-z0-9_]{0,63}$'),
    constraint model_artifacts_storage_path_length check (length(storage_path) between 1 and 2048),
    constraint model_artifacts_size_nonnegative check (size_bytes >= 0),
    constraint model_artifacts_file_format_format check (file_format ~ '^[a-z0-9][a-z0-9._+-]{0,31}$'),
    constraint model_artifacts_content_hash_sha256 check (content_hash ~ '^[0-9a-f]{64}$')
);
comment on table model_artifacts is
    'Blobs a model version owns; the bytes live in the artifact store under their sha256.';
comment on constraint model_artifacts_artifact_type_format on model_artifacts is
    'must be lower-case letters, digits and underscores, starting with a letter, at most 64';
comment on constraint model_artifacts_storage_path_length on model_artifacts is 'must be 1 to 2048 characters';
comment on constraint model_artifacts_size_nonnegative on model_artifacts is 'must be >= 0';
comment on constraint model_artifacts_file_format_format on model_artifacts is
    'must be a short lower-case extension such as pt, onnx, h5, parquet';
comment on constraint model_artifacts_content_hash_sha256 on model_artifacts is
    'must be a sha256 digest: 64 lower-case hex characters';

create index model_artifacts_version_idx on model_artifacts (model_version_id);
create index model_artifacts_content_hash_idx on model_artifacts (content_hash);

-- ---- from sql/schema/50_data_snapshots.sql ----
-- Data snapshots: the exact data range and feature set a run used.
create table data_snapshots (
    id            uuid primary key default uuid_v7(),
    run_id        uuid not null references runs (id) on delete cascade,
    data_source   text not null,
    start_date    timestamptz not null,
    end_date      timestamptz not null,
    features_hash text not null,
    storage_path  text,
    content_hash  text,
    size_bytes    bigint,
    created_at    timestamptz not null default now(),
    constraint data_snapshots_data_source_length check (length(data_source) between 1 and 1024),
    constraint data_snapshots_range_ordered check (start_date <= end_date),
    constraint data_snapshots_features_hash_sha256 check (features_hash ~ '^[0-9a-f]{64}$'),
    constraint data_snapshots_storage_path_length check (length(storage_path) between 1 and 2048),
    constraint data_snapshots_content_hash_sha256 check (content_hash ~ '^[0-9a-f]{64}$'),
    constraint data_snapshots_size_nonnegative check (size_bytes >= 0)
);
comment on table data_snapshots is
    'Data a run used: source, time range and features_hash; runs sharing a features_hash used the same data.';
comment on constraint data_snapshots_data_source_length on data_snapshots is 'must be 1 to 1024 characters';
comment on constraint data_snapshots_range_ordered on data_snapshots is 'start_date must not be after end_date';
comment on constraint data_snapshots_features_hash_sha256 on data_snapshots is
    'must be a sha256 digest: 64 lower-case hex characters';
comment on constraint data_snapshots_storage_path_length on data_snapshots is 'must be 1 to 2048 characters';
comment on constraint data_snapshots_content_hash_sha256 on data_snapshots is
    'must be a sha256 digest: 64 lower-case hex characters';
comment on constraint data_snapshots_size_nonnegative on data_snapshots is 'must be >= 0';

create index data_snapshots_run_idx on data_snapshots (run_id);
create index data_snapshots_features_idx on data_snapshots (features_hash, data_source, start_date, end_date);

-- ---- from sql/schema/60_hyperparameter_results.sql ----
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

-- ---- from sql/schema/70_series.sql ----
-- Time series of a run: equity curves and trade logs.
--
-- Both are RANGE-partitioned on run_id. Run ids are UUIDv7, so a month of run
-- creation is one contiguous id range: one run's series lives in exactly one
-- partition (reads prune to it), retention detaches or drops whole months, and
-- run_id leads every key (the tables can be distributed by run_id on Citus).
-- The series' own ts is market time (often years back) and plays no part in
-- placement. A DEFAULT partition takes ids outside every created month, so an
-- insert never fails for want of a partition; ensure_series_partition() moves
-- such rows out when their month is created. See docs/design.md.

create table equity_curves (
    run_id          uuid not null references runs (id) on delete cascade,
    model_id        uuid references models (id) on delete cascade,
    ts              timestamptz not null,
    portfolio_value double precision not null,
    benchmark_value double precision,
    drawdown        double precision,
    constraint equity_curves_key unique nulls not distinct (run_id, model_id, ts),
    constraint equity_curves_portfolio_value_finite
        check (portfolio_value > '-Infinity' and portfolio_value < 'Infinity'),
    constraint equity_curves_benchmark_value_finite
        check (benchmark_value > '-Infinity' and benchmark_value < 'Infinity'),
    constraint equity_curves_drawdown_range check (drawdown >= 0 and drawdown < 'Infinity')
) partition by range (run_id);
comment on table equity_curves is
    'Portfolio value over (market) time per run and model; partitioned by run_id month.';
comment on column equity_curves.ts is 'Market time of the point (timestamp in the spec).';
comment on column equity_curves.drawdown is 'Fraction below the running peak of portfolio_value, >= 0.';
comment on constraint equity_curves_key on equity_curves is
    'one point per (run_id, model_id, ts): a timestamp appears once in a series';
comment on constraint equity_curves_portfolio_value_finite on equity_curves is
    'must be a finite number (not NaN or infinite)';
comment on constraint equity_curves_benchmark_value_finite on equity_curves is
    'must be a finite number (not NaN or infinite)';
comment on constraint equity_curves_drawdown_range on equity_curves is
    'must be a finite number >= 0 (a fraction below the peak)';

create table trade_logs (
    run_id   uuid not null references runs (id) on delete cascade,
    model_id uuid references models (id) on delete cascade,
    seq      bigint not null,
    ts       timestamptz not null,
    asset    text not null,
    action   text not null,
    price    double precision not null,
    quantity double precision not null,
    pnl      double precision,
    metadata jsonb,
    constraint trade_logs_key unique nulls not distinct (run_id, model_id, seq),
    constraint trade_logs_seq_nonnegative check (seq >= 0),
    constraint trade_logs_asset_length check (length(asset) between 1 and 64),
    constraint trade_logs_action_valid check (action in ('buy', 'sell', 'short', 'cover')),
    constraint trade_logs_price_positive check (price > 0 and price < 'Infinity'),
    constraint trade_logs_quantity_positive check (quantity > 0 and quantity < 'Infinity'),
    constraint trade_logs_pnl_finite check (pnl > '-Infinity' and pnl < 'Infinity'),
    constraint trade_logs_metadata_object check (jsonb_typeof(metadata) = 'object')
) partition by range (run_id);
comment on table trade_logs is
    'Trades per run and model in order (seq); partitioned by run_id month.';
comment on column trade_logs.seq is 'Position of the trade in its (run_id, model_id) log, from 0.';
comment on column trade_logs.ts is 'Market time of the trade (timestamp in the spec).';
comment on constraint trade_logs_key on trade_logs is 'one trade per (run_id, model_id, seq)';
comment on constraint trade_logs_seq_nonnegative on trade_logs is 'must be >= 0';
comment on constraint trade_logs_asset_length on trade_logs is 'must be 1 to 64 characters';
comment on constraint trade_logs_action_valid on trade_logs is 'must be one of buy, sell, short, cover';
comment on constraint trade_logs_price_positive on trade_logs is 'must be a finite number > 0';
comment on constraint trade_logs_quantity_positive on trade_logs is 'must be a finite number > 0';
comment on constraint trade_logs_pnl_finite on trade_logs is 'must be a finite number (not NaN or infinite)';
comment on constraint trade_logs_metadata_object on trade_logs is 'must be a JSON object';

create index trade_logs_run_ts_idx on trade_logs (run_id, model_id, ts);

create table equity_curves_default partition of equity_curves default;
create table trade_logs_default partition of trade_logs default;

-- Create the partition holding runs created in the month of `month` (UTC), for
-- both series tables. Rows already in the DEFAULT partition for that range are
-- moved into the new partition in the same transaction. Returns the names created.
create function ensure_series_partition(month timestamptz) returns setof text
language plpgsql
as $$
declare
    parent text;
    lo_time timestamptz := date_trunc('month', month, 'UTC');
    lo uuid := uuid_v7_floor(lo_time);
    hi uuid := uuid_v7_floor(lo_time + interval '1 month');
    part text;
begin
    foreach parent in array array['equity_curves', 'trade_logs'] loop
        part := format('%s_p%s', parent, to_char(lo_time at time zone 'UTC', 'YYYYMM'));
        continue when to_regclass(quote_ident(part)) is not null;
        -- Serialise concurrent creators of the same partition.
        perform pg_advisory_xact_lock(hashtextextended(part, 0));
        continue when to_regclass(quote_ident(part)) is not null;
        execute format('create table %I (like %I including defaults including constraints)',
                       part, parent);
        execute format('with moved as (delete from %I where run_id >= %L and run_id < %L returning *) '
                       'insert into %I select * from moved',
                       parent || '_default', lo, hi, part);
        execute format('alter table %I attach partition %I for values from (%L) to (%L)',
                       parent, part, lo, hi);
        return next part;
    end loop;
end
$$;
comment on function ensure_series_partition(timestamptz) is
    'Create the equity_curves/trade_logs partitions for runs created in that UTC month (idempotent).';

create function ensure_series_partitions(months_ahead integer default 3, months_behind integer default 0)
returns setof text
language sql
as $$
    select p
      from generate_series(-months_behind, months_ahead) as m,
           ensure_series_partition(now() + make_interval(months => m)) as p
$$;
comment on function ensure_series_partitions(integer, integer) is
    'Create the series partitions from months_behind before to months_ahead after the current month.';

-- The current month and three ahead exist from the start.
do $$ begin perform ensure_series_partitions(); end $$;

