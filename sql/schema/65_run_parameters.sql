-- runs.parameters: the parameter documents of a run - its configurations', then those of
-- the trial it ran - kept by trigger, as run_metrics is for summary_metrics. It exists so
-- that a search (db.search_runs) tests a run's parameters on the row it already reads:
-- `params.fast = 10` is `r.parameters @> '[{"fast": 10}]'`, with no probe of
-- configurations and hyperparameter_results per candidate run (a third of the time of a
-- search over a million runs). configurations and hyperparameter_results stay the source
-- of truth; this column is derived and never written directly.

-- The run's parameter documents, recomputed: configurations by (created_at, id), then the
-- trials it ran by (created_at, id). A no-op when nothing changed (no row version).
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
