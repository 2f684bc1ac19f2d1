from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from resultsdb.db import Database
from resultsdb.errors import AlreadyExists, InvalidInput
from resultsdb.records import Model, Run
from resultsdb.repositories import series
from tests.repositories.conftest import T0


def curve(n: int, start: float = 100.0) -> list[dict[str, object]]:
    return [{"ts": T0 + timedelta(hours=i), "portfolio_value": start + i * 0.1,
             "benchmark_value": 100.0, "drawdown": 0.0} for i in range(n)]


def test_points_round_trip(db: Database, run: Run, model: Model) -> None:
    assert db.write(lambda c: series.insert_points(c, run.id, curve(250))) == 250
    assert db.write(lambda c: series.insert_points(c, run.id, curve(3, 50.0),
                                                   model_id=model.id)) == 3
    points = db.read(lambda c: series.points(c, run.id))
    assert len(points) == 250
    assert [p.ts for p in points] == sorted(p.ts for p in points)
    assert points[1].portfolio_value == 100.1  # floats survive the JSON batch exactly
    assert [p.portfolio_value for p in db.read(lambda c: series.points(
        c, run.id, model_id=model.id))] == [50.0, 50.1, 50.2]


def test_a_bad_point_rejects_the_batch(db: Database, run: Run, unchanged) -> None:
    points = curve(5)
    points[3] = {**points[3], "drawdown": -0.5}
    with unchanged(), pytest.raises(InvalidInput) as err:
        db.write(lambda c: series.insert_points(c, run.id, points))
    assert err.value.field == "points"
    assert "equity_curves.points[3].drawdown" in str(err.value)
    naive = [{"ts": datetime(2024, 1, 1), "portfolio_value": 1.0}]
    with unchanged(), pytest.raises(InvalidInput, match=r"points\[0\]\.ts"):
        db.write(lambda c: series.insert_points(c, run.id, naive))


def test_duplicate_timestamps_are_refused(db: Database, run: Run, unchanged) -> None:
    db.write(lambda c: series.insert_points(c, run.id, curve(2)))
    with unchanged(), pytest.raises(AlreadyExists):
        db.write(lambda c: series.insert_points(c, run.id, curve(3)))


def test_trades_round_trip(db: Database, run: Run) -> None:
    trades = [{"seq": i, "ts": T0 + timedelta(minutes=i), "asset": "BTCUSDT",
               "action": "buy" if i % 2 == 0 else "sell", "price": 42000.5, "quantity": 0.25,
               "pnl": None if i % 2 == 0 else 12.5,
               "metadata": {"signal": "x"} if i == 0 else None} for i in range(4)]
    assert db.write(lambda c: series.insert_trades(c, run.id, trades)) == 4
    stored = db.read(lambda c: series.trades(c, run.id))
    assert [t.seq for t in stored] == [0, 1, 2, 3]
    assert (stored[0].metadata, stored[1].metadata) == ({"signal": "x"}, None)
    assert (stored[0].pnl, stored[1].pnl) == (None, 12.5)


@pytest.mark.parametrize(("change", "field"), [
    ({"action": "hold"}, "action"),
    ({"price": 0.0}, "price"),
    ({"quantity": float("inf")}, "quantity"),
    ({"asset": ""}, "asset"),
    ({"seq": -1}, "seq"),
    ({"metadata": ["a"]}, "metadata"),
])
def test_bad_trades_are_refused(db: Database, run: Run, unchanged, change: dict[str, object],
                                field: str) -> None:
    trade = {"seq": 0, "ts": T0, "asset": "BTC", "action": "buy", "price": 1.0, "quantity": 1.0,
             **change}
    with unchanged(), pytest.raises(InvalidInput) as err:
        db.write(lambda c: series.insert_trades(c, run.id, [trade]))
    assert f"trade_logs.trades[0].{field}" in str(err.value)
