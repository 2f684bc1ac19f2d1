-- Undo 0012_run_search.
drop trigger if exists hyperparameter_results_sync_run_parameters on hyperparameter_results;
drop function if exists hyperparameter_results_sync_run_parameters();
drop trigger if exists configurations_sync_run_parameters on configurations;
drop function if exists configurations_sync_run_parameters();
drop function if exists runs_refresh_parameters(uuid);
drop trigger if exists runs_updated_at on runs;
create trigger runs_updated_at before update on runs
    for each row execute function set_updated_at();
alter table runs drop column if exists parameters;
drop index if exists run_metrics_key_value_idx;
