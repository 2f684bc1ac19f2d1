-- From schema 0013: trade costs. The seed's backtest log pays a fee on every leg and
-- slippage on the closing ones; the edge log tries 0, -0, a subnormal and 1e308. Other
-- trades keep null (not known), as every trade written before 0013 does.
update trade_logs
   set fee = round((price * quantity * 0.00075)::numeric, 6)::float8,
       slippage = case when action = 'sell' then 0.5 end
 where run_id = pg_temp.id('run backtest');
update trade_logs set fee = 0, slippage = '-0'
 where run_id = pg_temp.id('run boundary') and model_id = pg_temp.id('model edge') and seq = 0;
update trade_logs set fee = 1e-310, slippage = 1e308
 where run_id = pg_temp.id('run boundary') and model_id = pg_temp.id('model edge') and seq = 1;
update trade_logs set fee = 1e308
 where run_id = pg_temp.id('run boundary') and model_id = pg_temp.id('model edge') and seq = 3;
