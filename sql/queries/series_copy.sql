-- COPY statements of the bulk series paths (resultsdb.series): binary in, binary out.
-- Columns are listed so the encoders and decoders in resultsdb/series/copybin.py and the
-- statements agree by construction. COPY takes no bind parameters: psycopg merges the
-- :params of the reads into the text as literals, so each read is planned for its run.
-- The model test is spelled (model_id = m or (m is null and model_id is null)): with m a
-- literal the planner folds it to "model_id = m" or "model_id is null", both index
-- conditions. "model_id is not distinct from cast(m as uuid)" folds to neither, and the
-- planner then misjudges it as matching one row and scans the whole partition.

-- name: copy_equity_in
-- returns: copy
-- Rows of equity_curves, in the order resultsdb.series.ingest encodes them.
copy equity_curves (run_id, model_id, ts, portfolio_value, benchmark_value, drawdown)
    from stdin (format binary);

-- name: copy_trades_in
-- returns: copy
-- Rows of trade_logs, in the order resultsdb.series.ingest encodes them.
copy trade_logs (run_id, model_id, seq, ts, asset, action, price, quantity, pnl, fee, slippage,
                 metadata)
    from stdin (format binary);

-- name: copy_equity_out
-- returns: copy
-- One curve in time order, optionally within [:start, :end). NULL comes out as NaN, which
-- no stored value can be (a check refuses it), so every row has the same width.
copy (
    select ts, portfolio_value,
           coalesce(benchmark_value, 'NaN') as benchmark_value,
           coalesce(drawdown, 'NaN') as drawdown
      from equity_curves
     where run_id = :run_id
       and (model_id = cast(:model_id as uuid) or (cast(:model_id as uuid) is null and model_id is null))
       and (cast(:start as timestamptz) is null or ts >= :start)
       and (cast(:end as timestamptz) is null or ts < :end)
     order by model_id, ts
) to stdout (format binary);

-- name: copy_equity_out_downsampled
-- returns: copy
-- One curve for plotting: per :every bucket (date_bin from :origin) the first, last,
-- lowest and highest point, each a real point of the curve (M4 downsampling), in time
-- order. At most four rows per bucket, so a line plot keeps every extreme.
copy (
    select ts, portfolio_value,
           coalesce(benchmark_value, 'NaN') as benchmark_value,
           coalesce(drawdown, 'NaN') as drawdown
      from (select p.*,
                   row_number() over (partition by bucket order by ts) as by_time,
                   row_number() over (partition by bucket order by portfolio_value, ts) as by_value,
                   count(*) over (partition by bucket) as points
              from (select e.*, date_bin(cast(:every as interval), e.ts, cast(:origin as timestamptz)) as bucket
                      from equity_curves e
                     where run_id = :run_id
                       and (model_id = cast(:model_id as uuid) or (cast(:model_id as uuid) is null and model_id is null))
                       and (cast(:start as timestamptz) is null or ts >= :start)
                       and (cast(:end as timestamptz) is null or ts < :end)) as p) as ranked
     where by_time in (1, points) or by_value in (1, points)
     order by ts
) to stdout (format binary);

-- name: copy_trades_out
-- returns: copy
-- One trade log in seq order, optionally trades with ts within [:start, :end). Fixed-width
-- columns first; a NULL pnl, fee or slippage comes out as NaN (no stored one can be NaN).
copy (
    select seq, ts, price, quantity, coalesce(pnl, 'NaN') as pnl, coalesce(fee, 'NaN') as fee,
           coalesce(slippage, 'NaN') as slippage, asset, action, metadata
      from trade_logs
     where run_id = :run_id
       and (model_id = cast(:model_id as uuid) or (cast(:model_id as uuid) is null and model_id is null))
       and (cast(:start as timestamptz) is null or ts >= :start)
       and (cast(:end as timestamptz) is null or ts < :end)
     order by model_id, seq
) to stdout (format binary);

-- name: copy_equity_partition_out
-- returns: copy
-- identifier: partition
-- Every row of one equity_curves partition, as stored (archive).
copy {partition} (run_id, model_id, ts, portfolio_value, benchmark_value, drawdown)
    to stdout (format binary);

-- name: copy_equity_partition_in
-- returns: copy
-- identifier: partition
-- Rows into one equity_curves partition (restore).
copy {partition} (run_id, model_id, ts, portfolio_value, benchmark_value, drawdown)
    from stdin (format binary);

-- name: copy_trades_partition_out
-- returns: copy
-- identifier: partition
-- Every row of one trade_logs partition, as stored (archive).
copy {partition} (run_id, model_id, seq, ts, asset, action, price, quantity, pnl, metadata,
                  fee, slippage)
    to stdout (format binary);

-- name: copy_trades_partition_in
-- returns: copy
-- identifier: partition
-- Rows into one trade_logs partition (restore).
copy {partition} (run_id, model_id, seq, ts, asset, action, price, quantity, pnl, metadata,
                  fee, slippage)
    from stdin (format binary);
