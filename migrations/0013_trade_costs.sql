-- Typed trade costs: trade_logs.fee and trade_logs.slippage (double precision, nullable,
-- finite and >= 0), and trade_round_trips(), which pairs a log's legs FIFO into round
-- trips net of those costs (docs/statistics.md, "Round trips").
-- depends: 0012_run_search
--
-- Rows stored before this step keep their data, with fee and slippage null (not known).
-- Locks: ALTER TABLE on the partitioned trade_logs takes ACCESS EXCLUSIVE on it and every
-- partition until the commit. The columns are added without a default (no rewrite); the
-- two checks are added in the same statement, so every partition is scanned once to
-- validate them (all null: cheap per row, but it reads the table). A partition made later
-- by ensure_series_partition() copies the columns and checks (CREATE TABLE ... LIKE ...
-- INCLUDING CONSTRAINTS), so its body needs no change.

alter table trade_logs
    add column fee double precision,
    add column slippage double precision,
    add constraint trade_logs_fee_range check (fee >= 0 and fee < 'Infinity'),
    add constraint trade_logs_slippage_range check (slippage >= 0 and slippage < 'Infinity');
comment on column trade_logs.fee is
    'Fees paid on the trade (commission, exchange fees), >= 0, in the log''s currency; null when not known.';
comment on column trade_logs.slippage is
    'Cost of the trade''s slippage (fill against expected price), >= 0, in the log''s currency; null when not known.';
comment on constraint trade_logs_fee_range on trade_logs is 'must be a finite number >= 0 (a cost)';
comment on constraint trade_logs_slippage_range on trade_logs is 'must be a finite number >= 0 (a cost)';

-- A numeric as double precision without failing: null beyond double's range, 0 below its
-- smallest subnormal (a plain cast raises an error for both, failing the whole query).
create function numeric_as_double(value numeric) returns double precision
language sql immutable parallel safe
as $$
    select case when abs(value) > 1.7976931348623157e308 then null
                when abs(value) < 2.5e-324 then 0
                else cast(value as double precision) end
$$;
comment on function numeric_as_double(numeric) is
    'A numeric as double precision: null beyond its range, 0 below its smallest subnormal (casts never fail).';

-- The legs of the series (of_run, of_model) - a null of_model is the run's own series -
-- paired FIFO per asset and side: buy opens and sell closes a long, short opens and cover
-- closes a short, in (ts, seq) order (seq breaks ties in ts). A close takes the oldest open
-- quantity first; a partial fill splits a lot (a sell of 3 against buys of 2 and 5 closes
-- all of the first and 1 of the second: two round trips).
--
-- How, with window functions only (no loop, O(n log n)): per asset and side, the opens tile
-- the axis of quantity opened, open k covering [opened before k, opened up to k), and the
-- matched parts of the closes tile [0, quantity closed). FIFO pairs the quantity at the
-- same place on both axes, so a round trip is a piece of the axis between consecutive
-- boundaries of either tiling, and lies in one open and at most one close.
--
-- A close with nothing (or too little) open is a data error. It must not break the
-- pairing: the part of it that finds nothing open closes nothing and is reported as a row
-- of status 'unmatched' (exit fields set, entry fields null). The running position is the
-- running sum s of +open/-close quantities reflected at zero, s - least(0, running min of
-- s); the drop of that floor at a close is its unmatched part. Later opens are then
-- matched by later closes only, never by a close that came before them.
--
-- Rows: status 'closed' (a round trip), 'open' (quantity still open at the end of the log,
-- its exit fields null) and 'unmatched'. fee and slippage are the legs' costs prorated by
-- quantity: a round trip of quantity x carries x/q of its open leg's and x/q of its close
-- leg's (q the leg's quantity); an open row only its open leg's share, an unmatched row
-- only its close leg's. So the rows together carry every leg's costs. gross_pnl is
-- (exit - entry) * quantity for a long, (entry - exit) * quantity for a short; net_pnl =
-- gross_pnl - fee - slippage; net_return = net_pnl / (entry_price * quantity).
--
-- Arithmetic is numeric, read from double precision with 15 significant digits (as a
-- cast does): lots then split without float residues (buys of 0.1 and 0.2 are closed by
-- a sell of 0.3 exactly) and no product or sum can overflow. Results are converted back
-- by numeric_as_double, so a value beyond double precision's range is null, not an error.
create function trade_round_trips(of_run uuid, of_model uuid default null)
returns table (asset text, side text, status text, entry_seq bigint, exit_seq bigint,
               entry_ts timestamptz, exit_ts timestamptz, duration_s double precision,
               quantity double precision, entry_price double precision,
               exit_price double precision, gross_pnl double precision, fee double precision,
               slippage double precision, net_pnl double precision,
               net_return double precision)
language sql stable parallel safe
as $$
with legs as (
    select t.seq, t.ts, t.asset,
           case when t.action in ('buy', 'sell') then 'long' else 'short' end as side,
           t.action in ('buy', 'short') as opens,
           cast(t.quantity as numeric) as q,
           cast(t.price as numeric) as price,
           cast(coalesce(t.fee, 0) as numeric) as fee,
           cast(coalesce(t.slippage, 0) as numeric) as slippage
      from trade_logs t
     where t.run_id = of_run
       and (t.model_id = of_model or (of_model is null and t.model_id is null))
),
running as (
    -- opened, closed: quantities so far, this leg included; s: the position were every
    -- close matched.
    select l.*,
           sum(case when l.opens then l.q else 0 end) over w as opened,
           sum(case when l.opens then 0 else l.q end) over w as closed,
           sum(case when l.opens then l.q else -l.q end) over w as s
      from legs l
    window w as (partition by l.asset, l.side order by l.ts, l.seq rows unbounded preceding)
),
floored as (
    -- floor: minus the quantity closed with nothing open so far (never positive).
    select r.*, least(0, min(r.s) over w) as floor
      from running r
    window w as (partition by r.asset, r.side order by r.ts, r.seq rows unbounded preceding)
),
placed as (
    -- [lo, hi): an open's place on the axis of quantity opened; a close's matched part on
    -- the axis of quantity matched (hi - lo = q less the unmatched part, floor's drop).
    select f.*,
           case when f.opens then f.opened - f.q
                else f.closed - f.q + coalesce(lag(f.floor) over w, 0) end as lo,
           case when f.opens then f.opened else f.closed + f.floor end as hi
      from floored f
    window w as (partition by f.asset, f.side order by f.ts, f.seq)
),
opens as (
    select p.*, row_number() over (partition by p.asset, p.side order by p.lo) as n
      from placed p
     where p.opens
),
closes as (
    select p.*, row_number() over (partition by p.asset, p.side order by p.lo) as n
      from placed p
     where not p.opens and p.hi > p.lo
),
ends as (
    select p.asset, p.side,
           coalesce(max(p.hi) filter (where p.opens), 0) as opened_end,
           coalesce(max(p.hi) filter (where not p.opens), 0) as matched_end
      from placed p
     group by p.asset, p.side
),
cuts as (
    -- Every boundary of either tiling, and the end of the matched quantity (past it, what
    -- is open stays open).
    select o.asset, o.side, o.lo as pos, o.n as open_n, cast(null as bigint) as close_n from opens o
    union all
    select c.asset, c.side, c.lo, null, c.n from closes c
    union all
    select e.asset, e.side, e.matched_end, null, null from ends e
),
pieces as (
    -- From each boundary to the next: the open and the close whose tiles hold it (the last
    -- of each starting at or before it).
    select k.asset, k.side, k.pos,
           lead(k.pos) over w as next_pos,
           max(max(k.open_n)) over w as open_n,
           max(max(k.close_n)) over w as close_n
      from cuts k
     group by k.asset, k.side, k.pos
    window w as (partition by k.asset, k.side order by k.pos)
),
trips as (
    select p.asset, p.side, p.pos < e.matched_end as closed,
           coalesce(p.next_pos, e.opened_end) - p.pos as x,
           o.seq as o_seq, o.ts as o_ts, o.q as o_q, o.price as o_price, o.fee as o_fee,
           o.slippage as o_slippage,
           c.seq as c_seq, c.ts as c_ts, c.q as c_q, c.price as c_price, c.fee as c_fee,
           c.slippage as c_slippage
      from pieces p
      join ends e on e.asset = p.asset and e.side = p.side
      join opens o on o.asset = p.asset and o.side = p.side and o.n = p.open_n
      left join closes c on p.pos < e.matched_end
                        and c.asset = p.asset and c.side = p.side and c.n = p.close_n
     where coalesce(p.next_pos, e.opened_end) > p.pos
    union all
    -- What closed nothing.
    select p.asset, p.side, null, p.q - (p.hi - p.lo),
           null, null, null, null, null, null,
           p.seq, p.ts, p.q, p.price, p.fee, p.slippage
      from placed p
     where not p.opens and p.q > p.hi - p.lo
),
valued as (
    select t.*,
           case when t.closed then (t.c_price - t.o_price) * t.x
                                   * case when t.side = 'long' then 1 else -1 end end as gross,
           coalesce(t.o_fee * t.x / t.o_q, 0) + coalesce(t.c_fee * t.x / t.c_q, 0) as fees,
           coalesce(t.o_slippage * t.x / t.o_q, 0) + coalesce(t.c_slippage * t.x / t.c_q, 0)
               as slip
      from trips t
)
select v.asset, v.side,
       case when v.closed then 'closed' when v.closed is null then 'unmatched' else 'open' end,
       v.o_seq, v.c_seq, v.o_ts, v.c_ts,
       cast(extract(epoch from v.c_ts - v.o_ts) as double precision),
       numeric_as_double(v.x), numeric_as_double(v.o_price), numeric_as_double(v.c_price),
       numeric_as_double(v.gross), numeric_as_double(v.fees), numeric_as_double(v.slip),
       numeric_as_double(v.gross - v.fees - v.slip),
       numeric_as_double((v.gross - v.fees - v.slip) / nullif(v.o_price * v.x, 0))
  from valued v
$$;
comment on function trade_round_trips(uuid, uuid) is
    'A trade log''s legs paired FIFO into round trips per asset and side, with open lots and unmatched closes (docs/statistics.md).';
