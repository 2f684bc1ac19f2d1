-- Undo 0010_indexes_and_maintenance_lock_timeout.
alter function maintain_series_partitions(integer, integer) reset lock_timeout;
drop index if exists series_batches_model_idx;
drop index if exists trade_logs_model_idx;
drop index if exists equity_curves_model_idx;
create index if not exists runs_parent_idx on runs (parent_run_id) where parent_run_id is not null;
drop index if exists runs_parent_created_idx;
drop index if exists runs_experiment_id_idx;
drop index if exists runs_experiment_created_idx;
drop index if exists runs_run_type_idx;
drop index if exists runs_status_idx;
drop index if exists runs_end_time_idx;
drop index if exists runs_updated_at_idx;
drop index if exists runs_created_at_idx;
