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
