-- Series batches: one row per bulk write of an equity curve or trade log, the identity
-- that makes a retried write a no-op instead of a duplicate.
--
-- A write stores its rows and this row in one transaction. The key leads with run_id
-- (like the series keys, so it can be distributed by run_id too) and batch_key is the
-- caller's or, by default, the sha256 of the batch's content. A retry after a lost
-- connection finds the row and returns it; if the first attempt did not commit there is
-- no row and the retry writes. checksum is always the content's sha256, so a key reused
-- for different content is refused rather than silently skipped. See docs/design.md.

create table series_batches (
    run_id     uuid not null references runs (id) on delete cascade,
    model_id   uuid references models (id) on delete cascade,
    kind       text not null,
    batch_key  text not null,
    row_count  bigint not null,
    first_ts   timestamptz,
    last_ts    timestamptz,
    checksum   text not null,
    created_at timestamptz not null default now(),
    constraint series_batches_key unique nulls not distinct (run_id, model_id, kind, batch_key),
    constraint series_batches_kind_valid check (kind in ('equity', 'trades')),
    constraint series_batches_batch_key_length check (length(batch_key) between 1 and 255),
    constraint series_batches_row_count_nonnegative check (row_count >= 0),
    constraint series_batches_span
        check ((row_count = 0) = (first_ts is null) and (first_ts is null) = (last_ts is null)
               and first_ts <= last_ts),
    constraint series_batches_checksum_sha256 check (checksum ~ '^[0-9a-f]{64}$')
);
comment on table series_batches is
    'One row per bulk write of a series (equity_curves or trade_logs): a retried write with the same key is a no-op.';
comment on column series_batches.kind is 'Which series: equity (equity_curves) or trades (trade_logs).';
comment on column series_batches.batch_key is
    'The caller''s batch key, or sha256:<checksum> when the caller gave none.';
comment on column series_batches.checksum is
    'sha256 of the batch as the caller gave it (before drawdown or seq were filled in).';
comment on constraint series_batches_key on series_batches is
    'one batch per (run_id, model_id, kind, batch_key): a batch is written once';
comment on constraint series_batches_kind_valid on series_batches is 'must be equity or trades';
comment on constraint series_batches_batch_key_length on series_batches is 'must be 1 to 255 characters';
comment on constraint series_batches_row_count_nonnegative on series_batches is 'must be >= 0';
comment on constraint series_batches_span on series_batches is
    'first_ts and last_ts are set exactly when the batch has rows, and first_ts <= last_ts';
comment on constraint series_batches_checksum_sha256 on series_batches is
    'must be a sha256 digest: 64 lower-case hex characters';

-- ON DELETE CASCADE from models: a model's batches without a scan of the table.
create index series_batches_model_idx on series_batches (model_id) where model_id is not null;
