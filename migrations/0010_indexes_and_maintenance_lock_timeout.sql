-- Indexes for every allowlisted list order (keyset pages walk an index instead of sorting
-- the table) and for the foreign keys to models no index led on (a model delete scanned
-- every series partition); a lock_timeout for partition maintenance run from SQL.
-- docs/design.md ("Lists: every order pages through an index", "Foreign keys") has the
-- inventory: which list, order and filter each index serves.
-- depends: 0009_data_source_index
--
-- Locks. yoyo runs this step in one transaction, so CREATE INDEX CONCURRENTLY is not
-- possible here. A plain CREATE INDEX takes a SHARE lock on its table: reads go on,
-- inserts, updates and deletes of that table wait, and the locks are held until this step
-- commits. Measured on PostgreSQL 15 on 2 cores: per million runs, each runs index builds
-- in 0.4 to 0.8 s (about 4 s for all of them, so run writes wait that long); the series
-- indexes build on every month partition (SHARE on each), about 3 s per 10 million rows.
-- lock_timeout (RESULTSDB_DDL_LOCK_TIMEOUT_MS) makes the step give up, and change nothing,
-- rather than queue everyone behind it while a long transaction holds a table.
--
-- On a large database, build the indexes beforehand without blocking writers, then
-- migrate: the runs indexes are created "if not exists", so one built concurrently under
-- the same name is kept, e.g.
--     create index concurrently runs_created_at_idx on runs (created_at, id);
-- and CREATE INDEX on a partitioned table attaches an equivalent index a partition already
-- has instead of building one, e.g. for each month partition
--     create index concurrently on equity_curves_p202401 (model_id) where model_id is not null;

-- runs: one (order column, id) index per allowlisted order of db.runs() (start_time has
-- runs_start_time_idx). created_at is not the id's time: the id is made by clock_timestamp()
-- as the row is inserted, created_at is now(), the transaction's start, so rows of
-- overlapping transactions can list in different orders by the two; it gets its own index.
create index if not exists runs_created_at_idx on runs (created_at, id);
create index if not exists runs_updated_at_idx on runs (updated_at, id);
create index if not exists runs_end_time_idx on runs (end_time, id);
create index if not exists runs_status_idx on runs (status, id);
create index if not exists runs_run_type_idx on runs (run_type, id);
-- An experiment's runs in the default order (db.runs(experiment)), and by id (runs_of_experiment).
create index if not exists runs_experiment_created_idx on runs (experiment_id, created_at, id);
create index if not exists runs_experiment_id_idx on runs (experiment_id, id);
-- A search run's children in the default order; still leads on parent_run_id for the
-- foreign key, so it replaces runs_parent_idx.
create index if not exists runs_parent_created_idx on runs (parent_run_id, created_at, id)
    where parent_run_id is not null;
drop index if exists runs_parent_idx;

-- ON DELETE CASCADE from models: deleting a model deletes its series rows and batches,
-- found through these instead of a scan of every partition.
create index equity_curves_model_idx on equity_curves (model_id) where model_id is not null;
create index trade_logs_model_idx on trade_logs (model_id) where model_id is not null;
create index if not exists series_batches_model_idx on series_batches (model_id)
    where model_id is not null;

-- Partition maintenance run from SQL (cron: select maintain_series_partitions(3)) has no
-- RESULTSDB_DDL_LOCK_TIMEOUT_MS around it. Attaching a month waits for everyone reading the
-- DEFAULT partition, and everyone after queues behind it: give up after 3 s instead (the
-- setting holds while the function runs and is put back after). The library's own calls
-- go through ensure_series_partitions() with their configured timeout.
alter function maintain_series_partitions(integer, integer) set lock_timeout = '3s';
