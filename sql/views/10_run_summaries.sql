-- run_summaries: one row per run, with its experiment's name, how long it took and the
-- metrics people look at first. For psql users; the library reads the tables. Metrics
-- are read through jsonb_number_within: a value double precision cannot hold is null.
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
