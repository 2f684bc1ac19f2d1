-- Row counts of the results tables (exact: each is a full scan, so not for hot paths).

-- name: table_row_count
-- returns: scalar
-- type: int
-- identifier: table = experiments | runs | configurations | models | model_versions | model_version_transitions | model_artifacts | data_snapshots | hyperparameter_results | equity_curves | trade_logs
-- The number of rows in one results table.
select count(*) from {table};
