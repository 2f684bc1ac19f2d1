-- JSON numbers within double precision. jsonb_is_number_map (the CHECK on
-- summary_metrics, trial metrics and version metrics) also refuses a number double
-- precision cannot hold, and the views and queries that cast metrics read them through
-- jsonb_number_within, which gives null for such a number instead of failing for every
-- row. Rows stored before this step are not rewritten: the views read an out-of-range
-- number in them as null.
-- depends: 0010_indexes_and_maintenance_lock_timeout

-- True when every top-level value of a jsonb object is a JSON number that double
-- precision can hold. JSON has no NaN or Infinity, but it has 1e400 and 1e-400, which
-- jsonb keeps as numeric: a view or query that reads the value as double precision
-- would fail on it, for every row it scans. Strict mode: lax mode would unwrap an
-- array value and accept {"a": [1, 2]}.
create or replace function jsonb_is_number_map(doc jsonb) returns boolean
language sql immutable parallel safe
as $$
    select jsonb_typeof(doc) = 'object'
       and not jsonb_path_exists(doc, 'strict $.* ? (@.type() != "number"
                                                     || @.abs() > 1.7976931348623157e308
                                                     || (@ != 0 && @.abs() < 2.5e-324))')
$$;
comment on function jsonb_is_number_map(jsonb) is
    'True when doc is a JSON object whose values are all numbers within double precision''s range.';

-- A JSON number as numeric when it is within +-bound (default: double precision's
-- range), null for anything else. Views and queries read metrics through it before a
-- cast, so a value beyond the cast (stored before jsonb_is_number_map bounded numbers,
-- or with the check dropped) reads as null instead of failing the query for every row.
-- A number too close to zero for double precision reads as 0.
create function jsonb_number_within(value jsonb, bound numeric default 1.7976931348623157e308)
returns numeric
language sql immutable parallel safe
as $$
    select case when jsonb_typeof(value) <> 'number' then null
                when abs(value::numeric) > bound then null
                when abs(value::numeric) < 2.5e-324 then 0
                else value::numeric end
$$;
comment on function jsonb_number_within(jsonb, numeric) is
    'A JSON number as numeric when within +-bound (default: the range of double precision), else null: casts of metrics never fail.';

create or replace view run_summaries as
select r.id as run_id,
       r.experiment_id,
       e.name as experiment_name,
       r.parent_run_id,
       r.name as run_name,
       r.run_type,
       r.status,
       r.start_time,
       r.end_time,
       r.end_time - r.start_time as duration,
       extract(epoch from r.end_time - r.start_time)::double precision as duration_s,
       jsonb_number_within(r.summary_metrics -> 'sharpe')::double precision as sharpe,
       jsonb_number_within(r.summary_metrics -> 'total_return')::double precision as total_return,
       jsonb_number_within(r.summary_metrics -> 'max_drawdown')::double precision as max_drawdown,
       r.summary_metrics,
       r.tags,
       r.trial_count,
       r.error_type,
       r.created_at
  from runs r
  join experiments e on e.id = r.experiment_id;

create or replace view run_statistics as
select r.id as run_id,
       r.experiment_id,
       e.name as experiment_name,
       r.name as run_name,
       r.run_type,
       r.status,
       jsonb_number_within(s -> 'total_return')::double precision as total_return,
       jsonb_number_within(s -> 'cagr')::double precision as cagr,
       jsonb_number_within(s -> 'volatility')::double precision as volatility,
       jsonb_number_within(s -> 'sharpe')::double precision as sharpe,
       jsonb_number_within(s -> 'sortino')::double precision as sortino,
       jsonb_number_within(s -> 'max_drawdown')::double precision as max_drawdown,
       jsonb_number_within(s -> 'max_drawdown_days')::double precision as max_drawdown_days,
       jsonb_number_within(s -> 'longest_drawdown_days')::double precision as longest_drawdown_days,
       jsonb_number_within(s -> 'calmar')::double precision as calmar,
       jsonb_number_within(s -> 'exposure')::double precision as exposure,
       jsonb_number_within(s -> 'period_win_rate')::double precision as period_win_rate,
       jsonb_number_within(s -> 'trade_count', 9223372036854775807)::bigint as trade_count,
       jsonb_number_within(s -> 'win_rate')::double precision as win_rate,
       jsonb_number_within(s -> 'profit_factor')::double precision as profit_factor,
       jsonb_number_within(s -> 'avg_win')::double precision as avg_win,
       jsonb_number_within(s -> 'avg_loss')::double precision as avg_loss,
       jsonb_number_within(s -> 'stats_version', 2147483647)::integer as stats_version,
       jsonb_number_within(s -> 'stats_periods_per_year')::double precision as stats_periods_per_year,
       jsonb_number_within(s -> 'stats_risk_free')::double precision as stats_risk_free,
       s - array['total_return', 'cagr', 'volatility', 'sharpe', 'sortino', 'max_drawdown',
                 'max_drawdown_days', 'longest_drawdown_days', 'calmar', 'exposure',
                 'period_win_rate', 'trade_count', 'win_rate', 'profit_factor', 'avg_win',
                 'avg_loss', 'stats_version', 'stats_periods_per_year', 'stats_risk_free']
           as other_metrics
  from runs r
  join experiments e on e.id = r.experiment_id
  cross join lateral (select r.summary_metrics as s) m;
