-- The curve part of a tear sheet: benchmark-relative statistics, the distribution of
-- returns, calendar returns, drawdown episodes and rolling ratios of one series
-- (run_id, model_id; a null :model_id is the run's own series). docs/statistics.md
-- ("Tear sheet") defines every number and says where it follows quantstats and where not.
--
-- Shared by every query here, as in run_trading_stats:
-- * Returns are r_t = V_t / V_{t-1} - 1 between consecutive points; n points give n - 1.
-- * A curve has returns only when every value is > 0 and its values span at most 100
--   orders of magnitude (max ln V - min ln V <= 230). Otherwise every statistic of it is
--   null. The span rule keeps each ratio, product and square of a return inside double
--   precision: no stored row can make a query fail with an overflow or underflow.
-- * The benchmark follows the same rules on its own non-null values. A benchmark return
--   exists for a period when benchmark_value is non-null at both of its ends; a null
--   value is never filled or bridged.
-- * :periods_per_year (P) annualises; :risk_free is an annual rate, per period
--   rf_p = (1 + rf)^(1/P) - 1 (quantstats' to_excess_returns).
-- * Calendar buckets (day, month, year) are UTC; a return belongs to the bucket of the
--   timestamp it ends at; returns compound within a bucket: exp(sum ln(1 + r)) - 1.

-- name: tearsheet_benchmark
-- returns: one
-- record: TearSheetBenchmark
-- table: runs
-- One series' statistics against its benchmark_value column: the benchmark's total
-- return and Sharpe, excess return, CAPM alpha and beta (OLS of excess returns on the
-- periods where both returns exist; alpha per period times P, as quantstats' greeks),
-- R², correlation, tracking error, information ratio (annualised) and Morningstar's
-- geometric up and down capture. Null where undefined; NotFound for no such run.
with points as (
    select v, b, lv, lb,
           lag(v) over w as prev, lag(lv) over w as plv,
           lag(b) over w as bprev, lag(lb) over w as plb,
           lead(v) over w as next_v
      from (select ts, portfolio_value as v, benchmark_value as b,
                   case when portfolio_value > 0 then ln(portfolio_value) end as lv,
                   case when benchmark_value > 0 then ln(benchmark_value) end as lb
              from equity_curves
             where run_id = :run_id
               and model_id is not distinct from cast(:model_id as uuid)) as e
    window w as (order by ts)
),
periods as (
    -- The guards only keep a pathological row from raising an error; the flags in stats
    -- null the whole curve (or benchmark) when any of them bites.
    select v, b, prev, next_v, lv, lb,
           case when abs(lv - plv) <= 230 then v / prev - 1 end as r,
           case when abs(lb - plb) <= 230 then b / bprev - 1 end as rb,
           case when abs(lv - plv) <= 230 then lv - plv end as lg,
           case when abs(lb - plb) <= 230 then lb - plb end as lgb
      from points
),
stats as materialized (
    -- One pass. Strategy aggregates over all its returns; benchmark ones over the
    -- benchmark's; regr_*, corr and the active-return aggregates over the periods where
    -- both exist (regr_* and corr skip a pair with a null; r - rb is null there).
    select count(*) as points,
           count(*) = count(lv) and coalesce(max(lv) - min(lv) <= 230, false) as ok,
           count(lb) = count(b) and coalesce(max(lb) - min(lb) <= 230, true) as b_ok,
           max(v) filter (where prev is null) as first_v,
           max(v) filter (where next_v is null) as last_v,
           count(r) as periods,
           count(rb) as benchmark_periods,
           regr_count(r, rb) as paired_periods,
           avg(rb) as mean_b,
           stddev_samp(rb) as sd_b,
           sum(lgb) as log_growth_b,
           regr_slope(r, rb) as beta,
           regr_avgy(r, rb) as mean_r_paired,
           regr_avgx(r, rb) as mean_b_paired,
           corr(r, rb) as correlation,
           avg(r - rb) as mean_active,
           stddev_samp(r - rb) as sd_active,
           avg(lg) filter (where rb > 0) as up_lg,
           avg(lgb) filter (where rb > 0) as up_lgb,
           avg(lg) filter (where rb < 0) as down_lg,
           avg(lgb) filter (where rb < 0) as down_lgb
      from periods
),
params as materialized (
    select cast(:periods_per_year as double precision) as ppy,
           power(1 + cast(:risk_free as double precision),
                 1 / cast(:periods_per_year as double precision)) - 1 as rf_p
),
ok as (
    -- Joined on this, everything is null for a curve without returns; the benchmark's
    -- own numbers need b_ok too.
    select s.*, s.last_v / s.first_v - 1 as total_return,
           case when s.b_ok and abs(s.log_growth_b) <= 700 then exp(s.log_growth_b) - 1 end
               as benchmark_total_return
      from stats s
     where s.ok
)
select r.id as run_id,
       cast(:model_id as uuid) as model_id,
       p.ppy as periods_per_year,
       cast(:risk_free as double precision) as risk_free,
       s.points,
       coalesce(ok.periods, 0) as periods,
       case when ok.b_ok then ok.benchmark_periods else 0 end as benchmark_periods,
       case when ok.b_ok then ok.paired_periods else 0 end as paired_periods,
       ok.total_return,
       ok.benchmark_total_return,
       ok.total_return - ok.benchmark_total_return as excess_return,
       case when ok.b_ok then ok.sd_b * sqrt(p.ppy) end as benchmark_volatility,
       case when ok.b_ok then (ok.mean_b - p.rf_p) / nullif(ok.sd_b, 0) * sqrt(p.ppy) end
           as benchmark_sharpe,
       -- Jensen's alpha on excess returns: mean(r - rf_p) - beta mean(rb - rf_p), then
       -- times P (quantstats' greeks: arithmetic annualisation; equal to it when rf = 0).
       case when ok.b_ok
            then (ok.mean_r_paired - p.rf_p - ok.beta * (ok.mean_b_paired - p.rf_p)) * p.ppy
       end as alpha,
       case when ok.b_ok then ok.beta end as beta,
       case when ok.b_ok then ok.correlation * ok.correlation end as r_squared,
       case when ok.b_ok then ok.correlation end as correlation,
       case when ok.b_ok then ok.sd_active * sqrt(p.ppy) end as tracking_error,
       case when ok.b_ok then ok.mean_active / nullif(ok.sd_active, 0) * sqrt(p.ppy) end
           as information_ratio,
       -- Geometric mean return per period over the periods the benchmark rose (fell),
       -- the strategy's over the benchmark's. |mean ln| <= 230: exp cannot overflow.
       case when ok.b_ok then (exp(ok.up_lg) - 1) / nullif(exp(ok.up_lgb) - 1, 0) end
           as up_capture,
       case when ok.b_ok then (exp(ok.down_lg) - 1) / nullif(exp(ok.down_lgb) - 1, 0) end
           as down_capture
  from runs r
 cross join stats s
 cross join params p
  left join ok on true
 where r.id = :run_id;

-- name: tearsheet_distribution
-- returns: one
-- record: TearSheetDistribution
-- table: runs
-- One series' distribution of periodic returns: skew and excess kurtosis (pandas'
-- bias-corrected estimators, as quantstats), historical VaR and CVaR at 95% and 99%
-- (linear interpolation between order statistics, numpy's and pandas' default; CVaR the
-- mean of the returns at or below VaR), tail ratio, Omega above :omega_threshold (an
-- annual rate, converted to one period like the risk-free rate), the best and worst
-- period, and the best and worst UTC day, month and year (returns compounded in each).
with points as (
    select ts, v, lv, lag(v) over w as prev, lag(lv) over w as plv
      from (select ts, portfolio_value as v,
                   case when portfolio_value > 0 then ln(portfolio_value) end as lv
              from equity_curves
             where run_id = :run_id
               and model_id is not distinct from cast(:model_id as uuid)) as e
    window w as (order by ts)
),
periods as (
    select ts, lv,
           case when abs(lv - plv) <= 230 then v / prev - 1 end as r,
           case when abs(lv - plv) <= 230 then lv - plv end as lg
      from points
),
moments as materialized (
    -- First pass: counts, mean, sd, extremes, quantiles (one sort of the returns).
    select count(*) as points,
           count(*) = count(lv) and coalesce(max(lv) - min(lv) <= 230, false) as ok,
           count(r) as periods,
           avg(r) as mean_r,
           stddev_samp(r) as sd,
           max(r) as best_period,
           min(r) as worst_period,
           percentile_cont(array[0.01, 0.05, 0.95]) within group (order by r) as q
      from periods
),
threshold as materialized (
    select power(1 + cast(:omega_threshold as double precision),
                 1 / cast(:periods_per_year as double precision)) - 1 as tau
),
tails as (
    -- Second pass, on standardised returns z = (r - mean) / sd so that z^4 stays in
    -- range whatever the scale; a |z| below 1e-60 adds nothing to the sums (and its
    -- power would underflow).
    select sum(case when abs(z) >= 1e-60 then z ^ 3 else 0 end) as z3,
           sum(case when abs(z) >= 1e-60 then z ^ 4 else 0 end) as z4,
           avg(r) filter (where r <= q[2]) as cvar_95,
           avg(r) filter (where r <= q[1]) as cvar_99,
           coalesce(sum(r - tau) filter (where r > tau), 0) as gains,
           coalesce(sum(tau - r) filter (where r < tau), 0) as losses
      from (select r, (r - m.mean_r) / nullif(m.sd, 0) as z, m.q, t.tau
              from periods, moments m, threshold t
             where r is not null) as s
),
days as (
    -- UTC days by arithmetic on the epoch (no calendar conversion per point), then
    -- months and years from the days: sums of ln(1 + r) add up across levels.
    select floor(date_part('epoch', ts) / 86400) as day, sum(lg) as lg
      from periods
     where lg is not null
     group by 1
),
calendar as (
    select max(lg) filter (where unit = 'day') as best_day,
           min(lg) filter (where unit = 'day') as worst_day,
           max(lg) filter (where unit = 'month') as best_month,
           min(lg) filter (where unit = 'month') as worst_month,
           max(lg) filter (where unit = 'year') as best_year,
           min(lg) filter (where unit = 'year') as worst_year
      from (select 'day' as unit, lg from days
            union all
            select unit, sum(lg)
              from days
             cross join lateral (values
                 ('month', date_trunc('month', to_timestamp(day * 86400) at time zone 'UTC')),
                 ('year', date_trunc('year', to_timestamp(day * 86400) at time zone 'UTC')))
                 as b(unit, bucket)
             group by unit, bucket) as buckets
),
ok as (
    select m.*, t.*, c.* from moments m, tails t, calendar c where m.ok
)
select r.id as run_id,
       cast(:model_id as uuid) as model_id,
       cast(:periods_per_year as double precision) as periods_per_year,
       cast(:omega_threshold as double precision) as omega_threshold,
       m.points,
       coalesce(ok.periods, 0) as periods,
       -- pandas' skew: n / ((n-1)(n-2)) sum z^3, z with the ddof=1 sd; n >= 3.
       case when ok.periods >= 3 and ok.sd > 0
            then cast(ok.periods as double precision) / ((ok.periods - 1) * (ok.periods - 2)) * ok.z3
       end as skew,
       -- pandas' kurtosis (excess): n(n+1) / ((n-1)(n-2)(n-3)) sum z^4
       --                            - 3 (n-1)^2 / ((n-2)(n-3)); n >= 4.
       case when ok.periods >= 4 and ok.sd > 0
            then cast(ok.periods as double precision) * (ok.periods + 1)
                     / ((ok.periods - 1) * (ok.periods - 2) * cast(ok.periods - 3 as double precision))
                     * ok.z4
                 - 3 * cast(ok.periods - 1 as double precision) ^ 2
                     / ((ok.periods - 2) * cast(ok.periods - 3 as double precision))
       end as kurtosis,
       ok.q[2] as var_95,
       ok.cvar_95,
       ok.q[1] as var_99,
       ok.cvar_99,
       -- quantstats' tail_ratio: |q95 / q05|.
       abs(ok.q[3] / nullif(ok.q[2], 0)) as tail_ratio,
       ok.gains / nullif(ok.losses, 0) as omega,
       ok.best_period,
       ok.worst_period,
       -- A bucket's sum of ln(1 + r) lies within +-230 (the span rule): exp is safe.
       exp(ok.best_day) - 1 as best_day,
       exp(ok.worst_day) - 1 as worst_day,
       exp(ok.best_month) - 1 as best_month,
       exp(ok.worst_month) - 1 as worst_month,
       exp(ok.best_year) - 1 as best_year,
       exp(ok.worst_year) - 1 as worst_year
  from runs r
 cross join moments m
  left join ok on true
 where r.id = :run_id;

-- name: tearsheet_monthly_returns
-- returns: many
-- record: PeriodReturn
-- Calendar-month returns of one series, oldest first: the strategy's and the
-- benchmark's returns compounded within each UTC month. A month is listed when a return
-- ends in it; its benchmark_return is null when no benchmark return does. No rows for a
-- curve without returns.
with points as (
    select ts, v, b, lv, lb,
           lag(v) over w as prev, lag(lv) over w as plv,
           lag(b) over w as bprev, lag(lb) over w as plb
      from (select ts, portfolio_value as v, benchmark_value as b,
                   case when portfolio_value > 0 then ln(portfolio_value) end as lv,
                   case when benchmark_value > 0 then ln(benchmark_value) end as lb
              from equity_curves
             where run_id = :run_id
               and model_id is not distinct from cast(:model_id as uuid)) as e
    window w as (order by ts)
),
days as (
    -- UTC days by arithmetic on the epoch (no calendar conversion per point), with the
    -- counts and extremes that decide whether the curve and benchmark have returns.
    select floor(date_part('epoch', ts) / 86400) as day,
           sum(case when abs(lv - plv) <= 230 then lv - plv end) as lg,
           sum(case when abs(lb - plb) <= 230 then lb - plb end) as lgb,
           count(prev) as periods,
           count(*) as n, count(lv) as n_lv, min(lv) as min_lv, max(lv) as max_lv,
           count(b) as n_b, count(lb) as n_lb, min(lb) as min_lb, max(lb) as max_lb
      from points
     group by 1
),
shape as materialized (
    select sum(n) = sum(n_lv) and coalesce(max(max_lv) - min(min_lv) <= 230, false) as ok,
           sum(n_b) = sum(n_lb) and coalesce(max(max_lb) - min(min_lb) <= 230, true) as b_ok
      from days
),
months as (
    select date_trunc('month', to_timestamp(day * 86400) at time zone 'UTC') as month,
           sum(lg) as lg, sum(lgb) as lgb
      from days
     where periods > 0
     group by 1
)
select cast(extract(year from m.month) as integer) as year,
       cast(extract(month from m.month) as integer) as month,
       exp(m.lg) - 1 as strategy_return,
       case when s.b_ok and abs(m.lgb) <= 700 then exp(m.lgb) - 1 end as benchmark_return
  from months m, shape s
 where s.ok
 order by m.month;

-- name: tearsheet_annual_returns
-- returns: many
-- record: PeriodReturn
-- Calendar-year returns of one series, oldest first, as tearsheet_monthly_returns but
-- compounded within each UTC year; month is null.
with points as (
    select ts, v, b, lv, lb,
           lag(v) over w as prev, lag(lv) over w as plv,
           lag(b) over w as bprev, lag(lb) over w as plb
      from (select ts, portfolio_value as v, benchmark_value as b,
                   case when portfolio_value > 0 then ln(portfolio_value) end as lv,
                   case when benchmark_value > 0 then ln(benchmark_value) end as lb
              from equity_curves
             where run_id = :run_id
               and model_id is not distinct from cast(:model_id as uuid)) as e
    window w as (order by ts)
),
days as (
    -- UTC days by arithmetic on the epoch (no calendar conversion per point), with the
    -- counts and extremes that decide whether the curve and benchmark have returns.
    select floor(date_part('epoch', ts) / 86400) as day,
           sum(case when abs(lv - plv) <= 230 then lv - plv end) as lg,
           sum(case when abs(lb - plb) <= 230 then lb - plb end) as lgb,
           count(prev) as periods,
           count(*) as n, count(lv) as n_lv, min(lv) as min_lv, max(lv) as max_lv,
           count(b) as n_b, count(lb) as n_lb, min(lb) as min_lb, max(lb) as max_lb
      from points
     group by 1
),
shape as materialized (
    select sum(n) = sum(n_lv) and coalesce(max(max_lv) - min(min_lv) <= 230, false) as ok,
           sum(n_b) = sum(n_lb) and coalesce(max(max_lb) - min(min_lb) <= 230, true) as b_ok
      from days
),
years as (
    select date_trunc('year', to_timestamp(day * 86400) at time zone 'UTC') as year,
           sum(lg) as lg, sum(lgb) as lgb
      from days
     where periods > 0
     group by 1
)
select cast(extract(year from y.year) as integer) as year,
       cast(null as integer) as month,
       exp(y.lg) - 1 as strategy_return,
       case when s.b_ok and abs(y.lgb) <= 700 then exp(y.lgb) - 1 end as benchmark_return
  from years y, shape s
 where s.ok
 order by y.year;

-- name: tearsheet_drawdowns
-- returns: many
-- record: DrawdownEpisode
-- literal: top
-- The {top} deepest drawdown episodes of one series, deepest first (ties: earliest
-- peak first), as run_trading_stats defines them: a point at its running peak opens an
-- episode, the next point at or above the peak recovers it. Each with its peak, valley
-- (the deepest point, the earliest on a tie) and recovery time (null when never
-- recovered), depth (1 - valley / peak) and days from the peak to the valley and to the
-- recovery (or to the last point). No rows for a curve without returns.
with curve as (
    select ts, v, lv, peak, lpeak, next_ts,
           max(ts) filter (where v >= peak)
               over (order by ts rows between unbounded preceding and current row) as peak_ts
      from (select ts, portfolio_value as v, lv,
                   max(portfolio_value) over w as peak,
                   max(lv) over w as lpeak,
                   lead(ts) over w as next_ts
              from (select ts, portfolio_value,
                           case when portfolio_value > 0 then ln(portfolio_value) end as lv
                      from equity_curves
                     where run_id = :run_id
                       and model_id is not distinct from cast(:model_id as uuid)) as e
            window w as (order by ts rows between unbounded preceding and current row)) as points
),
shape as materialized (
    select count(*) = count(lv) and coalesce(max(lv) - min(lv) <= 230, false) as ok,
           max(ts) as last_ts
      from curve
),
underwater as (
    -- lpeak - lv <= 230 keeps v / peak from underflowing on a curve the span rule drops.
    select peak_ts, ts, next_ts, 1 - v / peak as depth
      from curve
     where v < peak and lpeak - lv <= 230
),
episodes as (
    select peak_ts,
           max(depth) as depth,
           -- The point after the episode's last point under water regains the peak; the
           -- curve's last point has no next, so an episode holding it never recovered.
           case when count(*) = count(next_ts) then max(next_ts) end as recovery_ts
      from underwater
     group by peak_ts
     order by depth desc, peak_ts
     limit {top}
),
valleys as (
    select u.peak_ts, min(u.ts) as valley_ts
      from underwater u
      join episodes e on e.peak_ts = u.peak_ts and e.depth = u.depth
     group by u.peak_ts
)
select cast(row_number() over (order by e.depth desc, e.peak_ts) as integer) as rank,
       e.peak_ts,
       v.valley_ts,
       e.recovery_ts,
       e.depth,
       cast(extract(epoch from v.valley_ts - e.peak_ts) as double precision) / 86400
           as days_to_valley,
       cast(extract(epoch from coalesce(e.recovery_ts, s.last_ts) - e.peak_ts)
            as double precision) / 86400 as days
  from episodes e
  join valleys v on v.peak_ts = e.peak_ts
 cross join shape s
 where s.ok
 order by rank;

-- name: tearsheet_rolling_rows
-- returns: many
-- record: RollingPoint
-- Rolling Sharpe, volatility and beta of one series over windows of the last :window
-- returns (quantstats' rolling_sharpe, rolling_volatility and rolling_greeks' beta:
-- pandas rolling with min_periods = window), for plotting: at most :points rows, oldest
-- first. Of the returns with a full window, every k-th is kept counting back from the
-- last (so the last is always kept), k = ceil(full windows / :points). Only the kept
-- windows are aggregated: each return is sent to the kept windows that hold it, by
-- arithmetic on its index, so the cost is the curve plus the kept windows' sizes. Beta
-- uses the periods of a window where the benchmark has a return. No rows for a curve
-- without returns.
with points as (
    select ts, v, b, lv, lb,
           lag(v) over w as prev, lag(lv) over w as plv,
           lag(b) over w as bprev, lag(lb) over w as plb,
           row_number() over w - 1 as i
      from (select ts, portfolio_value as v, benchmark_value as b,
                   case when portfolio_value > 0 then ln(portfolio_value) end as lv,
                   case when benchmark_value > 0 then ln(benchmark_value) end as lb
              from equity_curves
             where run_id = :run_id
               and model_id is not distinct from cast(:model_id as uuid)) as e
    window w as (order by ts)
),
shape as materialized (
    -- Returns are numbered 1 .. m; return j has a full window when j >= w (j_min).
    select count(*) = count(lv) and coalesce(max(lv) - min(lv) <= 230, false) as ok,
           count(lb) = count(b) and coalesce(max(lb) - min(lb) <= 230, true) as b_ok,
           count(*) - 1 as m,
           cast(:window as bigint) as j_min,
           greatest(ceil((count(*) - cast(:window as bigint)) / cast(:points as double precision)),
                    1)::bigint as k
      from points
),
placed as (
    -- Return i lies in the windows of returns i .. i + w - 1; j0 is the first kept one.
    select p.*, s.m, s.k, least(p.i + s.j_min - 1, s.m) as hi,
           s.m - s.k * ((s.m - greatest(p.i, s.j_min)) / s.k) as j0
      from points p, shape s
     where s.ok and p.i > 0 and greatest(p.i, s.j_min) <= s.m
),
windows as (
    -- The curve is positive and spans <= 1e100 here (s.ok): each ratio is in range.
    select j,
           max(ts) as ts,
           count(*) as periods,
           avg(v / prev - 1) as mean_r,
           stddev_samp(v / prev - 1) as sd,
           regr_slope(v / prev - 1, case when abs(lb - plb) <= 230 then b / bprev - 1 end) as beta
      from placed
     cross join lateral generate_series(j0, hi, k) as j
     where j0 <= hi
     group by j
)
select w.ts,
       w.periods,
       (w.mean_r - (power(1 + cast(:risk_free as double precision),
                          1 / cast(:periods_per_year as double precision)) - 1))
           / nullif(w.sd, 0) * sqrt(cast(:periods_per_year as double precision)) as sharpe,
       w.sd * sqrt(cast(:periods_per_year as double precision)) as volatility,
       case when s.b_ok then w.beta end as beta
  from windows w, shape s
 order by w.ts;

-- name: tearsheet_rolling_interval
-- returns: many
-- record: RollingPoint
-- As tearsheet_rolling_rows, over a time window instead: the returns ending in
-- (t - :window, t], pandas' rolling(offset) default closed='right'. A return has a full
-- window once t - :window reaches the curve's first point. A forward frame over
-- [t_i, t_i + :window - 1 microsecond] (timestamps are whole microseconds) counts the
-- points whose windows hold return i; count has an inverse transition, so it is one
-- pass, and the rest is the arithmetic of tearsheet_rolling_rows.
with points as (
    select ts, v, b, lv, lb,
           lag(v) over w as prev, lag(lv) over w as plv,
           lag(b) over w as bprev, lag(lb) over w as plb,
           row_number() over w - 1 as i,
           count(*) over (order by ts range between current row
                                          and cast(:window as interval)
                                              - interval '1 microsecond' following) as ahead
      from (select ts, portfolio_value as v, benchmark_value as b,
                   case when portfolio_value > 0 then ln(portfolio_value) end as lv,
                   case when benchmark_value > 0 then ln(benchmark_value) end as lb
              from equity_curves
             where run_id = :run_id
               and model_id is not distinct from cast(:model_id as uuid)) as e
    window w as (order by ts)
),
shape as materialized (
    -- j_min: the first point at or after first ts + window, the first full window.
    select count(*) = count(lv) and coalesce(max(lv) - min(lv) <= 230, false) as ok,
           count(lb) = count(b) and coalesce(max(lb) - min(lb) <= 230, true) as b_ok,
           count(*) - 1 as m,
           max(ahead) filter (where i = 0) as j_min,
           greatest(ceil((count(*) - max(ahead) filter (where i = 0))
                         / cast(:points as double precision)), 1)::bigint as k
      from points
),
placed as (
    -- Return i lies in the windows of returns i .. i + ahead - 1.
    select p.*, s.m, s.k, least(p.i + p.ahead - 1, s.m) as hi,
           s.m - s.k * ((s.m - greatest(p.i, s.j_min)) / s.k) as j0
      from points p, shape s
     where s.ok and p.i > 0 and greatest(p.i, s.j_min) <= s.m
),
windows as (
    select j,
           max(ts) as ts,
           count(*) as periods,
           avg(v / prev - 1) as mean_r,
           stddev_samp(v / prev - 1) as sd,
           regr_slope(v / prev - 1, case when abs(lb - plb) <= 230 then b / bprev - 1 end) as beta
      from placed
     cross join lateral generate_series(j0, hi, k) as j
     where j0 <= hi
     group by j
)
select w.ts,
       w.periods,
       (w.mean_r - (power(1 + cast(:risk_free as double precision),
                          1 / cast(:periods_per_year as double precision)) - 1))
           / nullif(w.sd, 0) * sqrt(cast(:periods_per_year as double precision)) as sharpe,
       w.sd * sqrt(cast(:periods_per_year as double precision)) as volatility,
       case when s.b_ok then w.beta end as beta
  from windows w, shape s
 order by w.ts;
