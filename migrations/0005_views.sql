-- psql views (sql/views/*.sql): run summaries, leaderboard, model registry, trials,
-- run statistics; each view and column carries a COMMENT. A later migration that
-- changes a column these views read must drop and recreate the view.
-- depends: 0004_run_metrics

-- ---- from sql/views/10_run_summaries.sql ----
-- run_summaries: one row per run, with its experiment's name, how long it took and the
-- metrics people look at first. For psql users; the library reads the tables.
create view run_summaries as
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
comment on view run_summaries is
    'One row per run: experiment name, duration and key metrics (sharpe, total_return, max_drawdown) beside the full summary_metrics.';
comment on column run_summaries.run_id is 'runs.id.';
comment on column run_summaries.experiment_id is 'The experiment the run belongs to.';
comment on column run_summaries.experiment_name is 'experiments.name of that experiment.';
comment on column run_summaries.parent_run_id is 'The parent run (a search) when this run is one of its trials; null otherwise.';
comment on column run_summaries.run_name is 'runs.name (may be null).';
comment on column run_summaries.run_type is 'training, backtest, hyperparameter_tuning, ...';
comment on column run_summaries.status is 'scheduled, running, completed, failed or killed.';
comment on column run_summaries.start_time is 'When the run started (null while scheduled).';
comment on column run_summaries.end_time is 'When the run ended (null until it ends).';
comment on column run_summaries.duration is 'end_time - start_time; null until the run ends.';
comment on column run_summaries.duration_s is 'duration in seconds, for sorting and averaging.';
comment on column run_summaries.sharpe is 'summary_metrics.sharpe (null when absent).';
comment on column run_summaries.total_return is 'summary_metrics.total_return as a fraction (0.27 = +27%; null when absent).';
comment on column run_summaries.max_drawdown is 'summary_metrics.max_drawdown as a fraction below the peak (null when absent).';
comment on column run_summaries.summary_metrics is 'Every summary metric of the run: a JSON object of numbers.';
comment on column run_summaries.tags is 'The run''s tags: a JSON object ({"key": "value"}, labels as {"label": true}).';
comment on column run_summaries.trial_count is 'Trials this run has numbered (search runs).';
comment on column run_summaries.error_type is 'Why a failed run failed (exception class), else null.';
comment on column run_summaries.created_at is 'When the run row was inserted.';

-- ---- from sql/views/20_leaderboard.sql ----
-- leaderboard: completed runs ranked within their experiment, for every metric they
-- report. Reads run_metrics, the indexed copy of summary_metrics (one row per run and key).
-- experiment_name is in the window's PARTITION BY (it adds nothing: an id has one name)
-- so that a filter on it is pushed below the window and only that experiment is read.
create view leaderboard as
select m.experiment_id,
       e.name as experiment_name,
       m.key as metric,
       row_number() over (partition by m.experiment_id, e.name, m.key
                          order by m.value desc, m.run_id) as rank_desc,
       row_number() over (partition by m.experiment_id, e.name, m.key
                          order by m.value, m.run_id) as rank_asc,
       count(*) over (partition by m.experiment_id, e.name, m.key) as runs_ranked,
       m.value,
       m.run_id,
       r.name as run_name,
       r.run_type,
       r.parent_run_id,
       r.start_time,
       r.end_time
  from run_metrics m
  join runs r on r.id = m.run_id
  join experiments e on e.id = m.experiment_id
 where r.status = 'completed';
comment on view leaderboard is
    'Completed runs ranked per experiment and metric: filter experiment_name and metric, then order by rank_desc (higher is better) or rank_asc (lower is better).';
comment on column leaderboard.experiment_id is 'The experiment the ranking is within.';
comment on column leaderboard.experiment_name is 'experiments.name of that experiment.';
comment on column leaderboard.metric is 'The summary metric ranked (a key of runs.summary_metrics).';
comment on column leaderboard.rank_desc is '1 for the highest value of the metric in the experiment; ties go to the older run.';
comment on column leaderboard.rank_asc is '1 for the lowest value (for losses and drawdowns); ties go to the older run.';
comment on column leaderboard.runs_ranked is 'How many completed runs of the experiment report this metric.';
comment on column leaderboard.value is 'The run''s value of the metric.';
comment on column leaderboard.run_id is 'The run ranked.';
comment on column leaderboard.run_name is 'runs.name (may be null).';
comment on column leaderboard.run_type is 'training, backtest, hyperparameter_tuning, ...';
comment on column leaderboard.parent_run_id is 'The search run this run is a trial of, if any.';
comment on column leaderboard.start_time is 'When the run started.';
comment on column leaderboard.end_time is 'When the run ended.';

-- ---- from sql/views/30_model_registry.sql ----
-- model_registry: one row per model with its production and latest versions, how long
-- production has been live, and the artifact bytes its versions own.
create view model_registry as
select m.id as model_id,
       m.name as model_name,
       m.model_type,
       r.experiment_id,
       e.name as experiment_name,
       coalesce(v.versions, 0) as versions,
       latest.version as latest_version,
       latest.id as latest_version_id,
       latest.status as latest_status,
       prod.version as production_version,
       prod.id as production_version_id,
       prod.since as production_since,
       now() - prod.since as production_age,
       prod.metrics as production_metrics,
       coalesce(v.artifact_bytes, 0) as artifact_bytes,
       m.created_at
  from models m
  join runs r on r.id = m.run_id
  join experiments e on e.id = r.experiment_id
  left join lateral (
        select count(distinct mv.id)::integer as versions,
               sum(a.size_bytes)::bigint as artifact_bytes
          from model_versions mv
          left join model_artifacts a on a.model_version_id = mv.id
         where mv.model_id = m.id) v on true
  left join lateral (
        select mv.id, mv.version, mv.status
          from model_versions mv
         where mv.model_id = m.id
         order by mv.version desc
         limit 1) latest on true
  -- At most one production version per model (model_versions_one_production). It went
  -- live at its last transition to production in the audit trail.
  left join lateral (
        select mv.id, mv.version, mv.metrics,
               coalesce((select max(t.changed_at) from model_version_transitions t
                          where t.model_version_id = mv.id and t.to_status = 'production'),
                        mv.updated_at) as since
          from model_versions mv
         where mv.model_id = m.id and mv.status = 'production') prod on true;
comment on view model_registry is
    'One row per model: its production version (and since when), its latest version, and the bytes of its artifacts.';
comment on column model_registry.model_id is 'models.id.';
comment on column model_registry.model_name is 'models.name (unique).';
comment on column model_registry.model_type is 'dqn, lgbm, ...';
comment on column model_registry.experiment_id is 'The experiment of the run that first produced the model.';
comment on column model_registry.experiment_name is 'experiments.name of that experiment.';
comment on column model_registry.versions is 'Versions that exist now (deleted ones are not counted; models.version_count counts every version created).';
comment on column model_registry.latest_version is 'The highest version number (null when the model has no version).';
comment on column model_registry.latest_version_id is 'model_versions.id of the latest version.';
comment on column model_registry.latest_status is 'Status of the latest version: draft, staging, production or archived.';
comment on column model_registry.production_version is 'The version in production (null when none is).';
comment on column model_registry.production_version_id is 'model_versions.id of the production version.';
comment on column model_registry.production_since is 'When the production version last entered production (from model_version_transitions).';
comment on column model_registry.production_age is 'now() - production_since: how long production has been live.';
comment on column model_registry.production_metrics is 'metrics of the production version (a JSON object of numbers).';
comment on column model_registry.artifact_bytes is 'Bytes of all artifacts of all versions, as model_artifacts records them (a blob shared by two versions counts twice).';
comment on column model_registry.created_at is 'When the model was registered.';

-- ---- from sql/views/40_trials.sql ----
-- trials: hyperparameter search trials with their search run and experiment by name.
create view trials as
select h.id as trial_id,
       h.run_id as search_run_id,
       s.name as search_run_name,
       s.experiment_id,
       e.name as experiment_name,
       h.trial_number,
       h.status,
       h.objective_value,
       h.parameters,
       h.metrics,
       h.trial_run_id,
       t.status as trial_run_status,
       h.created_at,
       h.finished_at,
       h.finished_at - h.created_at as duration
  from hyperparameter_results h
  join runs s on s.id = h.run_id
  join experiments e on e.id = s.experiment_id
  left join runs t on t.id = h.trial_run_id;
comment on view trials is
    'Hyperparameter search trials (hyperparameter_results) with the search run and experiment they belong to.';
comment on column trials.trial_id is 'hyperparameter_results.id.';
comment on column trials.search_run_id is 'The search run the trial belongs to (hyperparameter_results.run_id).';
comment on column trials.search_run_name is 'runs.name of the search run.';
comment on column trials.experiment_id is 'The experiment of the search run.';
comment on column trials.experiment_name is 'experiments.name of that experiment.';
comment on column trials.trial_number is '1, 2, 3 ... per search run, in the order trials started.';
comment on column trials.status is 'running, completed, pruned or failed.';
comment on column trials.objective_value is 'The value the search optimises; set on every completed trial.';
comment on column trials.parameters is 'The hyperparameters tried: a JSON object.';
comment on column trials.metrics is 'Other metrics of the trial: a JSON object of numbers.';
comment on column trials.trial_run_id is 'The child run holding the trial''s series, if any.';
comment on column trials.trial_run_status is 'Status of that child run.';
comment on column trials.created_at is 'When the trial started.';
comment on column trials.finished_at is 'When the trial ended (null while running).';
comment on column trials.duration is 'finished_at - created_at; null while running.';

-- ---- from sql/views/50_run_statistics.sql ----
-- run_statistics: the trading statistics a run's summary_metrics holds, one column each
-- (the keys resultsdb.stats.trading stores; definitions in docs/statistics.md), and every
-- other key in other_metrics. A statistic the run does not report is null.
create view run_statistics as
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
