-- data_snapshots_features_idx keys data_source by its md5: a long multibyte data_source
-- (1,024 CJK characters, 3 KB) made the index row outgrow a btree page (54000).
-- depends: 0008_run_metrics_backfill_zeros

drop index data_snapshots_features_idx;
create index data_snapshots_features_idx
    on data_snapshots (features_hash, md5(data_source), start_date, end_date);
