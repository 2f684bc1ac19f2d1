-- Series of a run: equity curves and trade logs. Simple batch insert and read;
-- bulk ingest (COPY) is a separate piece of work.
-- A null :model_id means the run's own series, not attributed to a model.

-- name: insert_equity_points
-- returns: rowcount
-- Insert the points of :points (a JSON array of objects) into one run's curve;
-- the number of rows inserted. One statement, so a batch is all or nothing.
insert into equity_curves (run_id, model_id, ts, portfolio_value, benchmark_value, drawdown)
select cast(:run_id as uuid), cast(:model_id as uuid), p.ts, p.portfolio_value,
       p.benchmark_value, p.drawdown
  from jsonb_to_recordset(cast(:points as jsonb))
       as p(ts timestamptz, portfolio_value double precision,
            benchmark_value double precision, drawdown double precision);

-- name: equity_points_of_run
-- returns: many
-- record: EquityPoint
-- One run's equity curve for one model (or none), in time order.
select *
  from equity_curves
 where run_id = :run_id
   and model_id is not distinct from cast(:model_id as uuid)
 order by ts;

-- name: insert_trades
-- returns: rowcount
-- Insert the trades of :trades (a JSON array of objects) into one run's log;
-- the number of rows inserted.
insert into trade_logs (run_id, model_id, seq, ts, asset, action, price, quantity, pnl, metadata)
select cast(:run_id as uuid), cast(:model_id as uuid), t.seq, t.ts, t.asset, t.action,
       t.price, t.quantity, t.pnl, t.metadata
  from jsonb_to_recordset(cast(:trades as jsonb))
       as t(seq bigint, ts timestamptz, asset text, action text, price double precision,
            quantity double precision, pnl double precision, metadata jsonb);

-- name: trades_of_run
-- returns: many
-- record: Trade
-- One run's trade log for one model (or none), in sequence order.
select *
  from trade_logs
 where run_id = :run_id
   and model_id is not distinct from cast(:model_id as uuid)
 order by seq;
