-- Partition maintenance a writer may run. Creating a partition is DDL: it needs CREATE
-- on the schema and ownership of the partitioned table, which only the owner role has
-- (see `resultsdb roles` and docs/scaling.md). This function runs as its owner
-- (SECURITY DEFINER) and does one bounded thing, so a writer can keep the months ahead
-- in place without holding any DDL right. Nobody may execute it until granted
-- (`resultsdb roles` grants it to the writer role). Its search_path is pinned to this
-- schema and then pg_temp, so a caller's temporary tables cannot stand in for ours.
create function maintain_series_partitions(months_ahead integer default 3, months_behind integer default 0)
returns setof text
language plpgsql
security definer
as $$
begin
    if months_ahead is null or months_behind is null
       or months_ahead not between 0 and 24 or months_behind not between 0 and 24 then
        raise exception 'maintain_series_partitions: months_ahead and months_behind must be 0 to 24, got % and %',
                        months_ahead, months_behind
            using errcode = 'invalid_parameter_value';
    end if;
    return query select p from ensure_series_partitions(months_ahead, months_behind) as p;
end
$$;
comment on function maintain_series_partitions(integer, integer) is
    'ensure_series_partitions() with the owner''s rights, for writer roles: 0 to 24 months either side. Returns the partitions created.';
revoke execute on function maintain_series_partitions(integer, integer) from public;
do $$
begin
    execute format('alter function maintain_series_partitions(integer, integer) set search_path = %I, pg_temp',
                   current_schema());
end
$$;
-- Run from cron, it has no RESULTSDB_DDL_LOCK_TIMEOUT_MS around it: attaching a month waits
-- for everyone reading the DEFAULT partition and everyone after queues behind it, so it gives
-- up after 3 s instead (set while it runs, put back after).
alter function maintain_series_partitions(integer, integer) set lock_timeout = '3s';
