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
