-- Shared functions: time-ordered ids, updated_at, status transitions.
-- Runs on PostgreSQL 15 and later (15 has no uuidv7(); gen_random_uuid() is core since 13).

-- RFC 9562 version-7 UUID: 48-bit unix milliseconds, then 12 bits of sub-millisecond
-- time (RFC 9562 section 6.2, method 3, as PostgreSQL 18's uuidv7() does), then random
-- bits. Ids sort by creation time to the microsecond, so recent rows cluster at the
-- right edge of a b-tree, rows made one after another list in that order, and the
-- series tables can be range-partitioned by run id.
create function uuid_v7(ts timestamptz default clock_timestamp()) returns uuid
language sql volatile parallel safe
as $$
    select encode(
        substring(int8send(floor(extract(epoch from ts) * 1000)::bigint) from 3)
            || int2send((28672 + (floor(extract(epoch from ts) * 1000000)::bigint % 1000 + 1000) % 1000
                                 * 4096 / 1000)::smallint)
            || substring(uuid_send(gen_random_uuid()) from 9),
        'hex')::uuid
$$;
comment on function uuid_v7(timestamptz) is
    'Time-ordered UUID (RFC 9562 v7, sub-millisecond precision) from the given time (default clock_timestamp()).';

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

-- True when every top-level value of a jsonb object is a JSON number that double
-- precision can hold. JSON has no NaN or Infinity, but it has 1e400 and 1e-400, which
-- jsonb keeps as numeric: a view or query that reads the value as double precision
-- would fail on it, for every row it scans. Strict mode: lax mode would unwrap an
-- array value and accept {"a": [1, 2]}.
create function jsonb_is_number_map(doc jsonb) returns boolean
language sql immutable parallel safe
as $$
    select jsonb_typeof(doc) = 'object'
       and not jsonb_path_exists(doc, 'strict $.* ? (@.type() != "number"
                                                     || @.abs() > 1.7976931348623157e308
                                                     || (@ != 0 && @.abs() < 2.5e-324))')
$$;
comment on function jsonb_is_number_map(jsonb) is
    'True when doc is a JSON object whose values are all numbers within double precision''s range.';

-- A JSON number as numeric when it is within +-bound (default: double precision's
-- range), null for anything else. Views and queries read metrics through it before a
-- cast, so a value beyond the cast (stored before jsonb_is_number_map bounded numbers,
-- or with the check dropped) reads as null instead of failing the query for every row.
-- A number too close to zero for double precision reads as 0.
create function jsonb_number_within(value jsonb, bound numeric default 1.7976931348623157e308)
returns numeric
language sql immutable parallel safe
as $$
    select case when jsonb_typeof(value) <> 'number' then null
                when abs(value::numeric) > bound then null
                when abs(value::numeric) < 2.5e-324 then 0
                else value::numeric end
$$;
comment on function jsonb_number_within(jsonb, numeric) is
    'A JSON number as numeric when within +-bound (default: the range of double precision), else null: casts of metrics never fail.';

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
