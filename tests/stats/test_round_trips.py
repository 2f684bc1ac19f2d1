"""Round trips and trade statistics (sql/queries/trades.sql) against a FIFO written here in plain
Python - a deque of lots per asset and side, Decimal quantities - which shares nothing with
the SQL's cumulative-interval pairing; on hand-worked logs and seeded random ones."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from resultsdb.api import ResultsDB
from resultsdb.errors import InvalidInput, NotFound
from resultsdb.records import Model, RoundTrip, Run, TradeStats
from resultsdb.repositories import models
from resultsdb.series import write_equity, write_trades
from tests.stats.conftest import T0, MakeRun

TOL = 1e-9


@pytest.fixture
def rdb(db_url: str) -> Iterator[ResultsDB]:
    with ResultsDB(url=db_url) as r:
        yield r


# -- the reference ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Leg:
    seq: int
    ts: datetime
    asset: str
    action: str
    price: float
    quantity: float
    fee: float | None = None
    slippage: float | None = None


def reference_trips(legs: Sequence[Leg]) -> list[dict[str, Any]]:
    """Closed round trips and unmatched closes in exit order, then open lots in entry order."""
    books: dict[tuple[str, str], deque[list[Any]]] = defaultdict(deque)
    done: list[dict[str, Any]] = []
    for leg in sorted(legs, key=lambda g: (g.ts, g.seq)):
        side = "long" if leg.action in ("buy", "sell") else "short"
        size = Decimal(repr(leg.quantity))
        book = books[(leg.asset, side)]
        if leg.action in ("buy", "short"):
            book.append([leg, size])
            continue
        left = size
        while left > 0 and book:
            lot = book[0]
            x = min(left, lot[1])
            done.append(_trip(lot[0], leg, side, x))
            lot[1] -= x
            left -= x
            if lot[1] == 0:
                book.popleft()
        if left > 0:
            done.append(_trip(None, leg, side, left))
    still_open = [_trip(leg, None, side, rest) for (_, side), book in books.items()
                  for leg, rest in book]
    return done + sorted(still_open, key=lambda t: (t["entry_ts"], t["entry_seq"]))


def _share(leg: Leg | None, cost: str, x: float) -> float:
    value = None if leg is None else getattr(leg, cost)
    return 0.0 if leg is None or value is None else value * x / leg.quantity


def _trip(entry: Leg | None, exit: Leg | None, side: str, size: Decimal) -> dict[str, Any]:
    x = float(size)
    fee = _share(entry, "fee", x) + _share(exit, "fee", x)
    slippage = _share(entry, "slippage", x) + _share(exit, "slippage", x)
    trip: dict[str, Any] = {
        "asset": (entry or exit).asset, "side": side,  # type: ignore[union-attr]
        "status": "closed" if entry and exit else "open" if entry else "unmatched",
        "entry_seq": entry and entry.seq, "exit_seq": exit and exit.seq,
        "entry_ts": entry and entry.ts, "exit_ts": exit and exit.ts, "quantity": x,
        "entry_price": entry and entry.price, "exit_price": exit and exit.price,
        "fee": fee, "slippage": slippage, "duration_s": None, "gross_pnl": None,
        "net_pnl": None, "net_return": None}
    if entry and exit:
        sign = 1 if side == "long" else -1
        gross = (exit.price - entry.price) * x * sign
        trip.update(duration_s=(exit.ts - entry.ts).total_seconds(), gross_pnl=gross,
                    net_pnl=gross - fee - slippage,
                    net_return=(gross - fee - slippage) / (entry.price * x))
    return trip


def reference_stats(legs: Sequence[Leg], curve: Sequence[float]) -> dict[str, Any]:
    trips = reference_trips(legs)
    closed = [t for t in trips if t["status"] == "closed"]
    nets = [t["net_pnl"] for t in closed]
    held = [t["duration_s"] for t in closed]
    streaks = {1: 0, -1: 0}
    run, last = 0, 0
    for net in nets:  # in exit order
        sign = (net > 0) - (net < 0)
        run = run + 1 if sign == last else 1
        last = sign
        if sign:
            streaks[sign] = max(streaks[sign], run)
    wins, losses = sum(n > 0 for n in nets), sum(n < 0 for n in nets)
    notional = sum(abs(g.price * g.quantity) for g in legs)
    mean_value = statistics.fmean(curve) if curve else None
    return {
        "round_trips": len(closed), "winning": wins, "losing": losses,
        "open_lots": sum(t["status"] == "open" for t in trips),
        "unmatched_closes": sum(t["status"] == "unmatched" for t in trips),
        "win_rate": wins / (wins + losses) if wins + losses else None,
        "expectancy": statistics.fmean(nets) if nets else None,
        "avg_holding_s": statistics.fmean(held) if held else None,
        "median_holding_s": statistics.median(held) if held else None,
        "longest_win_streak": streaks[1], "longest_loss_streak": streaks[-1],
        "best_trade": max(nets) if nets else None, "worst_trade": min(nets) if nets else None,
        "gross_pnl": math.fsum(t["gross_pnl"] for t in closed),
        "net_pnl": math.fsum(nets), "fees": math.fsum(t["fee"] for t in closed),
        "slippage": math.fsum(t["slippage"] for t in closed),
        "traded_notional": notional, "mean_portfolio_value": mean_value,
        "turnover": notional / mean_value if mean_value else None,
    }


# -- comparing -------------------------------------------------------------------------------


def close(got: Any, want: Any) -> bool:
    if want is None or got is None:
        return got is None and want is None
    if isinstance(want, float) or isinstance(got, float):
        return math.isclose(got, want, rel_tol=TOL, abs_tol=TOL)
    return bool(got == want)


def assert_trips(got: list[RoundTrip], want: list[dict[str, Any]]) -> None:
    assert len(got) == len(want), ([g.status for g in got], [w["status"] for w in want])
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        bad = {k: (getattr(g, k), v) for k, v in w.items() if not close(getattr(g, k), v)}
        assert not bad, f"round trip {i} ({w['asset']} {w['side']} {w['status']}): {bad}"


def assert_stats(got: TradeStats, want: dict[str, Any]) -> None:
    bad = {k: (getattr(got, k), v) for k, v in want.items() if not close(getattr(got, k), v)}
    assert not bad, bad


def store(rdb: ResultsDB, run: Run, legs: Sequence[Leg], model: Model | None = None) -> None:
    write_trades(rdb.db, run.id, None if model is None else model.id, [
        {"seq": g.seq, "ts": g.ts, "asset": g.asset, "action": g.action, "price": g.price,
         "quantity": g.quantity, "fee": g.fee, "slippage": g.slippage} for g in legs])


def legs_of(*rows: tuple[str, str, float, float], fee: float | None = None,
            step: timedelta = timedelta(hours=1)) -> list[Leg]:
    return [Leg(i, T0 + i * step, asset, action, price, quantity, fee)
            for i, (asset, action, quantity, price) in enumerate(rows)]


# -- hand-worked -----------------------------------------------------------------------------


def test_a_partial_fill_splits_the_lot_fifo(rdb: ResultsDB, make_run: MakeRun) -> None:
    run = make_run()
    legs = legs_of(("BTC", "buy", 2, 100.0), ("BTC", "buy", 5, 110.0), ("BTC", "sell", 3, 120.0),
                   fee=1.0)
    store(rdb, run, legs)
    trips = rdb.round_trips(run)
    assert [(t.status, t.entry_seq, t.exit_seq, t.quantity) for t in trips] == [
        ("closed", 0, 2, 2.0), ("closed", 1, 2, 1.0), ("open", 1, None, 4.0)]
    first = trips[0]
    # all of the first buy's fee, 2/3 of the sell's
    assert first.gross_pnl == 40.0 and first.fee == pytest.approx(1 + 2 / 3, abs=1e-12)
    assert first.net_pnl == pytest.approx(40 - 5 / 3) and first.duration_s == 7200.0
    assert first.net_return == pytest.approx((40 - 5 / 3) / 200)
    assert trips[1].fee == pytest.approx(1 / 5 + 1 / 3) and trips[1].gross_pnl == 10.0
    assert trips[2].fee == pytest.approx(4 / 5) and trips[2].net_pnl is None
    assert_trips(trips, reference_trips(legs))


def test_shorts_pair_with_covers_and_a_close_with_nothing_open_is_reported(
        rdb: ResultsDB, make_run: MakeRun) -> None:
    run = make_run()
    legs = legs_of(("ETH", "cover", 1, 50.0), ("ETH", "short", 2, 60.0), ("ETH", "sell", 1, 55.0),
                   ("ETH", "cover", 3, 40.0), ("ETH", "buy", 1, 41.0))
    store(rdb, run, legs)
    trips = rdb.round_trips(run)
    assert [(t.status, t.side, t.entry_seq, t.exit_seq, t.quantity) for t in trips] == [
        ("unmatched", "short", None, 0, 1.0),  # a cover before any short
        ("unmatched", "long", None, 2, 1.0),   # a sell before any buy: the short is no long
        ("closed", "short", 1, 3, 2.0),
        ("unmatched", "short", None, 3, 1.0),  # the cover's third unit found nothing
        ("open", "long", 4, None, 1.0)]
    assert trips[2].gross_pnl == 40.0  # (60 - 40) x 2, a short
    assert trips[0].entry_ts is None and trips[0].net_pnl is None
    assert_trips(trips, reference_trips(legs))
    stats = rdb.trade_stats(run)
    assert (stats.round_trips, stats.open_lots, stats.unmatched_closes) == (1, 1, 3)


def test_lots_split_without_float_residue(rdb: ResultsDB, make_run: MakeRun) -> None:
    run = make_run()
    legs = legs_of(("X", "buy", 0.1, 1.0), ("X", "buy", 0.2, 1.0), ("X", "sell", 0.1 + 0.2, 2.0))
    store(rdb, run, legs)
    assert [(t.status, t.quantity) for t in rdb.round_trips(run)] == [("closed", 0.1), ("closed", 0.2)]


def test_an_empty_log_and_unknown_references(rdb: ResultsDB, make_run: MakeRun) -> None:
    run = make_run()
    assert rdb.round_trips(run) == []
    stats = rdb.trade_stats(run)
    assert (stats.round_trips, stats.longest_win_streak, stats.gross_pnl, stats.traded_notional) == \
        (0, 0, 0.0, 0.0)
    assert stats.win_rate is None and stats.expectancy is None and stats.median_holding_s is None
    assert stats.best_trade is None and stats.turnover is None  # no curve
    missing = "01900000-0000-7000-8000-0000000000ff"
    with pytest.raises(NotFound):
        rdb.round_trips(missing)
    with pytest.raises(NotFound):
        rdb.trade_stats(missing)
    with pytest.raises(NotFound):
        rdb.round_trips(run, model=missing)
    with pytest.raises(InvalidInput):
        rdb.round_trips(run, model=run)  # a Run where a model goes


def test_extreme_values_give_nulls_not_errors(rdb: ResultsDB, make_run: MakeRun) -> None:
    """Products and sums beyond double precision are null; nothing stored fails the query."""
    run = make_run()
    legs = [Leg(0, T0, "Z", "buy", 1e300, 1e300, fee=1e308), Leg(1, T0, "Z", "buy", 1e300, 1e300, fee=1e308),
            Leg(2, T0, "Z", "sell", 1.7976931348623157e308, 2e300, fee=1e308, slippage=1e308),
            Leg(3, T0, "W", "short", 5e-324, 1e-310), Leg(4, T0, "W", "cover", 5e-324, 1e-310)]
    store(rdb, run, legs)
    trips = rdb.round_trips(run)
    assert [t.status for t in trips] == ["closed", "closed", "closed"]
    assert trips[0].gross_pnl is None and trips[0].net_pnl is None  # ~1e608
    assert trips[2].gross_pnl == 0.0 and trips[2].quantity == pytest.approx(1e-310)
    write_equity(rdb.db, run.id, None, [(T0, 1e308), (T0 + timedelta(days=1), 1e308)])
    stats = rdb.trade_stats(run)
    assert stats.round_trips == 3 and stats.gross_pnl is None and stats.fees is None
    assert stats.traded_notional is None and stats.mean_portfolio_value == 1e308


# -- seeded random logs -----------------------------------------------------------------------


def random_log(seed: int, n: int = 400) -> list[Leg]:
    """Several assets, long and short, partial fills, ties in ts, closes with nothing open,
    lots left open; quantities and prices with few decimals (exact at 15 digits)."""
    rng = np.random.default_rng(seed)
    legs: list[Leg] = []
    at = T0
    for i in range(n):
        at += timedelta(minutes=int(rng.choice([0, 0, 1, 7, 60])))  # ties: seq orders them
        action = str(rng.choice(["buy", "buy", "sell", "sell", "short", "cover"],
                                p=[0.2, 0.1, 0.25, 0.05, 0.2, 0.2]))
        legs.append(Leg(
            seq=i, ts=at, asset=str(rng.choice(["BTC", "ETH", "SOL"])), action=action,
            price=round(float(rng.uniform(10, 200)), 2),
            quantity=round(float(rng.uniform(0.001, 6)), 3),
            fee=None if rng.random() < 0.2 else round(float(rng.uniform(0, 2)), 4),
            slippage=None if rng.random() < 0.5 else round(float(rng.uniform(0, 1)), 4)))
    return legs


@pytest.mark.parametrize("seed", range(6))
def test_random_logs_match_the_reference(rdb: ResultsDB, make_run: MakeRun, seed: int) -> None:
    run = make_run()
    legs = random_log(seed)
    store(rdb, run, legs)
    want = reference_trips(legs)
    statuses = {t["status"] for t in want}
    assert statuses == {"closed", "open", "unmatched"}  # the log tries every case
    assert {t["side"] for t in want} == {"long", "short"}
    assert any(t["quantity"] != legs[t["entry_seq"]].quantity for t in want if t["entry_seq"] is not None)
    assert_trips(rdb.round_trips(run), want)

    curve: list[float] = []
    if seed % 2:  # half of them with an equity curve: turnover is then defined
        rng = np.random.default_rng(seed + 100)
        curve = (1000 * np.cumprod(1 + rng.normal(0, 0.01, 250))).tolist()
        write_equity(rdb.db, run.id, None, [(T0 + timedelta(days=i), v) for i, v in enumerate(curve)])
    assert_stats(rdb.trade_stats(run), reference_stats(legs, curve))


def test_a_models_log_is_its_own_series(rdb: ResultsDB, make_run: MakeRun) -> None:
    run = make_run()
    model = rdb.db.write(lambda c: models.create(c, {"run_id": run.id, "model_type": "dqn",
                                                     "name": "trips-model"}))
    own, its = random_log(11, 120), random_log(12, 80)
    store(rdb, run, own)
    store(rdb, run, its, model)
    assert_trips(rdb.round_trips(run), reference_trips(own))
    assert_trips(rdb.round_trips(run, model=model), reference_trips(its))
    assert_stats(rdb.trade_stats(run, model=model.id), reference_stats(its, []))
