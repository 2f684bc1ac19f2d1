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
