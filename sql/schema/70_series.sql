-- Time series of a run: equity curves and trade logs.
--
-- Both are RANGE-partitioned on run_id. Run ids are UUIDv7, so a month of run
-- creation is one contiguous id range: one run's series lives in exactly one
-- partition (reads prune to it), retention detaches or drops whole months, and
-- run_id leads every key (the tables can be distributed by run_id on Citus).
-- The series' own ts is market time (often years back) and plays no part in
-- placement. A DEFAULT partition takes ids outside every created month, so an
-- insert never fails for want of a partition; ensure_series_partition() moves
-- such rows out when their month is created. See docs/design.md.

create table equity_curves (
    run_id          uuid not null references runs (id) on delete cascade,
    model_id        uuid references models (id) on delete cascade,
    ts              timestamptz not null,
    portfolio_value double precision not null,
    benchmark_value double precision,
    drawdown        double precision,
    constraint equity_curves_key unique nulls not distinct (run_id, model_id, ts),
    constraint equity_curves_portfolio_value_finite
        check (portfolio_value > '-Infinity' and portfolio_value < 'Infinity'),
    constraint equity_curves_benchmark_value_finite
        check (benchmark_value > '-Infinity' and benchmark_value < 'Infinity'),
    constraint equity_curves_drawdown_range check (drawdown >= 0 and drawdown < 'Infinity')
) partition by range (run_id);
comment on table equity_curves is
    'Portfolio value over (market) time per run and model; partitioned by run_id month.';
comment on column equity_curves.ts is 'Market time of the point (timestamp in the spec).';
comment on column equity_curves.drawdown is 'Fraction below the running peak of portfolio_value, >= 0.';
comment on constraint equity_curves_key on equity_curves is
    'one point per (run_id, model_id, ts): a timestamp appears once in a series';
comment on constraint equity_curves_portfolio_value_finite on equity_curves is
    'must be a finite number (not NaN or infinite)';
comment on constraint equity_curves_benchmark_value_finite on equity_curves is
    'must be a finite number (not NaN or infinite)';
comment on constraint equity_curves_drawdown_range on equity_curves is
    'must be a finite number >= 0 (a fraction below the peak)';

create table trade_logs (
    run_id   uuid not null references runs (id) on delete cascade,
    model_id uuid references models (id) on delete cascade,
    seq      bigint not null,
    ts       timestamptz not null,
    asset    text not null,
    action   text not null,
    price    double precision not null,
    quantity double precision not null,
    pnl      double precision,
    metadata jsonb,
    fee      double precision,
    slippage double precision,
    constraint trade_logs_key unique nulls not distinct (run_id, model_id, seq),
    constraint trade_logs_seq_nonnegative check (seq >= 0),
    constraint trade_logs_asset_length check (length(asset) between 1 and 64),
    constraint trade_logs_action_valid check (action in ('buy', 'sell', 'short', 'cover')),
    constraint trade_logs_price_positive check (price > 0 and price < 'Infinity'),
    constraint trade_logs_quantity_positive check (quantity > 0 and quantity < 'Infinity'),
    constraint trade_logs_pnl_finite check (pnl > '-Infinity' and pnl < 'Infinity'),
    constraint trade_logs_metadata_object check (jsonb_typeof(metadata) = 'object'),
    constraint trade_logs_fee_range check (fee >= 0 and fee < 'Infinity'),
    constraint trade_logs_slippage_range check (slippage >= 0 and slippage < 'Infinity')
) partition by range (run_id);
comment on table trade_logs is
    'Trades per run and model in order (seq); partitioned by run_id month.';
comment on column trade_logs.seq is 'Position of the trade in its (run_id, model_id) log, from 0.';
comment on column trade_logs.ts is 'Market time of the trade (timestamp in the spec).';
comment on column trade_logs.fee is
    'Fees paid on the trade (commission, exchange fees), >= 0, in the log''s currency; null when not known.';
comment on column trade_logs.slippage is
    'Cost of the trade''s slippage (fill against expected price), >= 0, in the log''s currency; null when not known.';
comment on constraint trade_logs_key on trade_logs is 'one trade per (run_id, model_id, seq)';
comment on constraint trade_logs_seq_nonnegative on trade_logs is 'must be >= 0';
comment on constraint trade_logs_asset_length on trade_logs is 'must be 1 to 64 characters';
comment on constraint trade_logs_action_valid on trade_logs is 'must be one of buy, sell, short, cover';
comment on constraint trade_logs_price_positive on trade_logs is 'must be a finite number > 0';
comment on constraint trade_logs_quantity_positive on trade_logs is 'must be a finite number > 0';
comment on constraint trade_logs_pnl_finite on trade_logs is 'must be a finite number (not NaN or infinite)';
comment on constraint trade_logs_metadata_object on trade_logs is 'must be a JSON object';
comment on constraint trade_logs_fee_range on trade_logs is 'must be a finite number >= 0 (a cost)';
comment on constraint trade_logs_slippage_range on trade_logs is 'must be a finite number >= 0 (a cost)';

create index trade_logs_run_ts_idx on trade_logs (run_id, model_id, ts);

-- ON DELETE CASCADE from models finds a model's rows here, not by scanning every partition.
create index equity_curves_model_idx on equity_curves (model_id) where model_id is not null;
create index trade_logs_model_idx on trade_logs (model_id) where model_id is not null;

create table equity_curves_default partition of equity_curves default;
create table trade_logs_default partition of trade_logs default;

-- Create the partition holding runs created in the month of `month` (UTC), for
-- both series tables. Rows already in the DEFAULT partition for that range are
-- moved into the new partition in the same transaction. Returns the names created.
create function ensure_series_partition(month timestamptz) returns setof text
language plpgsql
as $$
declare
    parent text;
    lo_time timestamptz := date_trunc('month', month, 'UTC');
    lo uuid := uuid_v7_floor(lo_time);
    hi uuid := uuid_v7_floor(lo_time + interval '1 month');
    part text;
begin
    foreach parent in array array['equity_curves', 'trade_logs'] loop
        part := format('%s_p%s', parent, to_char(lo_time at time zone 'UTC', 'YYYYMM'));
        continue when to_regclass(quote_ident(part)) is not null;
        -- Serialise concurrent creators of the same partition.
        perform pg_advisory_xact_lock(hashtextextended(part, 0));
        continue when to_regclass(quote_ident(part)) is not null;
        execute format('create table %I (like %I including defaults including constraints)',
                       part, parent);
        execute format('with moved as (delete from %I where run_id >= %L and run_id < %L returning *) '
                       'insert into %I select * from moved',
                       parent || '_default', lo, hi, part);
        execute format('alter table %I attach partition %I for values from (%L) to (%L)',
                       parent, part, lo, hi);
        return next part;
    end loop;
end
$$;
comment on function ensure_series_partition(timestamptz) is
    'Create the equity_curves/trade_logs partitions for runs created in that UTC month (idempotent).';

create function ensure_series_partitions(months_ahead integer default 3, months_behind integer default 0)
returns setof text
language sql
as $$
    select p
      from generate_series(-months_behind, months_ahead) as m,
           ensure_series_partition(now() + make_interval(months => m)) as p
$$;
comment on function ensure_series_partitions(integer, integer) is
    'Create the series partitions from months_behind before to months_ahead after the current month.';

-- The current month and three ahead exist from the start.
do $$ begin perform ensure_series_partitions(); end $$;
