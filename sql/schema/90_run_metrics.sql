-- run_metrics: runs.summary_metrics unnested one row per (run, key), kept in step by
-- trigger. It exists for one reason: ranking an experiment's runs by any metric is an
-- index range scan on (experiment_id, key, value) instead of a sort of every run's jsonb.
-- summary_metrics stays the source of truth; this table is derived and never written
-- directly (psql edits of summary_metrics are reflected too).
create table run_metrics (
    run_id        uuid not null references runs (id) on delete cascade,
    experiment_id uuid not null,
    key           text not null,
    value         double precision not null,
    primary key (run_id, key),
    constraint run_metrics_value_finite check (value > '-Infinity' and value < 'Infinity')
);
comment on table run_metrics is
    'Derived from runs.summary_metrics by trigger (one row per run and key) to index leaderboards.';

comment on constraint run_metrics_value_finite on run_metrics is
    'must be a finite number (not NaN or infinite)';

create index run_metrics_rank_idx on run_metrics (experiment_id, key, value, run_id);
-- Runs of every experiment ordered by a metric (db.search_runs): a walk of (key, value).
create index run_metrics_key_value_idx on run_metrics (key, value, run_id);

create function runs_sync_metrics() returns trigger
language plpgsql
as $$
begin
    if tg_op = 'UPDATE' then
        delete from run_metrics where run_id = new.id;
    end if;
    -- A JSON number beyond double precision (1e400, possible from psql) is left out of
    -- the index rather than refusing the run's update; a tiny one rounds to 0.
    insert into run_metrics (run_id, experiment_id, key, value)
    select new.id, new.experiment_id, m.key,
           case when abs(m.value::text::numeric) < 1e-300 then 0
                else m.value::text::numeric::double precision end
      from jsonb_each(new.summary_metrics) as m
     where abs(m.value::text::numeric) < 1e300;
    return null;
end
$$;

create trigger runs_sync_metrics_insert after insert on runs
    for each row when (new.summary_metrics <> '{}'::jsonb)
    execute function runs_sync_metrics();
create trigger runs_sync_metrics_update after update of summary_metrics, experiment_id on runs
    for each row when (old.summary_metrics is distinct from new.summary_metrics
                       or old.experiment_id is distinct from new.experiment_id)
    execute function runs_sync_metrics();
