"""Series and statistics through ResultsDB: the same results as the module functions,
taking records as well as ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from resultsdb import series
from resultsdb.api import ResultsDB
from resultsdb.errors import InvalidInput, NotFound
from resultsdb.records import Experiment
from resultsdb.stats import deflated_sharpe, pbo, run_stats
from tests.api.conftest import MISSING_ID

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def curve(n: int, seed: int, drift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    values = 100 * np.cumprod(1 + drift + rng.normal(0, 0.01, n))
    return pd.DataFrame({"ts": pd.date_range(T0, periods=n, freq="D"), "portfolio_value": values})


def test_equity_and_trades_round_trip_through_the_api(rdb: ResultsDB, exp: Experiment) -> None:
    run = rdb.start_run(exp, "bt", run_type="backtest")
    frame = curve(500, seed=1)
    written = rdb.write_equity(run, frame, batch_key="first")
    assert written.written and written.row_count == 500
    assert not rdb.write_equity(run, frame, batch_key="first").written  # a retry stores nothing
    back = rdb.read_equity(run)
    assert back["portfolio_value"].to_numpy().tobytes() == frame["portfolio_value"].to_numpy().tobytes()
    assert back["ts"].equals(frame["ts"].dt.as_unit("us").rename("ts"))
    pd.testing.assert_frame_equal(back, series.read_equity(rdb.db, run.id))
    assert rdb.read_equity_arrow(run, start=T0 + timedelta(days=10)).num_rows == 490
    hourly = rdb.read_equity(run, every=timedelta(days=7))
    assert 0 < len(hourly) < 500

    trades = pd.DataFrame({"ts": [T0, T0 + timedelta(days=1)], "asset": ["BTC", "BTC"],
                           "action": ["buy", "sell"], "price": [100.0, 110.0],
                           "quantity": [1.0, 1.0], "pnl": pd.array([None, 10.0], dtype="Float64")})
    assert rdb.write_trades(run, trades).row_count == 2
    got = rdb.read_trades(run)
    assert got["seq"].tolist() == [0, 1] and got["pnl"].tolist()[1] == 10.0

    other = rdb.start_run(exp, "bt2", run_type="backtest")
    rdb.write_equity(other, curve(500, seed=2))
    side = rdb.compare_equity({"a": run, "b": other})
    assert list(side.columns) == ["a", "b"] and len(side) == 500


def test_stats_take_records_and_store_into_summary_metrics(rdb: ResultsDB, exp: Experiment) -> None:
    run = rdb.start_run(exp, "bt", run_type="backtest")
    rdb.write_equity(run, curve(300, seed=3, drift=0.001))
    stats = rdb.run_stats(run, periods_per_year=365)
    assert stats == run_stats(rdb.db, run.id, periods_per_year=365)
    assert rdb.get_run(run).summary_metrics == {}  # run_stats stores nothing
    stored = rdb.compute_stats(run, periods_per_year=365)
    metrics = rdb.get_run(run).summary_metrics
    assert metrics["sharpe"] == stored.sharpe and metrics["stats_periods_per_year"] == 365
    with pytest.raises(NotFound):
        rdb.run_stats(MISSING_ID)
    with pytest.raises(InvalidInput) as err:
        rdb.compute_stats(run, periods_per_year=0)
    assert err.value.field == "periods_per_year"


def test_overfitting_of_a_search_through_the_api(rdb: ResultsDB, exp: Experiment) -> None:
    search = rdb.start_run(exp, "search", run_type="hyperparameter_tuning")
    for j in range(6):
        with rdb.run(exp, f"trial {j}", run_type="backtest", parent=search) as child:
            rdb.write_equity(child, curve(200, seed=10 + j, drift=0.002 if j == 4 else 0.0))
    dsr = rdb.deflated_sharpe(search)
    assert dsr == deflated_sharpe(rdb.db, search.id)
    assert dsr.search_run_id == search.id and 0.0 <= dsr.dsr <= 1.0
    cv = rdb.pbo(search, n_blocks=4)
    assert cv == pbo(rdb.db, search.id, n_blocks=4) and 0.0 <= cv.pbo <= 1.0
    with pytest.raises(NotFound):
        rdb.pbo(exp.id)  # an experiment's id is no run's
    with pytest.raises(InvalidInput, match="expected a Run"):
        rdb.pbo(exp)  # and an Experiment is refused by its type, before any lookup
    with pytest.raises(InvalidInput) as err:
        rdb.deflated_sharpe("search-7")
    assert err.value.field == "search_run"
