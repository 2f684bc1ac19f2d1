-- From schema 0003: batch identities of series written by the bulk ingest, which records one
-- per write (resultsdb/series). The seed's series went through insert_points and insert_trades,
-- which record none, so only some series have batches; one batch wrote no rows.
insert into series_batches (run_id, model_id, kind, batch_key, row_count, first_ts, last_ts,
                            checksum, created_at) values
    (pg_temp.id('run zero'), pg_temp.id('model edge'), 'equity',
     'sha256:' || pg_temp.sha256('zero equity'), 4, '1970-01-01 00:00:00+00',
     '2024-02-01 00:00:00.000001+00', pg_temp.sha256('zero equity'), '2024-03-01 00:10:00+00'),
    (pg_temp.id('run boundary'), pg_temp.id('model edge'), 'trades', 'trades ✓ part 1', 4,
     '2024-02-29 23:59:59.999999+00', '2024-03-01 00:00:01+00', pg_temp.sha256('boundary trades'),
     '2024-03-01 00:00:00+00'),
    (pg_temp.id('run killed'), null, 'equity', 'empty batch', 0, null, null,
     pg_temp.sha256('empty batch'), '2024-03-02 09:10:00+00');
