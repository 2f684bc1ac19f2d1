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
