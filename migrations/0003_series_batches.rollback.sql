-- Undo 0003_series_batches. The series rows stay; only their batch identities go.
drop table if exists series_batches cascade;
