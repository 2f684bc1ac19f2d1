-- run_statistics: the trading statistics a run's summary_metrics holds, one column each
-- (the keys resultsdb.stats.trading stores; definitions in docs/statistics.md), and every
-- other key in other_metrics. A statistic the run does not report is null, and so is
-- one its column's type cannot hold (jsonb_number_within): no row fails the view.
create view run_statistics as
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
comment on view run_statistics is
    'One row per run: the trading statistics in its summary_metrics as columns (null when not reported), the rest in other_metrics. Definitions: docs/statistics.md.';
comment on column run_statistics.run_id is 'runs.id.';
comment on column run_statistics.experiment_id is 'The experiment the run belongs to.';
comment on column run_statistics.experiment_name is 'experiments.name of that experiment.';
comment on column run_statistics.run_name is 'runs.name (may be null).';
comment on column run_statistics.run_type is 'training, backtest, hyperparameter_tuning, ...';
comment on column run_statistics.status is 'scheduled, running, completed, failed or killed.';
comment on column run_statistics.total_return is 'Last over first portfolio value, minus 1 (0.27 = +27%).';
comment on column run_statistics.cagr is 'Compound annual growth rate.';
comment on column run_statistics.volatility is 'Annualized standard deviation of period returns.';
comment on column run_statistics.sharpe is 'Annualized Sharpe ratio (risk-free rate in stats_risk_free).';
comment on column run_statistics.sortino is 'Annualized Sortino ratio.';
comment on column run_statistics.max_drawdown is 'Deepest fall below a running peak of portfolio value, as a fraction.';
comment on column run_statistics.max_drawdown_days is 'Days from the peak to the trough of the largest drawdown.';
comment on column run_statistics.longest_drawdown_days is 'Longest time spent below a previous peak, in days.';
comment on column run_statistics.calmar is 'cagr / max_drawdown.';
comment on column run_statistics.exposure is 'Fraction of periods whose return is not zero (the portfolio moved).';
comment on column run_statistics.period_win_rate is 'Fraction of the periods that moved whose return is positive.';
comment on column run_statistics.trade_count is 'Rows in the run''s trade log (opening legs included).';
comment on column run_statistics.win_rate is 'Trades with pnl > 0 over trades with a non-zero pnl.';
comment on column run_statistics.profit_factor is 'Sum of positive pnl over the absolute sum of negative pnl.';
comment on column run_statistics.avg_win is 'Mean pnl of trades with pnl > 0.';
comment on column run_statistics.avg_loss is 'Mean pnl of trades with pnl < 0 (a negative number).';
comment on column run_statistics.stats_version is 'Version of the statistics'' definitions they were computed with (null: not computed by resultsdb).';
comment on column run_statistics.stats_periods_per_year is 'Return periods per year used to annualize (252 daily, 8760 hourly).';
comment on column run_statistics.stats_risk_free is 'Annual risk-free rate used for sharpe and sortino.';
comment on column run_statistics.other_metrics is 'Every other key of summary_metrics: a JSON object of numbers.';
