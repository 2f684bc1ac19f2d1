-- Undo 0011_json_numbers_within_double: the views cast metrics directly again, and
-- jsonb_is_number_map accepts any JSON number, as 0001 and 0005 made them.

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
       (r.summary_metrics ->> 'sharpe')::double precision as sharpe,
       (r.summary_metrics ->> 'total_return')::double precision as total_return,
       (r.summary_metrics ->> 'max_drawdown')::double precision as max_drawdown,
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
       (s ->> 'total_return')::double precision as total_return,
       (s ->> 'cagr')::double precision as cagr,
       (s ->> 'volatility')::double precision as volatility,
       (s ->> 'sharpe')::double precision as sharpe,
       (s ->> 'sortino')::double precision as sortino,
       (s ->> 'max_drawdown')::double precision as max_drawdown,
       (s ->> 'max_drawdown_days')::double precision as max_drawdown_days,
       (s ->> 'longest_drawdown_days')::double precision as longest_drawdown_days,
       (s ->> 'calmar')::double precision as calmar,
       (s ->> 'exposure')::double precision as exposure,
       (s ->> 'period_win_rate')::double precision as period_win_rate,
       (s ->> 'trade_count')::double precision::bigint as trade_count,
       (s ->> 'win_rate')::double precision as win_rate,
       (s ->> 'profit_factor')::double precision as profit_factor,
       (s ->> 'avg_win')::double precision as avg_win,
       (s ->> 'avg_loss')::double precision as avg_loss,
       (s ->> 'stats_version')::double precision::integer as stats_version,
       (s ->> 'stats_periods_per_year')::double precision as stats_periods_per_year,
       (s ->> 'stats_risk_free')::double precision as stats_risk_free,
       s - array['total_return', 'cagr', 'volatility', 'sharpe', 'sortino', 'max_drawdown',
                 'max_drawdown_days', 'longest_drawdown_days', 'calmar', 'exposure',
                 'period_win_rate', 'trade_count', 'win_rate', 'profit_factor', 'avg_win',
                 'avg_loss', 'stats_version', 'stats_periods_per_year', 'stats_risk_free']
           as other_metrics
  from runs r
  join experiments e on e.id = r.experiment_id
  cross join lateral (select r.summary_metrics as s) m;

drop function jsonb_number_within(jsonb, numeric);

-- True when every top-level value of a jsonb object is a JSON number.
-- (JSON has no NaN or Infinity, so a number here is always finite.) Strict mode:
-- lax mode would unwrap an array value and accept {"a": [1, 2]}.
create or replace function jsonb_is_number_map(doc jsonb) returns boolean
language sql immutable parallel safe
as $$
    select jsonb_typeof(doc) = 'object'
       and not jsonb_path_exists(doc, 'strict $.* ? (@.type() != "number")')
$$;
comment on function jsonb_is_number_map(jsonb) is null;
