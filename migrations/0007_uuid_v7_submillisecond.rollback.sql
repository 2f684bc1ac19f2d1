-- Undo 0007_uuid_v7_submillisecond: uuid_v7() as 0001 made it (random bits after the milliseconds).

-- RFC 9562 version-7 UUID: 48-bit unix milliseconds, then random bits.
-- Ids sort by creation time, so recent rows cluster at the right edge of a
-- b-tree and the series tables can be range-partitioned by run id.
create or replace function uuid_v7(ts timestamptz default clock_timestamp()) returns uuid
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
