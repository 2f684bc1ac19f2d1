"""The SQL trading statistics against an independent numpy implementation written here,
on hand-worked examples, random series and the edge cases docs/statistics.md lists."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest

from resultsdb.db import Database
from resultsdb.errors import InvalidInput, NotFound
from resultsdb.records import RunStats
from resultsdb.repositories import models, runs
from resultsdb.stats import STATS_KEYS, compute_stats, run_stats
from tests.stats.conftest import T0, MakeRun, daily, write_curve, write_pnls

REL = 1e-9

# -- the reference: plain numpy and Python loops, sharing nothing with the SQL ----------------


def reference(ts: Sequence[datetime], values: Sequence[float], pnls: Sequence[float | None],
              periods_per_year: float = 252, risk_free: float = 0.0) -> dict[str, Any]:
    ppy, rf = periods_per_year, risk_free
    v = np.asarray(values, dtype=float)
    n = len(v)
    out: dict[str, Any] = dict.fromkeys(
        ("total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown",
         "max_drawdown_days", "longest_drawdown_days", "calmar", "exposure", "period_win_rate"))
    out.update(points=n, periods=0)
    if n and np.all(v > 0):
        r = v[1:] / v[:-1] - 1
        out["periods"] = len(r)
        rf_p = (1 + rf) ** (1 / ppy) - 1
        excess = r - rf_p
        out["total_return"] = v[-1] / v[0] - 1
        years = (ts[-1] - ts[0]).total_seconds() / (365 * 86400)
        if years > 0:
            out["cagr"] = (v[-1] / v[0]) ** (1 / years) - 1
        if len(r) >= 2:
            sd = r.std(ddof=1)
            out["volatility"] = sd * math.sqrt(ppy)
            if sd > 0:
                out["sharpe"] = excess.mean() / sd * math.sqrt(ppy)
        if len(r):
            downside = math.sqrt(float(np.sum(np.minimum(excess, 0) ** 2)) / len(r))
            if downside > 0:
                out["sortino"] = excess.mean() / downside * math.sqrt(ppy)
            out["exposure"] = np.count_nonzero(r) / len(r)
            if np.count_nonzero(r):
                out["period_win_rate"] = np.count_nonzero(r > 0) / np.count_nonzero(r)
        # Drawdown episodes by walking the curve: (peak time, depth, end time).
        episodes: list[list[Any]] = []
        peak, peak_t, current = v[0], ts[0], None
        for t, x in zip(ts, v, strict=True):
            if x >= peak:
                if current is not None:
                    current[2] = t
                    episodes.append(current)
                    current = None
                peak, peak_t = x, t
            else:
                depth = 1 - x / peak
                if current is None:
                    current = [peak_t, depth, None]
                current[1] = max(current[1], depth)
        if current is not None:
            current[2] = ts[-1]
            episodes.append(current)
        days = [(e[2] - e[0]).total_seconds() / 86400 for e in episodes]
        deepest = None
        for e, d in zip(episodes, days, strict=True):
            if deepest is None or e[1] > deepest[0]:
                deepest = (e[1], d)
        out["max_drawdown"] = deepest[0] if deepest else 0.0
        out["max_drawdown_days"] = deepest[1] if deepest else 0.0
        out["longest_drawdown_days"] = max(days, default=0.0)
        if out["cagr"] is not None and out["max_drawdown"] > 0:
            out["calmar"] = out["cagr"] / out["max_drawdown"]
    wins = [p for p in pnls if p is not None and p > 0]
    losses = [p for p in pnls if p is not None and p < 0]
    out.update(trade_count=len(pnls), winning_trades=len(wins), losing_trades=len(losses),
               win_rate=len(wins) / (len(wins) + len(losses)) if wins or losses else None,
               profit_factor=sum(wins) / -sum(losses) if losses else None,
               avg_win=float(np.mean(wins)) if wins else None,
               avg_loss=float(np.mean(losses)) if losses else None)
    return out


def assert_matches(stats: RunStats, expected: dict[str, Any]) -> None:
    for key, want in expected.items():
        got = getattr(stats, key)
        if want is None or got is None:
            assert got is None and want is None, f"{key}: got {got}, expected {want}"
        elif isinstance(want, int) and not isinstance(want, bool):
            assert got == want, f"{key}: got {got}, expected {want}"
        else:
            # Relative error <= 1e-9; an exact 0 must come out as (nearly) 0.
            assert math.isclose(got, want, rel_tol=REL, abs_tol=1e-15), \
                f"{key}: got {got!r}, expected {want!r}, rel err {abs(got - want) / abs(want):.2e}"


def stats_for(db: Database, make_run: MakeRun, values: Sequence[float],
              pnls: Sequence[float | None] = (), ts: Sequence[datetime] | None = None,
              **params: float) -> tuple[RunStats, dict[str, Any]]:
    run = make_run()
    stamps = list(ts) if ts is not None else daily(len(values))
    write_curve(db, run.id, values, stamps)
    write_pnls(db, run.id, pnls)
    return run_stats(db, run.id, **params), reference(stamps, values, pnls, **params)


# -- hand-worked ----------------------------------------------------------------------------


def test_hand_worked_example(db: Database, make_run: MakeRun) -> None:
    # Returns +10%, -10%, 0, +20% on 2024-01-01 .. 05; trades win 50 and 30, lose 20 and
    # 10, one scratch (0) and one opening leg (no pnl).
    stats, _ = stats_for(db, make_run, [100, 110, 99, 99, 118.8], [50, -20, 0, None, 30, -10])
    sd = math.sqrt((0.05**2 + 0.15**2 + 0.05**2 + 0.15**2) / 3)  # mean 0.05, ddof=1
    cagr = 1.188 ** (365 / 4) - 1
    assert_matches(stats, {
        "points": 5, "periods": 4, "total_return": 0.188, "cagr": cagr,
        "volatility": sd * math.sqrt(252), "sharpe": 0.05 / sd * math.sqrt(252),
        # Only -10% is below 0: sqrt(0.1^2 / 4) = 0.05, so Sortino = sqrt(252).
        "sortino": math.sqrt(252),
        # 110 -> 99 is the drawdown; 118.8 on Jan 5 regains the Jan 2 peak: 3 days.
        "max_drawdown": 0.1, "max_drawdown_days": 3.0, "longest_drawdown_days": 3.0,
        "calmar": cagr / 0.1, "exposure": 0.75, "period_win_rate": 2 / 3,
        "trade_count": 6, "winning_trades": 2, "losing_trades": 2, "win_rate": 0.5,
        "profit_factor": 80 / 30, "avg_win": 40.0, "avg_loss": -15.0,
    })
    assert stats.start_ts == T0 and stats.end_ts == T0 + timedelta(days=4)
    assert stats.stats_version == 1 and stats.periods_per_year == 252 and stats.risk_free == 0


def test_risk_free_is_compounded_down_to_one_period(db: Database, make_run: MakeRun) -> None:
    stats, expected = stats_for(db, make_run, [100, 110, 99, 99, 118.8], periods_per_year=12,
                                risk_free=0.05)
    rf_p = 1.05 ** (1 / 12) - 1
    sd = math.sqrt(0.05 / 3)
    assert math.isclose(stats.sharpe, (0.05 - rf_p) / sd * math.sqrt(12), rel_tol=REL)
    # Below the risk-free rate now: -10% and the flat period.
    downside = math.sqrt(((-0.1 - rf_p) ** 2 + rf_p**2) / 4)
    assert math.isclose(stats.sortino, (0.05 - rf_p) / downside * math.sqrt(12), rel_tol=REL)
    assert_matches(stats, expected)


# -- random series ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_random_series_match_the_reference(db: Database, make_run: MakeRun, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(50, 400))
    # Irregular times (gaps of 1 h to 3 days) and a sticky curve: some periods are flat.
    gaps = np.cumsum(rng.integers(3600, 3 * 86400, n))
    ts = [T0 + timedelta(seconds=int(g)) for g in gaps]
    r = rng.normal(0.0005, 0.02, n - 1) * (rng.random(n - 1) > 0.15)
    values = 1000 * np.cumprod(np.concatenate([[1.0], 1 + r]))
    pnls: list[float | None] = [None if rng.random() < 0.2 else float(x)
                                for x in np.round(rng.normal(1, 10, int(rng.integers(0, 60))), 2)]
    ppy = float(rng.choice([252, 365, 8760]))
    rf = float(rng.choice([0.0, 0.03]))
    stats, expected = stats_for(db, make_run, values.tolist(), pnls, ts,
                                periods_per_year=ppy, risk_free=rf)
    assert stats.max_drawdown and stats.max_drawdown > 0  # the case is not trivial
    assert_matches(stats, expected)


# -- edge cases (each documented in docs/statistics.md) ---------------------------------------


EDGES: dict[str, tuple[list[float], list[float | None], dict[str, Any]]] = {
    "flat curve": ([100.0] * 5, [], {
        "total_return": 0.0, "cagr": 0.0, "volatility": 0.0, "sharpe": None, "sortino": None,
        "max_drawdown": 0.0, "max_drawdown_days": 0.0, "calmar": None, "exposure": 0.0,
        "period_win_rate": None}),
    "one point": ([100.0], [], {
        "points": 1, "periods": 0, "total_return": 0.0, "cagr": None, "volatility": None,
        "sharpe": None, "sortino": None, "max_drawdown": 0.0, "max_drawdown_days": 0.0,
        "calmar": None, "exposure": None}),
    "two points": ([100.0, 90.0], [], {
        "periods": 1, "total_return": -0.1, "volatility": None, "sharpe": None,
        "sortino": -math.sqrt(252), "max_drawdown": 0.1, "max_drawdown_days": 1.0}),
    "negative returns only": ([100.0, 95.0, 85.0, 84.0, 70.0], [], {
        "total_return": -0.3, "max_drawdown": 0.3, "max_drawdown_days": 4.0,
        "period_win_rate": 0.0, "exposure": 1.0}),
    "no points": ([], [], {
        "points": 0, "periods": 0, "total_return": None, "max_drawdown": None,
        "max_drawdown_days": None, "exposure": None}),
    "touches zero": ([100.0, 0.0, 50.0], [], {
        "points": 3, "periods": 0, "total_return": None, "cagr": None, "sharpe": None,
        "max_drawdown": None}),
    "all losing trades": ([100.0, 101.0], [-1.0, -2.0, -3.0], {
        "trade_count": 3, "win_rate": 0.0, "profit_factor": 0.0, "avg_win": None, "avg_loss": -2.0}),
    "no trades": ([100.0, 101.0], [], {
        "trade_count": 0, "win_rate": None, "profit_factor": None, "avg_win": None,
        "avg_loss": None}),
    "only winning trades": ([100.0, 101.0], [5.0, None, 0.0], {
        "trade_count": 3, "winning_trades": 1, "losing_trades": 0, "win_rate": 1.0,
        "profit_factor": None, "avg_loss": None}),
}


@pytest.mark.parametrize("case", list(EDGES))
def test_edge_cases(db: Database, make_run: MakeRun, case: str) -> None:
    values, pnls, documented = EDGES[case]
    stats, expected = stats_for(db, make_run, values, pnls)
    assert_matches(stats, documented)
    assert_matches(stats, expected)  # the reference agrees with the documented results


def test_negative_returns_give_negative_ratios(db: Database, make_run: MakeRun) -> None:
    stats, _ = stats_for(db, make_run, [100.0, 95.0, 85.0, 84.0, 70.0])
    assert stats.sharpe is not None and stats.sharpe < 0
    assert stats.sortino is not None and stats.sortino < 0
    assert stats.cagr is not None and stats.cagr < 0 and stats.calmar is not None and stats.calmar < 0


def test_unrecovered_and_tied_drawdowns(db: Database, make_run: MakeRun) -> None:
    # Two 20% drawdowns: the first (Jan 2 -> Jan 4, 2 days) is the deepest by the tie rule;
    # the second never recovers and is the longest (Jan 5 -> Jan 9, 4 days).
    values = [100, 120, 96, 120, 150, 140, 130, 120, 125]
    stats, expected = stats_for(db, make_run, values)
    assert stats.max_drawdown == pytest.approx(0.2, rel=REL)
    assert stats.max_drawdown_days == 2.0 and stats.longest_drawdown_days == 4.0
    assert_matches(stats, expected)


# -- series selection, errors, storing -----------------------------------------------------


def test_each_model_has_its_own_series(db: Database, make_run: MakeRun) -> None:
    run = make_run()
    model = db.write(lambda c: models.create(c, {"run_id": run.id, "model_type": "dqn",
                                                 "name": "m"}))
    write_curve(db, run.id, [100, 110, 121])
    write_curve(db, run.id, [100, 90], model_id=model.id)
    write_pnls(db, run.id, [1.0, -1.0], model_id=model.id)
    own, of_model = run_stats(db, run.id), run_stats(db, run.id, model.id)
    assert own.model_id is None and own.total_return == pytest.approx(0.21) and own.trade_count == 0
    assert of_model.model_id == model.id and of_model.total_return == pytest.approx(-0.1)
    assert of_model.trade_count == 2


def test_unknown_run_and_bad_parameters(db: Database, make_run: MakeRun) -> None:
    with pytest.raises(NotFound, match="runs: no row with run_id=01900000"):
        run_stats(db, "01900000-0000-7000-8000-000000000000")
    run = make_run()
    for params, field in [({"periods_per_year": 0}, "periods_per_year"),
                          ({"periods_per_year": math.inf}, "periods_per_year"),
                          ({"risk_free": -1.0}, "risk_free"),
                          ({"risk_free": math.nan}, "risk_free")]:
        with pytest.raises(InvalidInput) as info:
            run_stats(db, run.id, **params)
        assert info.value.field == field
    with pytest.raises(InvalidInput, match="run_id: must be a UUID"):
        run_stats(db, "not-a-uuid")


def test_compute_stats_merges_into_summary_metrics(db: Database, make_run: MakeRun) -> None:
    run = make_run(summary_metrics={"sharpe": 9.9, "loss": 0.25, "calmar": 3.0})
    write_curve(db, run.id, [100, 110, 99, 99, 118.8])
    write_pnls(db, run.id, [50, -20])
    stats = compute_stats(db, run.id, periods_per_year=365, risk_free=0.02)
    stored = db.read(lambda c: runs.get(c, run.id)).summary_metrics
    assert stored["loss"] == 0.25  # keys that are not statistics stay
    assert stored["stats_version"] == 1 and isinstance(stored["stats_version"], int)
    assert stored["stats_periods_per_year"] == 365 and stored["stats_risk_free"] == 0.02
    for key in STATS_KEYS:
        assert stored[key] == getattr(stats, key), key
    assert stored["sharpe"] != 9.9

    # The curve goes flat: Sharpe and Calmar become undefined and leave summary_metrics.
    other = make_run(summary_metrics={"sharpe": 1.0, "calmar": 2.0, "loss": 0.5})
    write_curve(db, other.id, [100.0] * 4)
    flat = compute_stats(db, other.id)
    stored = db.read(lambda c: runs.get(c, other.id)).summary_metrics
    assert flat.sharpe is None and "sharpe" not in stored and "calmar" not in stored
    assert stored["loss"] == 0.5 and stored["total_return"] == 0 and stored["trade_count"] == 0
    assert set(stored) == {"loss", "stats_version", "stats_periods_per_year", "stats_risk_free",
                           *(k for k in STATS_KEYS if getattr(flat, k) is not None)}


def test_compute_stats_on_an_unknown_run_writes_nothing(db: Database) -> None:
    with pytest.raises(NotFound):
        compute_stats(db, "01900000-0000-7000-8000-000000000000")


def test_the_curve_read_is_pruned_to_one_partition(db: Database, make_run: MakeRun) -> None:
    run = make_run()
    write_curve(db, run.id, [100, 101])
    query = db.registry["run_trading_stats"]
    params = {"run_id": run.id, "model_id": None, "periods_per_year": 252.0, "risk_free": 0.0}
    with db.connection() as conn:
        plan = "\n".join(row[0] for row in conn.execute(
            "explain " + query.psycopg_text, params).fetchall())
    scanned = set(re.findall(r"\b(equity_curves_(?:p\d{6}|default))\b", plan))
    assert len(scanned) == 1, plan
