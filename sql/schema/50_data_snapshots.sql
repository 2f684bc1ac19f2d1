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
-- data_source by its md5: a data_source of 1,024 multibyte characters is too large for
-- a btree row. Lookups compare md5(data_source) too, to use it (runs_using_snapshot).
create index data_snapshots_features_idx
    on data_snapshots (features_hash, md5(data_source), start_date, end_date);
