-- The representative dataset, as SQL valid from schema 0001 on: the seed (resultsdb/seed.py,
-- ported: the same rows, with its random series replaced by deterministic curves) and edge
-- values (zero, -0.0, negatives, subnormal 1e-310, 1e308, empty JSON objects, unicode,
-- NULLs, partition boundaries, every status). The harness loads it before migrating and
-- into the head schema; both databases must end up holding the same rows.
--
-- Everything is pinned: ids are made from a time and a number (pg_temp.v7), every
-- created_at / updated_at is written out, and the rows triggers add (the model version
-- audit) are re-dated. Statements run in one transaction, in one session with the later
-- data files (which reuse pg_temp.id and pg_temp.at).

-- A version-7 UUID for a time and a number: the time puts a run in its month partition.
create function pg_temp.v7(at timestamptz, n integer) returns uuid
language sql immutable as $$
    select encode(substring(int8send(floor(extract(epoch from at) * 1000)::bigint) from 3)
                  || '\x7000'::bytea || '\x80000000'::bytea || int4send(n), 'hex')::uuid
$$;

create temp table ids (name text primary key, at timestamptz not null, id uuid not null unique);
insert into ids (name, at, id)
select name, at::timestamptz, pg_temp.v7(at::timestamptz, n)
  from (values
    ('experiment seed',      '2024-03-01 08:00:00+00', 1),
    ('experiment edge',      '2024-02-29 23:00:00+00', 1),
    ('experiment old',       '2023-06-01 10:00:00+00', 1),
    ('run train',            '2024-03-01 09:00:00+00', 1),
    ('run search',           '2024-03-01 12:00:00+00', 1),
    ('run backtest',         '2024-03-01 15:00:00+00', 1),
    -- the last millisecond of February and the first of March: either side of a bound
    ('run zero',             '2024-02-29 23:59:59.999+00', 1),
    ('run boundary',         '2024-03-01 00:00:00+00', 1),
    ('run old',              '2023-06-15 12:00:00+00', 1),  -- no partition: DEFAULT
    ('run scheduled',        '2024-03-02 08:00:00+00', 1),
    ('run killed',           '2024-03-02 09:00:00+00', 1),
    ('run search edge',      '2024-03-03 10:00:00+00', 1),
    ('run trial child',      '2024-03-03 10:05:00+00', 1),
    ('config dqn 1',         '2024-03-01 09:01:00+00', 1),
    ('config dqn 2',         '2024-03-01 09:02:00+00', 1),
    ('config dqn 3',         '2024-03-01 09:03:00+00', 1),
    ('config data',          '2024-03-01 15:01:00+00', 1),
    ('config edge',          '2024-03-01 00:00:01+00', 1),
    ('model seed',           '2024-03-01 11:30:00+00', 1),
    ('model edge',           '2024-03-01 00:00:02+00', 1),
    ('version seed 1',       '2024-03-01 11:31:00+00', 1),
    ('version seed 2',       '2024-03-01 11:32:00+00', 1),
    ('version edge 1',       '2024-03-01 00:00:03+00', 1),
    ('version edge 2',       '2024-03-01 00:00:04+00', 1),
    ('artifact weights',     '2024-03-01 11:40:00+00', 1),
    ('artifact weights v1',  '2024-03-01 11:41:00+00', 1),
    ('artifact empty',       '2024-03-01 00:00:05+00', 1),
    ('snapshot seed',        '2024-03-01 09:10:00+00', 1),
    ('snapshot stored',      '2024-03-01 00:00:06+00', 1),
    ('snapshot unsized',     '2024-02-29 23:59:59.999+00', 2),
    ('trial running',        '2024-03-03 10:01:00+00', 1),
    ('trial failed',         '2024-03-03 10:02:00+00', 1),
    ('trial negative zero',  '2024-03-03 10:03:00+00', 1),
    ('trial huge',           '2024-03-03 10:04:00+00', 1),
    ('trial child',          '2024-03-03 10:05:00+00', 2)
  ) as v (name, at, n);

create function pg_temp.id(name text) returns uuid
language sql stable as $$ select id from ids where ids.name = $1 $$;
create function pg_temp.at(name text) returns timestamptz
language sql stable as $$ select at from ids where ids.name = $1 $$;
create function pg_temp.sha256(content text) returns text
language sql immutable as $$ select encode(sha256(convert_to(content, 'UTF8')), 'hex') $$;

-- The audit trigger dates its rows now() with a random id: re-dated to when the change happened.
create function pg_temp.date_audit(at timestamptz, n integer) returns void
language sql as $$
    update model_version_transitions set id = pg_temp.v7(at, n), changed_at = at
     where changed_at = now()
$$;
select set_config('resultsdb.actor', 'seed', true);

-- Two month partitions besides the ones migrate creates around today.
select * from ensure_series_partition('2024-02-01 00:00:00+00');
select * from ensure_series_partition('2024-03-01 00:00:00+00');

insert into experiments (id, name, description, tags, status, created_at, updated_at) values
    (pg_temp.id('experiment seed'), 'seed-momentum',
     'Momentum DQN on BTC/USDT hourly bars: train, search, backtest.',
     '{"strategy": "momentum", "asset_class": "crypto", "venue": "binance", "seed": true}',
     'active', pg_temp.at('experiment seed'), pg_temp.at('experiment seed')),
    (pg_temp.id('experiment edge'), 'édge cases ✓ 日本語 🚀', null, '{}', 'archived',
     pg_temp.at('experiment edge'), '2024-03-05 00:00:00+00'),
    (pg_temp.id('experiment old'), 'old, "quoted" and
multi-line', 'it''s done', '{"nested": {"a": [1, null, "x"]}, "empty": {}}', 'completed',
     pg_temp.at('experiment old'), '2023-07-01 00:00:00+00');

insert into runs (id, experiment_id, parent_run_id, name, run_type, status, start_time, end_time,
                  summary_metrics, tags, user_id, error_type, error_message, trial_count,
                  created_at, updated_at) values
    (pg_temp.id('run train'), pg_temp.id('experiment seed'), null, 'train dqn v3', 'training',
     'completed', '2024-03-01 09:00:00+00', '2024-03-01 11:30:00+00',
     '{"sharpe": 1.42, "max_drawdown": 0.118, "total_return": 0.274, "episodes": 500}',
     '{"gpu": true}', null, null, null, 0, pg_temp.at('run train'), '2024-03-01 11:30:00+00'),
    (pg_temp.id('run search'), pg_temp.id('experiment seed'), null, 'search lr/gamma',
     'hyperparameter_tuning', 'running', '2024-03-01 12:00:00+00', null,
     '{"best_sharpe": 1.51}', '{}', null, null, null, 10, pg_temp.at('run search'),
     '2024-03-01 14:00:00+00'),
    (pg_temp.id('run backtest'), pg_temp.id('experiment seed'), null, 'backtest 2024-01',
     'backtest', 'completed', '2024-03-01 15:00:00+00', '2024-03-01 15:04:00+00',
     '{"sharpe": 2.1837, "max_drawdown": 0.0412, "total_return": 0.1125, "trades": 120}',
     '{}', null, null, null, 0, pg_temp.at('run backtest'), '2024-03-01 15:04:00+00'),
    -- 0 and magnitudes below 1e-300 index as 0; 1e300 and beyond are left out of run_metrics.
    (pg_temp.id('run zero'), pg_temp.id('experiment seed'), null, 'flat: no drawdown', 'backtest',
     'completed', '2024-02-29 23:59:59.999+00', '2024-03-01 00:10:00+00',
     '{"max_drawdown": 0, "sharpe": -0.5, "negative_zero": -0.0, "subnormal": 1e-310,
       "negative_tiny": -1e-305, "smallest": 5e-324, "one_e_minus_300": 1e-300,
       "huge": 1e308, "edge": 1e300, "negative_edge": -1e300, "below_edge": -9.9e299,
       "exact": 0.1, "count": 7}',
     '{"label": true, "ünïcode": "värde ✓"}', '0190f6c1-2a3b-7c4d-8e5f-a0b1c2d3e4f5', null, null,
     0, pg_temp.at('run zero'), '2024-03-01 00:10:00+00'),
    (pg_temp.id('run boundary'), pg_temp.id('experiment edge'), null, 'boundary ✓', 'backtest',
     'completed', '2024-03-01 00:00:00+00', '2024-03-01 00:00:00+00', '{"max_drawdown": 0.2}',
     '{}', null, null, null, 0, pg_temp.at('run boundary'), '2024-03-01 00:00:00+00'),
    (pg_temp.id('run old'), pg_temp.id('experiment old'), null, null, 'training', 'failed',
     null, '2023-06-15 12:00:01+00', '{}', '{}', null, 'ValueError',
     'bad input: «ünïcode» and a ''quote''', 0, pg_temp.at('run old'), '2023-06-15 12:00:01+00'),
    (pg_temp.id('run scheduled'), pg_temp.id('experiment seed'), null, 'later', 'backtest',
     'scheduled', null, null, '{}', '{}', null, null, null, 0, pg_temp.at('run scheduled'),
     pg_temp.at('run scheduled')),
    (pg_temp.id('run killed'), pg_temp.id('experiment edge'), null, 'killed', 'training_v2',
     'killed', '2024-03-02 09:00:00+00', '2024-03-02 09:30:00+00', '{"loss": -12.5}', '{}',
     '0190f6c1-2a3b-7c4d-8e5f-a0b1c2d3e4f6', 'KeyboardInterrupt', '', 0,
     pg_temp.at('run killed'), '2024-03-02 09:30:00+00'),
    (pg_temp.id('run search edge'), pg_temp.id('experiment edge'), null, 'edge search',
     'hyperparameter_tuning', 'running', '2024-03-03 10:00:00+00', null, '{}', '{}', null, null,
     null, 5, pg_temp.at('run search edge'), '2024-03-03 10:05:00+00');
insert into runs (id, experiment_id, parent_run_id, name, run_type, status, start_time, end_time,
                  summary_metrics, tags, trial_count, created_at, updated_at) values
    (pg_temp.id('run trial child'), pg_temp.id('experiment edge'), pg_temp.id('run search edge'),
     'trial 5', 'trial', 'completed', '2024-03-03 10:05:00+00', '2024-03-03 10:06:00+00',
     '{"sharpe": 0.0}', '{}', 0, pg_temp.at('run trial child'), '2024-03-03 10:06:00+00');

insert into configurations (id, run_id, name, config_type, parameters, version, parent_id, created_at)
values
    (pg_temp.id('config dqn 1'), pg_temp.id('run train'), 'seed-momentum-dqn', 'model',
     '{"learning_rate": 0.001, "gamma": 0.99, "batch_size": 64}', 1, null, pg_temp.at('config dqn 1')),
    (pg_temp.id('config dqn 2'), pg_temp.id('run train'), 'seed-momentum-dqn', 'model',
     '{"learning_rate": 0.0005, "gamma": 0.99, "batch_size": 64}', 2, pg_temp.id('config dqn 1'),
     pg_temp.at('config dqn 2')),
    (pg_temp.id('config dqn 3'), pg_temp.id('run train'), 'seed-momentum-dqn', 'model',
     '{"learning_rate": 0.0005, "gamma": 0.995, "batch_size": 128}', 3, pg_temp.id('config dqn 2'),
     pg_temp.at('config dqn 3')),
    (pg_temp.id('config data'), pg_temp.id('run backtest'), 'seed-momentum-data', 'data',
     '{"symbol": "BTCUSDT", "interval": "1h", "fee_bps": 7.5}', 1, null, pg_temp.at('config data')),
    (pg_temp.id('config edge'), pg_temp.id('run boundary'), 'réglages ✓', 'data', '{}', 1, null,
     pg_temp.at('config edge'));

insert into models (id, run_id, config_id, model_type, name, metadata, version_count, created_at,
                    updated_at) values
    (pg_temp.id('model seed'), pg_temp.id('run train'), pg_temp.id('config dqn 3'), 'dqn',
     'seed-momentum-dqn', '{"framework": "torch", "obs_window": 64}', 2, pg_temp.at('model seed'),
     pg_temp.at('model seed')),
    (pg_temp.id('model edge'), pg_temp.id('run boundary'), null, 'lgbm', 'modèle ✓', '{}', 2,
     pg_temp.at('model edge'), pg_temp.at('model edge'));

-- Versions are created as drafts, then moved: the audit trigger writes one row per step.
insert into model_versions (id, model_id, version, run_id, config_id, commit_hash, status, metrics,
                            description, created_at, updated_at) values
    (pg_temp.id('version seed 1'), pg_temp.id('model seed'), 1, pg_temp.id('run train'),
     pg_temp.id('config dqn 2'), null, 'draft', '{"sharpe": 1.18, "max_drawdown": 0.153}',
     'baseline', pg_temp.at('version seed 1'), pg_temp.at('version seed 1'));
select pg_temp.date_audit(pg_temp.at('version seed 1'), 1);
insert into model_versions (id, model_id, version, run_id, config_id, commit_hash, status, metrics,
                            description, created_at, updated_at) values
    (pg_temp.id('version seed 2'), pg_temp.id('model seed'), 2, pg_temp.id('run train'),
     pg_temp.id('config dqn 3'), '3f9c2b7e1d4a5c6b8e0f1a2b3c4d5e6f7a8b9c0d', 'draft',
     '{"sharpe": 1.42, "max_drawdown": 0.118}', null, pg_temp.at('version seed 2'),
     pg_temp.at('version seed 2'));
select pg_temp.date_audit(pg_temp.at('version seed 2'), 1);
insert into model_versions (id, model_id, version, run_id, config_id, status, metrics, description,
                            created_at, updated_at) values
    (pg_temp.id('version edge 1'), pg_temp.id('model edge'), 1, pg_temp.id('run boundary'), null,
     'draft', '{}', null, pg_temp.at('version edge 1'), pg_temp.at('version edge 1'));
select pg_temp.date_audit(pg_temp.at('version edge 1'), 1);
insert into model_versions (id, model_id, version, run_id, config_id, status, metrics, description,
                            created_at, updated_at) values
    (pg_temp.id('version edge 2'), pg_temp.id('model edge'), 2, pg_temp.id('run boundary'),
     pg_temp.id('config edge'), 'draft', '{"zero": 0, "negative": -1.5, "subnormal": 1e-310}',
     'deuxième ✓ — “quoted”', pg_temp.at('version edge 2'), pg_temp.at('version edge 2'));
select pg_temp.date_audit(pg_temp.at('version edge 2'), 1);

select set_config('resultsdb.reason', 'seed: superseded by v2', true);
update model_versions set status = 'archived' where id = pg_temp.id('version seed 1');
select pg_temp.date_audit('2024-03-01 11:45:00+00', 2);
select set_config('resultsdb.reason', 'seed: best backtest sharpe', true);
update model_versions set status = 'production' where id = pg_temp.id('version seed 2');
select pg_temp.date_audit('2024-03-01 11:46:00+00', 2);
select set_config('resultsdb.reason', '', true);
update model_versions set status = 'staging' where id = pg_temp.id('version edge 2');
select pg_temp.date_audit('2024-03-01 00:01:00+00', 2);
-- set_updated_at stamps now(); pinned to the time of the last move instead.
alter table model_versions disable trigger model_versions_updated_at;
update model_versions set updated_at = '2024-03-01 11:45:00+00' where id = pg_temp.id('version seed 1');
update model_versions set updated_at = '2024-03-01 11:46:00+00' where id = pg_temp.id('version seed 2');
update model_versions set updated_at = '2024-03-01 00:01:00+00' where id = pg_temp.id('version edge 2');
alter table model_versions enable trigger model_versions_updated_at;

-- The seed's stand-in weights: 64 lines of text, 1910 bytes.
create temp table weights as
select string_agg(format('seed-momentum-dqn v2 layer %s', i) || E'\n', '' order by i) as content
  from generate_series(0, 63) as i;
insert into model_artifacts (id, model_version_id, artifact_type, storage_path, size_bytes,
                             file_format, content_hash, created_at)
select pg_temp.id(a.name), pg_temp.id(a.version), a.artifact_type,
       format('models/%s/%s/%s.pt', pg_temp.id('model seed'), a.dir, pg_temp.sha256(w.content)),
       octet_length(w.content), 'pt', pg_temp.sha256(w.content), pg_temp.at(a.name)
  from weights w,
       (values ('artifact weights', 'version seed 2', 'weights', 'v2'),
               ('artifact weights v1', 'version seed 1', 'weights', 'v1')  -- the same blob twice
       ) as a (name, version, artifact_type, dir);
insert into model_artifacts (id, model_version_id, artifact_type, storage_path, size_bytes,
                             file_format, content_hash, created_at) values
    (pg_temp.id('artifact empty'), pg_temp.id('version edge 2'), 'feature_list',
     'modèles/édge/vide ✓', 0, null, pg_temp.sha256(''), pg_temp.at('artifact empty'));

insert into data_snapshots (id, run_id, data_source, start_date, end_date, features_hash,
                            storage_path, content_hash, size_bytes, created_at) values
    (pg_temp.id('snapshot seed'), pg_temp.id('run train'), 'binance:BTCUSDT:1h',
     '2023-01-01 00:00:00+00', '2023-12-31 23:00:00+00',
     pg_temp.sha256('close,log_return,rsi_14,macd,volume_z'),
     'snapshots/binance/BTCUSDT/1h/2023.parquet', null, null, pg_temp.at('snapshot seed')),
    (pg_temp.id('snapshot stored'), pg_temp.id('run boundary'), 'psql ✓ source',
     '2024-02-29 23:59:59.999999+00', '2024-02-29 23:59:59.999999+00',
     pg_temp.sha256('edge features ✓'), null, pg_temp.sha256('edge snapshot'), 12345,
     pg_temp.at('snapshot stored')),
    -- a content hash without a size: no blob row can be made for it (blobs.size_bytes is required)
    (pg_temp.id('snapshot unsized'), pg_temp.id('run zero'), 's3://research/x.parquet',
     '1970-01-01 00:00:00+00', '2038-01-19 03:14:08+00', pg_temp.sha256('unsized features'),
     'unsized.parquet', pg_temp.sha256('unsized snapshot'), null, pg_temp.at('snapshot unsized'));

-- The seed's ten trials (pruned: 4th and 8th); sharpe from the seed's formula with a sine
-- in place of its random noise.
insert into hyperparameter_results (id, run_id, trial_number, trial_run_id, parameters,
                                    objective_value, metrics, status, created_at, updated_at,
                                    finished_at)
select pg_temp.v7(t.at, 1), pg_temp.id('run search'), t.i + 1, null,
       jsonb_build_object('learning_rate', t.lr, 'gamma', t.gamma),
       case when t.pruned then null else t.sharpe end,
       case when t.pruned then '{}'::jsonb
            else jsonb_build_object('sharpe', t.sharpe,
                                    'max_drawdown', round((0.15 + 0.05 * cos(t.i))::numeric, 4)) end,
       case when t.pruned then 'pruned' else 'completed' end,
       t.at, t.at + interval '6 minutes', t.at + interval '6 minutes'
  from (select i, lr, gamma, i in (3, 7) as pruned,
               round((1.5 - abs(log(lr::numeric) + 3.3) * 0.6 + 0.05 * sin(i))::numeric, 4)::float8 as sharpe,
               '2024-03-01 12:00:00+00'::timestamptz + i * interval '7 minutes' as at
          from (select i, (array[1e-4, 3e-4, 5e-4, 1e-3, 3e-3])[i % 5 + 1]::float8 as lr,
                       (array[0.98, 0.99, 0.995])[i % 3 + 1]::float8 as gamma
                  from generate_series(0, 9) as i) as g) as t;
insert into hyperparameter_results (id, run_id, trial_number, trial_run_id, parameters,
                                    objective_value, metrics, status, created_at, updated_at,
                                    finished_at) values
    (pg_temp.id('trial running'), pg_temp.id('run search edge'), 1, null, '{}', null, '{}',
     'running', pg_temp.at('trial running'), pg_temp.at('trial running'), null),
    (pg_temp.id('trial failed'), pg_temp.id('run search edge'), 2, null,
     '{"optimizer": "adamw", "layers": [64, 32], "dropout": null}', null, '{"loss": -1e308}',
     'failed', pg_temp.at('trial failed'), pg_temp.at('trial failed'), pg_temp.at('trial failed')),
    (pg_temp.id('trial negative zero'), pg_temp.id('run search edge'), 3, null, '{"x": -0.0}',
     '-0'::float8, '{"zero": 0}', 'completed', pg_temp.at('trial negative zero'),
     pg_temp.at('trial negative zero'), '2024-03-03 10:03:30+00'),
    (pg_temp.id('trial huge'), pg_temp.id('run search edge'), 4, null, '{"ü": "✓"}', 1e308,
     '{"tiny": 1e-310}', 'completed', pg_temp.at('trial huge'), pg_temp.at('trial huge'),
     pg_temp.at('trial huge')),
    (pg_temp.id('trial child'), pg_temp.id('run search edge'), 5, pg_temp.id('run trial child'),
     '{}', '4.9406564584124654e-324'::float8, '{}', 'completed', pg_temp.at('trial child'),
     '2024-03-03 10:06:00+00', '2024-03-03 10:06:00+00');

-- The seed's backtest: 300 hourly points and 120 trades (no model), deterministic curves.
insert into equity_curves (run_id, model_id, ts, portfolio_value, benchmark_value, drawdown)
select pg_temp.id('run backtest'), null, ts, value, bench,
       round(((max(value) over (order by ts) - value) / max(value) over (order by ts))::numeric, 6)::float8
  from (select '2024-01-01 00:00:00+00'::timestamptz + i * interval '1 hour' as ts,
               round((100000 * exp(0.0004 * i + 0.01 * sin(i / 7.0)))::numeric, 2)::float8 as value,
               round((100000 * exp(0.0002 * i + 0.012 * cos(i / 11.0)))::numeric, 2)::float8 as bench
          from generate_series(0, 299) as i) as p;
insert into trade_logs (run_id, model_id, seq, ts, asset, action, price, quantity, pnl, metadata)
select pg_temp.id('run backtest'), null, seq,
       '2024-01-01 00:05:00+00'::timestamptz + seq * interval '2 hours', 'BTCUSDT',
       case when seq % 2 = 0 then 'buy' else 'sell' end, price, 0.25,
       case when seq % 2 = 1 then round(((price - lag(price) over (order by seq)) * 0.25)::numeric, 2)::float8 end,
       '{"signal": "momentum_cross", "fee_bps": 7.5}'
  from (select seq, round((42000 * (1 + 0.02 * sin(seq * 1.3)))::numeric, 2)::float8 as price
          from generate_series(0, 119) as seq) as t;

-- Edge series, in the February partition, the March one (its first id) and DEFAULT.
insert into equity_curves (run_id, model_id, ts, portfolio_value, benchmark_value, drawdown) values
    (pg_temp.id('run zero'), pg_temp.id('model edge'), '2024-01-31 23:59:59.999999+00', 0, null, null),
    (pg_temp.id('run zero'), pg_temp.id('model edge'), '2024-02-01 00:00:00+00', '-0', '-0', '-0'),
    (pg_temp.id('run zero'), pg_temp.id('model edge'), '2024-02-01 00:00:00.000001+00', 1e-310, -1e-310, 1e-310),
    (pg_temp.id('run zero'), pg_temp.id('model edge'), '1970-01-01 00:00:00+00', 1e308, -1e308, 1e308),
    (pg_temp.id('run zero'), null, '2024-02-01 00:00:00+00', -2.5, 0, 0),
    (pg_temp.id('run boundary'), null, '2024-03-01 00:00:00+00', 100, 100, 0),
    (pg_temp.id('run boundary'), null, '2024-03-01 00:00:00.000001+00', 99.5, null, 0.005),
    (pg_temp.id('run old'), null, '2023-06-15 12:00:00+00', 1, 1, 0);
insert into trade_logs (run_id, model_id, seq, ts, asset, action, price, quantity, pnl, metadata) values
    (pg_temp.id('run boundary'), pg_temp.id('model edge'), 0, '2024-02-29 23:59:59.999999+00',
     'ÉTH/€', 'buy', '4.9406564584124654e-324', 1e308, null, null),
    (pg_temp.id('run boundary'), pg_temp.id('model edge'), 1, '2024-03-01 00:00:00+00', 'ÉTH/€',
     'sell', 1e308, 1e-310, 0, '{}'),
    (pg_temp.id('run boundary'), pg_temp.id('model edge'), 2, '2024-03-01 00:00:00+00', 'x',
     'short', 1, 1, '-0', '{"note": "même ts ✓", "list": [], "obj": {}}'),
    (pg_temp.id('run boundary'), pg_temp.id('model edge'), 3, '2024-03-01 00:00:01+00', 'x',
     'cover', 2, 1, -1e308, '{"n": null}'),
    (pg_temp.id('run boundary'), null, 0, '2024-03-01 00:00:00+00', 'x', 'buy', 1, 1, null, null),
    (pg_temp.id('run zero'), null, 0, '2024-02-29 23:59:59.999+00', 'BTCUSDT', 'buy', 0.5, 2, null, null),
    (pg_temp.id('run old'), null, 0, '2023-06-15 12:00:00+00', 'BTCUSDT', 'buy', 30000, 0.1, null, null);
