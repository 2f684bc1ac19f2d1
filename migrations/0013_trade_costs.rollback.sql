-- Undo 0013_trade_costs: trade_round_trips() and numeric_as_double() go, and so do
-- trade_logs.fee and trade_logs.slippage, with every cost stored in them.

drop function trade_round_trips(uuid, uuid);
drop function numeric_as_double(numeric);
alter table trade_logs drop column fee, drop column slippage;
