-- A trade log's round trips and the statistics of them. The pairing is the schema's
-- trade_round_trips() (sql/schema/72_trade_round_trips.sql), so psql users get the same
-- rows; docs/statistics.md ("Round trips") defines the pairing and every statistic. A
-- series is (run_id, model_id); a null :model_id means the run's own series.

-- name: run_round_trips
-- returns: many
-- record: RoundTrip
-- A run's trade log paired FIFO into round trips per asset and side: the closed ones in
-- exit order (exit ts, exit seq, then entry seq), then the quantity still open at the end
-- ('open', in entry order) and closes that found nothing open ('unmatched', a data error,
-- in log order among the closed ones). Empty for a log without trades.
select asset, side, status, entry_seq, exit_seq, entry_ts, exit_ts, duration_s, quantity,
       entry_price, exit_price, gross_pnl, fee, slippage, net_pnl, net_return
  from trade_round_trips(:run_id, :model_id)
 order by status = 'open', exit_ts, exit_seq, entry_ts, entry_seq, asset, side;

-- name: run_trade_stats
-- returns: one
-- record: TradeStats
-- table: runs
-- Statistics of a run's round trips (closed ones only); turnover from every leg of the
-- log over the mean of the series' equity curve. Undefined statistics are null; NotFound
-- when the run does not exist. Sums are numeric (no overflow error) and read back
-- through numeric_as_double (null beyond double precision's range).
with trips as (
    select * from trade_round_trips(:run_id, :model_id)
),
closed as (
    -- Outcome: 1 a win (net_pnl > 0), -1 a loss (< 0), 0 a scratch (= 0, or null when
    -- beyond double precision), which ends both streaks. i: the exit order.
    select t.*,
           sign(coalesce(t.net_pnl, 0)) as outcome,
           row_number() over (order by t.exit_ts, t.exit_seq, t.entry_ts, t.entry_seq) as i
      from trips t
     where t.status = 'closed'
),
streaks as (
    -- Runs of equal outcomes in exit order (gaps and islands): i minus the rank within
    -- the outcome is constant along a run.
    select coalesce(max(n) filter (where outcome > 0), 0) as win_streak,
           coalesce(max(n) filter (where outcome < 0), 0) as loss_streak
      from (select outcome, count(*) as n
              from (select c.outcome, c.i - row_number() over (partition by c.outcome order by c.i) as island
                      from closed c) as runs
             group by outcome, island) as islands
),
summary as (
    -- A round trip whose pnl or cost is beyond double precision has it null: then what
    -- sums or ranks that column is null too (unknown), not the rest's total.
    select count(*) as round_trips,
           count(*) filter (where outcome > 0) as winning,
           count(*) filter (where outcome < 0) as losing,
           count(*) = count(net_pnl) as nets_known,
           avg(cast(net_pnl as numeric)) as expectancy,
           avg(duration_s) as avg_holding_s,
           percentile_cont(0.5) within group (order by duration_s) as median_holding_s,
           max(net_pnl) as best_trade,
           min(net_pnl) as worst_trade,
           case when count(*) = count(gross_pnl) then coalesce(sum(cast(gross_pnl as numeric)), 0) end
               as gross_pnl,
           coalesce(sum(cast(net_pnl as numeric)), 0) as net_pnl,
           case when count(*) = count(fee) then coalesce(sum(cast(fee as numeric)), 0) end as fees,
           case when count(*) = count(slippage) then coalesce(sum(cast(slippage as numeric)), 0) end
               as slippage
      from closed
),
leftover as (
    select count(*) filter (where status = 'open') as open_lots,
           count(*) filter (where status = 'unmatched') as unmatched_closes
      from trips
),
legs as (
    -- Every leg traded, opening or closing, matched or not.
    select sum(abs(cast(price as numeric) * cast(quantity as numeric))) as notional
      from trade_logs
     where run_id = :run_id
       and (model_id = cast(:model_id as uuid) or (cast(:model_id as uuid) is null and model_id is null))
),
curve as (
    select avg(cast(portfolio_value as numeric)) as mean_value
      from equity_curves
     where run_id = :run_id
       and (model_id = cast(:model_id as uuid) or (cast(:model_id as uuid) is null and model_id is null))
)
select r.id as run_id,
       cast(:model_id as uuid) as model_id,
       s.round_trips,
       s.winning,
       s.losing,
       o.open_lots,
       o.unmatched_closes,
       cast(s.winning as double precision) / nullif(s.winning + s.losing, 0) as win_rate,
       case when s.nets_known then numeric_as_double(s.expectancy) end as expectancy,
       s.avg_holding_s,
       s.median_holding_s,
       k.win_streak as longest_win_streak,
       k.loss_streak as longest_loss_streak,
       case when s.nets_known then s.best_trade end as best_trade,
       case when s.nets_known then s.worst_trade end as worst_trade,
       numeric_as_double(s.gross_pnl) as gross_pnl,
       case when s.nets_known then numeric_as_double(s.net_pnl) end as net_pnl,
       numeric_as_double(s.fees) as fees,
       numeric_as_double(s.slippage) as slippage,
       numeric_as_double(coalesce(l.notional, 0)) as traded_notional,
       numeric_as_double(c.mean_value) as mean_portfolio_value,
       -- Turnover needs a curve with a positive mean: null without one.
       numeric_as_double(coalesce(l.notional, 0) / nullif(greatest(c.mean_value, 0), 0)) as turnover
  from runs r
 cross join summary s
 cross join streaks k
 cross join leftover o
 cross join legs l
 cross join curve c
 where r.id = :run_id;
