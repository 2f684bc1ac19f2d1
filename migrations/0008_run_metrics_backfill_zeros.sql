-- run_metrics rows 0004's back-fill missed, for runs saved before it.
-- depends: 0007_uuid_v7_submillisecond

-- 0004 indexed the runs that existed before it with
--     where abs(value) between 1e-300 and 1e300
-- while its trigger, which has indexed every run written since, keeps every value with
-- abs(value) < 1e300 and stores a magnitude below 1e-300 as 0. So an old run lost its
-- zeros (max_drawdown 0 was missing from an ascending leaderboard), -0 and every value
-- below 1e-300 in magnitude (1e-310, -1e-305), and kept a row for exactly +-1e300, which
-- the trigger leaves out. Negative values were indexed: abs() made them pass.
-- No other back-fill in 0001-0007 filters values: 0002 makes blob rows for every
-- referenced hash that has a size (a blob row needs one), and model versions and trials
-- keep their metrics in jsonb only.
--
-- The rows below are the trigger's rule applied to every run, added where missing, so
-- running this again (or on rows the trigger already wrote) changes nothing.
insert into run_metrics (run_id, experiment_id, key, value)
select r.id, r.experiment_id, m.key,
       case when abs(m.value::text::numeric) < 1e-300 then 0
            else m.value::text::numeric::double precision end
  from runs r, jsonb_each(r.summary_metrics) as m
 where abs(m.value::text::numeric) < 1e300
on conflict (run_id, key) do nothing;

delete from run_metrics where abs(value) >= 1e300;
