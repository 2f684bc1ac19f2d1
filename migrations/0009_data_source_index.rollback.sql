-- Undo 0009_data_source_index: the index on data_source itself, as 0001 made it. Fails
-- (54000) while a snapshot's data_source is too long for a btree row.

drop index data_snapshots_features_idx;
create index data_snapshots_features_idx
    on data_snapshots (features_hash, data_source, start_date, end_date);
