-- Undo 0004_run_metrics.
drop trigger if exists runs_sync_metrics_update on runs;
drop trigger if exists runs_sync_metrics_insert on runs;
drop function if exists runs_sync_metrics();
drop table if exists run_metrics;
