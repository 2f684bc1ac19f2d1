-- uuid_v7(): 12 bits of sub-millisecond time after the milliseconds (RFC 9562 method 3),
-- so ids made one after another sort in that order even within one millisecond.
-- depends: 0006_partition_maintenance

-- RFC 9562 version-7 UUID: 48-bit unix milliseconds, then 12 bits of sub-millisecond
-- time (RFC 9562 section 6.2, method 3, as PostgreSQL 18's uuidv7() does), then random
-- bits. Ids sort by creation time to the microsecond, so recent rows cluster at the
-- right edge of a b-tree, rows made one after another list in that order, and the
-- series tables can be range-partitioned by run id.
create or replace function uuid_v7(ts timestamptz default clock_timestamp()) returns uuid
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
