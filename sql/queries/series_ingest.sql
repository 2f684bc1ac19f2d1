-- Bulk series writes (resultsdb.series.ingest): batch identities, the locks a write
-- takes, and what it needs to know about the series it extends.
-- A null :model_id means the run's own series, not attributed to a model. The model test
-- (model_id = m or (m is null and model_id is null)) folds to an index condition once m
-- is known (see series_copy.sql). Reads of one series order by (model_id, ts) or
-- (model_id, seq): model_id is one value there, but only that spelling lets the planner
-- walk the (run_id, model_id, ...) index in order when the condition is model_id is null.

-- name: series_batch_by_key
-- returns: one_or_none
-- record: SeriesBatch
-- The batch of this series with this key: no row or one.
select *
  from series_batches
 where run_id = :run_id
   and (model_id = cast(:model_id as uuid) or (cast(:model_id as uuid) is null and model_id is null))
   and kind = :kind
   and batch_key = :batch_key;

-- name: insert_series_batch
-- returns: one_or_none
-- record: SeriesBatch
-- Record a written batch. No row when the key is taken: a concurrent or earlier write
-- of the same batch committed first, and the caller rolls its copy back.
insert into series_batches (run_id, model_id, kind, batch_key, row_count, first_ts, last_ts, checksum)
values (:run_id, cast(:model_id as uuid), :kind, :batch_key, :row_count,
        cast(:first_ts as timestamptz), cast(:last_ts as timestamptz), :checksum)
on conflict on constraint series_batches_key do nothing
returning *;

-- name: series_batches_of_run
-- returns: many
-- record: SeriesBatch
-- Every batch written to a run's series, in the order they were written.
select *
  from series_batches
 where run_id = :run_id
 order by created_at, kind, batch_key;

-- name: ensure_run_series_partition
-- returns: many
-- record: PartitionName
-- Create the series partitions of the month the run was created in, if missing
-- (ensure_series_partition is idempotent); the names created.
select p as name
  from ensure_series_partition(uuid_v7_time(cast(:run_id as uuid))) as p;

-- name: lock_series_run
-- returns: scalar
-- type: uuid?
-- The run's id, locked FOR KEY SHARE as a foreign-key check locks it (so it cannot be
-- deleted until the write ends); null when there is no such run.
select id from runs where id = :run_id for key share;

-- name: lock_series_model
-- returns: scalar
-- type: uuid?
-- The model's id, locked FOR KEY SHARE; null when there is no such model.
select id from models where id = :model_id for key share;

-- name: may_skip_series_foreign_keys
-- returns: scalar
-- type: bool
-- True when this session may set session_replication_role (a superuser, or a role
-- granted SET on it): bulk writes then check the run and model once, not once per row.
select has_parameter_privilege('session_replication_role', 'SET');

-- name: session_replication_role
-- returns: scalar
-- type: str
-- This session's session_replication_role (origin unless something changed it).
select current_setting('session_replication_role');

-- name: set_session_replication_role
-- returns: scalar
-- type: str
-- Set session_replication_role until the transaction (or savepoint) ends; the new value.
select set_config('session_replication_role', :role, true);

-- name: lock_series_writer
-- returns: none
-- Serialise writers of one series until the transaction ends: a trade log's next seq is
-- read, then used.
select pg_advisory_xact_lock(hashtextextended(
    cast(:kind as text) || ':' || cast(:run_id as uuid)::text || ':' || coalesce(cast(:model_id as uuid)::text, ''), 0));

-- name: next_trade_seq
-- returns: scalar
-- type: int
-- The seq after the last one of a trade log (0 for an empty log).
select coalesce((select seq
                   from trade_logs
                  where run_id = :run_id
                    and (model_id = cast(:model_id as uuid) or (cast(:model_id as uuid) is null and model_id is null))
                  order by model_id desc, seq desc
                  limit 1) + 1, 0);

-- name: equity_peak_before
-- returns: scalar
-- type: float?
-- The highest portfolio_value of a curve before :before (null when it has no earlier
-- point): where a batch's running peak, and so its drawdown, starts.
select max(portfolio_value)
  from equity_curves
 where run_id = :run_id
   and (model_id = cast(:model_id as uuid) or (cast(:model_id as uuid) is null and model_id is null))
   and ts < :before;
