-- Searching runs across experiments (db.search_runs, `resultsdb ls runs --where`):
-- - run_metrics_key_value_idx: ordering the runs of every experiment by a metric walks
--   run_metrics by (key, value) instead of sorting (run_metrics_rank_idx leads with the
--   experiment: one experiment's leaderboard);
-- - runs.parameters: the run's configuration and trial parameter documents, kept by
--   trigger (sql/schema/65_run_parameters.sql), so a search tests parameters on the run's
--   row; back-filled here in the order the triggers keep.
-- docs/design.md ("Searching runs") says which predicate each serves.
-- depends: 0011_json_numbers_within_double
--
-- Locks: a plain CREATE INDEX (SHARE on run_metrics: run writes wait while it builds,
-- about 1 s per million metric values on 2 cores; build it beforehand with CREATE INDEX
-- CONCURRENTLY under the same name on a large database, it is kept). Adding the column
-- with a constant default rewrites nothing; the back-fill updates each run that has
-- configurations or trials once (ACCESS EXCLUSIVE on runs for the ALTER, row locks for
-- the update), about 10 s per million runs.

create index if not exists run_metrics_key_value_idx on run_metrics (key, value, run_id);

alter table runs add column parameters jsonb not null default '[]';
alter table runs add constraint runs_parameters_array check (jsonb_typeof(parameters) = 'array');
comment on column runs.parameters is
    'Derived, kept by trigger: the parameters of the run''s configurations, then of the trial it ran (a JSON array of objects). Searches read it.';
comment on constraint runs_parameters_array on runs is 'must be a JSON array';

-- A change of the derived parameters alone is not an update of the run by anyone.
drop trigger runs_updated_at on runs;
create trigger runs_updated_at before update on runs
    for each row when (old.parameters is not distinct from new.parameters)
    execute function set_updated_at();

create function runs_refresh_parameters(run uuid) returns void
language sql
as $$
    update runs r
       set parameters = d.docs
      from (select coalesce(jsonb_agg(doc order by source, at, id), '[]') as docs
              from (select 1 as source, c.created_at as at, c.id, c.parameters as doc
                      from configurations c
                     where c.run_id = run
                    union all
                    select 2, h.created_at, h.id, h.parameters
                      from hyperparameter_results h
                     where h.trial_run_id = run) as p) as d
     where r.id = run
       and r.parameters is distinct from d.docs
$$;
comment on function runs_refresh_parameters(uuid) is
    'Recompute runs.parameters (the run''s configuration and trial parameter documents) for one run.';

create function configurations_sync_run_parameters() returns trigger
language plpgsql
as $$
begin
    if tg_op <> 'INSERT' then
        perform runs_refresh_parameters(old.run_id);
    end if;
    if tg_op = 'INSERT' or (tg_op = 'UPDATE' and new.run_id <> old.run_id) then
        perform runs_refresh_parameters(new.run_id);
    end if;
    return null;
end
$$;

create trigger configurations_sync_run_parameters
    after insert or delete or update of run_id, parameters on configurations
    for each row execute function configurations_sync_run_parameters();

create function hyperparameter_results_sync_run_parameters() returns trigger
language plpgsql
as $$
begin
    if tg_op <> 'INSERT' and old.trial_run_id is not null then
        perform runs_refresh_parameters(old.trial_run_id);
    end if;
    if tg_op <> 'DELETE' and new.trial_run_id is not null
       and (tg_op = 'INSERT' or new.trial_run_id is distinct from old.trial_run_id) then
        perform runs_refresh_parameters(new.trial_run_id);
    end if;
    return null;
end
$$;

create trigger hyperparameter_results_sync_run_parameters
    after insert or delete or update of trial_run_id, parameters on hyperparameter_results
    for each row execute function hyperparameter_results_sync_run_parameters();

-- The back-fill, set-based: every run with configurations or trials, as the function
-- computes it (updated_at kept: the trigger above skips a change of parameters alone).
update runs r
   set parameters = d.docs
  from (select run_id, jsonb_agg(doc order by source, at, id) as docs
          from (select c.run_id, 1 as source, c.created_at as at, c.id, c.parameters as doc
                  from configurations c
                union all
                select h.trial_run_id, 2, h.created_at, h.id, h.parameters
                  from hyperparameter_results h
                 where h.trial_run_id is not null) as p
         group by run_id) as d
 where r.id = d.run_id;
