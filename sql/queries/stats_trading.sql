-- Trading statistics of a run's series, and the trials of a search for overfitting
-- tests. docs/statistics.md defines every number here and says where it follows
-- quantstats and where not. A series is (run_id, model_id); a null :model_id means
-- the run's own series, not tied to a model. Change a definition => bump stats_version.

-- name: run_trading_stats
-- returns: one
-- record: RunStats
-- table: runs
-- One run's statistics from its equity curve and trade log for one model (or none).
-- Undefined statistics are null; NotFound when the run does not exist.
with curve as (
    -- Each point with its neighbours, return, running peak and drawdown, then the time
    -- of the peak its drawdown is measured from. Both windows order by ts, so one sort
    -- serves them; the run_id predicate sits on the scan so it prunes to one partition.
    select ts, v, prev, next_ts,
           v / nullif(prev, 0) - 1 as r,
           1 - v / nullif(peak, 0) as depth,
           -- A point at its running peak opens a drawdown episode; the points under
           -- water after it belong to that episode, named by the peak's time.
           max(ts) filter (where v >= peak)
               over (order by ts rows between unbounded preceding and current row) as peak_ts
      from (select ts,
                   portfolio_value as v,
                   lag(portfolio_value) over w as prev,
                   lead(ts) over w as next_ts,
                   max(portfolio_value) over w as peak
              from equity_curves
             where run_id = :run_id
               and model_id is not distinct from cast(:model_id as uuid)
            window w as (order by ts rows between unbounded preceding and current row)) as points
),
shape as (
    -- One pass over the curve for everything but the drawdown episodes.
    select count(*) as points,
           -- Returns and drawdowns are ratios of values: only a curve above zero has
           -- them (see ok below).
           coalesce(bool_and(v > 0), false) as positive,
           min(ts) as first_ts,
           max(ts) as last_ts,
           max(v) filter (where prev is null) as first_v,
           max(v) filter (where next_ts is null) as last_v,
           cast(extract(epoch from max(ts) - min(ts)) as double precision) / (365 * 86400) as years,
           max(depth) as max_drawdown,
           count(r) as periods,
           avg(r) as mean_r,
           stddev_samp(r) as sd,
           -- Downside deviation as quantstats: squares of excess returns below zero,
           -- averaged over all periods (not only the losing ones). The per-period
           -- risk-free rate is quantstats' to_excess_returns: (1 + rf)^(1/ppy) - 1.
           sqrt(sum(least(r - (power(1 + cast(:risk_free as double precision),
                                     1 / cast(:periods_per_year as double precision)) - 1), 0) ^ 2)
                / nullif(count(r), 0)) as downside,
           count(*) filter (where r > 0) as up,
           count(*) filter (where r <> 0) as moved
      from curve
),
ok as (
    -- The curve statistics exist only for a positive curve: joined on this, they are
    -- all null otherwise.
    select *,
           power(1 + cast(:risk_free as double precision),
                 1 / cast(:periods_per_year as double precision)) - 1 as rf_p,
           last_v / first_v - 1 as total_return,
           case when years > 0 then ln(last_v / first_v) / years end as rate
      from shape
     where positive
),
episodes as (
    -- Time under water: from the peak to the point after the episode's last point under
    -- water (the one that regains the peak), or to the last point when it never does.
    -- max(next_ts) skips the null next_ts of the curve's last point, which is then
    -- itself the previous point's next_ts, or (alone under water) last_ts.
    -- (Computed for any curve, read only for a positive one.)
    select peak_ts,
           max(depth) as depth,
           cast(extract(epoch from coalesce(max(next_ts), (select last_ts from shape)) - peak_ts)
                as double precision) / 86400 as days
      from curve
     where depth > 0
     group by peak_ts
),
drawdowns as (
    select -- The deepest episode's duration; the earliest one when depths tie.
           (array_agg(days order by depth desc, peak_ts))[1] as max_days,
           max(days) as longest_days
      from episodes
),
trades as (
    -- Per-trade statistics count closed results: pnl > 0 wins, pnl < 0 loses; a null
    -- or zero pnl (an opening leg, a scratch) is neither.
    select count(*) as trade_count,
           count(*) filter (where pnl > 0) as winning_trades,
           count(*) filter (where pnl < 0) as losing_trades,
           sum(pnl) filter (where pnl > 0) as gross_profit,
           sum(pnl) filter (where pnl < 0) as gross_loss,
           avg(pnl) filter (where pnl > 0) as avg_win,
           avg(pnl) filter (where pnl < 0) as avg_loss
      from trade_logs
     where run_id = :run_id
       and model_id is not distinct from cast(:model_id as uuid)
)
select r.id as run_id,
       cast(:model_id as uuid) as model_id,
       1 as stats_version,
       cast(:periods_per_year as double precision) as periods_per_year,
       cast(:risk_free as double precision) as risk_free,
       s.points,
       coalesce(ok.periods, 0) as periods,
       s.first_ts as start_ts,
       s.last_ts as end_ts,
       ok.total_return,
       -- exp(ln(growth)/years): a span of minutes can annualize past float range, so a
       -- rate beyond e^700 is left undefined rather than raising an overflow error.
       case when abs(ok.rate) <= 700 then exp(ok.rate) - 1 end as cagr,
       ok.sd * sqrt(cast(:periods_per_year as double precision)) as volatility,
       (ok.mean_r - ok.rf_p) / nullif(ok.sd, 0)
           * sqrt(cast(:periods_per_year as double precision)) as sharpe,
       (ok.mean_r - ok.rf_p) / nullif(ok.downside, 0)
           * sqrt(cast(:periods_per_year as double precision)) as sortino,
       ok.max_drawdown,
       -- No episode under water: no time under water.
       case when ok.positive then coalesce(d.max_days, 0) end as max_drawdown_days,
       case when ok.positive then coalesce(d.longest_days, 0) end as longest_drawdown_days,
       case when abs(ok.rate) <= 700 then (exp(ok.rate) - 1) / nullif(ok.max_drawdown, 0) end
           as calmar,
       cast(ok.moved as double precision) / nullif(ok.periods, 0) as exposure,
       cast(ok.up as double precision) / nullif(ok.moved, 0) as period_win_rate,
       t.trade_count,
       t.winning_trades,
       t.losing_trades,
       cast(t.winning_trades as double precision)
           / nullif(t.winning_trades + t.losing_trades, 0) as win_rate,
       coalesce(t.gross_profit, 0) / nullif(-t.gross_loss, 0) as profit_factor,
       t.avg_win,
       t.avg_loss
  from runs r
 cross join shape s
 cross join drawdowns d
 cross join trades t
  left join ok on true
 where r.id = :run_id;

-- name: store_run_trading_stats
-- returns: one
-- record: Run
-- table: runs
-- The run after storing statistics into summary_metrics in one statement: the keys
-- in :drop (statistics now undefined) go, :patch is merged over the rest, and every
-- other key stays. Concurrent merges serialise on the row lock, so none is lost.
update runs
   set summary_metrics = (summary_metrics - cast(:drop as text[])) || cast(:patch as jsonb)
 where id = :run_id
returning *;

-- name: search_trial_returns
-- returns: many
-- record: TrialReturn
-- Per-period returns of every trial of a search, aligned in time. A trial is one
-- equity curve (run_id, model_id) of a completed child run of :search_run_id (by
-- runs.parent_run_id or hyperparameter_results.trial_run_id). Only timestamps present
-- in every trial's curve are kept, and each return spans consecutive kept timestamps,
-- so every trial has the same number of rows. ret is null after a value <= 0.
with trial_runs as (
    select id from runs where parent_run_id = :search_run_id and status = 'completed'
    union
    select h.trial_run_id
      from hyperparameter_results h
      join runs t on t.id = h.trial_run_id
     where h.run_id = :search_run_id and t.status = 'completed'
),
points as (
    select e.run_id, e.model_id, e.ts, e.portfolio_value
      from equity_curves e
     where e.run_id in (select id from trial_runs)
),
curves as (
    select count(*) as n from (select distinct run_id, model_id from points) as c
),
common as (
    -- A curve holds a timestamp at most once, so a count equal to the number of
    -- curves means every curve has it.
    select ts from points group by ts having count(*) = (select n from curves)
),
aligned as (
    select p.run_id, p.model_id, p.ts,
           p.portfolio_value / nullif(lag(p.portfolio_value) over w, 0) - 1 as ret,
           lag(p.portfolio_value) over w as prev,
           row_number() over w as i
      from points p
      join common c on c.ts = p.ts
    window w as (partition by p.run_id, p.model_id order by p.ts)
)
select run_id, model_id, ts, case when prev > 0 then ret end as ret
  from aligned
 where i > 1
 order by run_id, model_id nulls first, ts;
