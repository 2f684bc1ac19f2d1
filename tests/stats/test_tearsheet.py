"""The SQL tear sheet against an independent numpy/pandas implementation written here.

Every number of every part (benchmark, distribution, calendar returns, drawdown episodes,
rolling ratios) is compared, to 1e-9 relative, on seeded curves: a random walk with a
benchmark, a curve with ties, one that never recovers, one with null benchmark values,
irregular timestamps across month and year boundaries, and 1- and 2-point curves.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from resultsdb import ResultsDB
from resultsdb.api.tearsheet import TearSheet
from resultsdb.db import Database
from resultsdb.errors import InvalidInput, NotFound
from resultsdb.series import write_equity
from tests.stats.conftest import MakeRun

REL = 1e-9
ABS = 1e-12
PPY = 252.0

# -- the reference: numpy, pandas and loops, sharing nothing with the SQL ----------------------


@dataclass
class Curve:
    ts: list[datetime]
    values: list[float]
    bench: list[float | None]


def _none(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _prepared(c: Curve) -> dict[str, Any]:
    v = np.asarray(c.values, dtype=float)
    b = np.array([np.nan if x is None else x for x in c.bench], dtype=float)
    ok = len(v) > 0 and bool(np.all(v > 0)) and np.log(v).max() - np.log(v).min() <= 230
    present = b[~np.isnan(b)]
    b_ok = bool(np.all(present > 0)) and (
        len(present) == 0 or np.log(present).max() - np.log(present).min() <= 230)
    r = v[1:] / v[:-1] - 1 if ok else np.array([])
    rb = b[1:] / b[:-1] - 1 if ok and b_ok else np.full(len(r), np.nan)  # nan: no return
    return {"v": v, "r": r, "rb": rb, "ok": ok, "b_ok": b_ok}


def _sd(x: np.ndarray) -> float | None:
    return float(np.std(x, ddof=1)) if len(x) >= 2 else None


def _geo(x: np.ndarray) -> float:
    return float(np.prod(1 + x) ** (1 / len(x)) - 1)


def ref_benchmark(c: Curve, ppy: float = PPY, rf: float = 0.0) -> dict[str, Any]:
    p = _prepared(c)
    r, rb, ok = p["r"], p["rb"], p["ok"]
    rf_p = (1 + rf) ** (1 / ppy) - 1
    has_b = ~np.isnan(rb)
    bo, ro = rb[has_b], r[has_b]  # the benchmark's returns; the strategy's on those periods
    out: dict[str, Any] = {"points": len(c.values), "periods": len(r),
                           "benchmark_periods": len(bo), "paired_periods": len(bo)}
    out.update(dict.fromkeys((
        "total_return", "benchmark_total_return", "excess_return", "benchmark_volatility",
        "benchmark_sharpe", "alpha", "beta", "r_squared", "correlation", "tracking_error",
        "information_ratio", "up_capture", "down_capture")))
    if not ok:
        return out
    out["total_return"] = p["v"][-1] / p["v"][0] - 1
    if len(bo):
        out["benchmark_total_return"] = float(np.prod(1 + bo) - 1)
        out["excess_return"] = out["total_return"] - out["benchmark_total_return"]
    sd_b = _sd(bo)
    if sd_b is not None:
        out["benchmark_volatility"] = sd_b * math.sqrt(ppy)
        if sd_b > 0:
            out["benchmark_sharpe"] = (bo.mean() - rf_p) / sd_b * math.sqrt(ppy)
            cov = np.cov(ro, bo)  # ddof=1 both
            out["beta"] = cov[0, 1] / cov[1, 1]
            out["alpha"] = (ro.mean() - rf_p - out["beta"] * (bo.mean() - rf_p)) * ppy
            if cov[0, 0] > 0:
                out["correlation"] = cov[0, 1] / math.sqrt(cov[0, 0] * cov[1, 1])
                out["r_squared"] = out["correlation"] ** 2
        active = ro - bo
        sd_a = _sd(active)
        out["tracking_error"] = sd_a * math.sqrt(ppy) if sd_a is not None else None
        if sd_a:
            out["information_ratio"] = active.mean() / sd_a * math.sqrt(ppy)
    for key, mask in (("up_capture", bo > 0), ("down_capture", bo < 0)):
        if mask.any() and _geo(bo[mask]) != 0:
            out[key] = _geo(ro[mask]) / _geo(bo[mask])
    return out


def _buckets(ts: Sequence[datetime], x: np.ndarray, unit: str) -> dict[tuple[int, ...], float]:
    """Compounded returns per UTC calendar bucket of the timestamps the returns end at;
    nan returns are left out (a bucket of only those is absent)."""
    groups: dict[tuple[int, ...], list[float]] = {}
    for t, value in zip(ts, x, strict=True):
        t = t.astimezone(UTC)
        key = {"day": (t.year, t.month, t.day), "month": (t.year, t.month), "year": (t.year,)}[unit]
        if not np.isnan(value):
            groups.setdefault(key, []).append(value)
    return {k: float(np.prod(1 + np.asarray(g)) - 1) for k, g in groups.items()}


def ref_distribution(c: Curve, ppy: float = PPY, threshold: float = 0.0) -> dict[str, Any]:
    p = _prepared(c)
    r, ok = p["r"], p["ok"]
    out: dict[str, Any] = {"points": len(c.values), "periods": len(r)}
    keys = ("skew", "kurtosis", "var_95", "cvar_95", "var_99", "cvar_99", "tail_ratio", "omega",
            "best_period", "worst_period", "best_day", "worst_day", "best_month", "worst_month",
            "best_year", "worst_year")
    out.update(dict.fromkeys(keys))
    if not ok:
        return out
    n = len(r)
    d = r - r.mean() if n else r
    m2, m3, m4 = (float(np.mean(d**k)) if n else 0.0 for k in (2, 3, 4))
    if n >= 3 and m2 > 0:  # pandas' bias-corrected sample skewness
        out["skew"] = math.sqrt(n * (n - 1)) / (n - 2) * m3 / m2**1.5
    if n >= 4 and m2 > 0:  # pandas' bias-corrected excess kurtosis, from sums of powers
        s2, s4 = m2 * n, m4 * n
        out["kurtosis"] = (n * (n + 1) * (n - 1) * s4 / ((n - 2) * (n - 3) * s2**2)
                           - 3 * (n - 1) ** 2 / ((n - 2) * (n - 3)))
    tau = (1 + threshold) ** (1 / ppy) - 1
    if n:
        for level, key in ((0.05, "95"), (0.01, "99")):
            var = float(np.quantile(r, level))  # linear interpolation (numpy's default)
            out[f"var_{key}"] = var
            out[f"cvar_{key}"] = float(r[r <= var].mean())
        q05, q95 = np.quantile(r, 0.05), np.quantile(r, 0.95)
        out["tail_ratio"] = abs(q95 / q05) if q05 != 0 else None
        losses = float(np.sum(np.maximum(tau - r, 0)))
        out["omega"] = float(np.sum(np.maximum(r - tau, 0))) / losses if losses > 0 else None
        out["best_period"], out["worst_period"] = float(r.max()), float(r.min())
        for unit in ("day", "month", "year"):
            values = list(_buckets(c.ts[1:], r, unit).values())
            out[f"best_{unit}"], out[f"worst_{unit}"] = max(values), min(values)
    return out


def ref_calendar(c: Curve, unit: str) -> list[dict[str, Any]]:
    p = _prepared(c)
    if not p["ok"] or len(p["r"]) == 0:
        return []
    strategy = _buckets(c.ts[1:], p["r"], unit)
    bench = _buckets(c.ts[1:], p["rb"], unit)
    return [{"year": k[0], "month": k[1] if unit == "month" else None,
             "strategy_return": strategy[k], "benchmark_return": bench.get(k)}
            for k in sorted(strategy)]


def ref_drawdowns(c: Curve, top: int) -> list[dict[str, Any]]:
    p = _prepared(c)
    if not p["ok"]:
        return []
    episodes: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    peak, peak_t = -math.inf, c.ts[0]
    for t, x in zip(c.ts, p["v"], strict=True):
        if x >= peak:
            if current is not None:
                current["recovery_ts"] = t
                episodes.append(current)
                current = None
            peak, peak_t = x, t
            continue
        depth = 1 - x / peak
        if current is None:
            current = {"peak_ts": peak_t, "depth": depth, "valley_ts": t, "recovery_ts": None}
        elif depth > current["depth"]:
            current["depth"], current["valley_ts"] = depth, t
    if current is not None:
        episodes.append(current)
    episodes.sort(key=lambda e: (-e["depth"], e["peak_ts"]))
    out = []
    for rank, e in enumerate(episodes[:top], 1):
        end = e["recovery_ts"] or c.ts[-1]
        out.append({**e, "rank": rank,
                    "days_to_valley": (e["valley_ts"] - e["peak_ts"]).total_seconds() / 86400,
                    "days": (end - e["peak_ts"]).total_seconds() / 86400})
    return out


def ref_rolling(c: Curve, window: int | timedelta, points: int, ppy: float = PPY,
                rf: float = 0.0) -> list[dict[str, Any]]:
    p = _prepared(c)
    if not p["ok"]:
        return []
    r, rb, ts = p["r"], p["rb"], c.ts
    m = len(r)
    rf_p = (1 + rf) ** (1 / ppy) - 1

    def members(j: int) -> list[int]:  # the returns (1-based, ending at point j) of j's window
        if isinstance(window, int):
            return list(range(j - window + 1, j + 1))
        return [i for i in range(1, j + 1) if ts[j] - window < ts[i]]

    full = [j for j in range(1, m + 1)
            if (j >= window if isinstance(window, int) else ts[j] - window >= ts[0])]
    k = max(math.ceil(len(full) / points), 1)
    kept = sorted(full[::-1][::k])
    out = []
    for j in kept:
        idx = np.asarray(members(j)) - 1
        x, y = r[idx], rb[idx]
        sd = _sd(x)
        pair = ~np.isnan(y)
        beta = None
        if pair.sum() >= 2 and np.var(y[pair]) > 0:
            cov = np.cov(x[pair], y[pair])
            beta = cov[0, 1] / cov[1, 1]
        out.append({"ts": ts[j], "periods": len(idx),
                    "sharpe": (x.mean() - rf_p) / sd * math.sqrt(ppy) if sd else None,
                    "volatility": sd * math.sqrt(ppy) if sd is not None else None,
                    "beta": beta})
    return out


# -- comparing ----------------------------------------------------------------------------------


def close(got: Any, want: Any, what: str) -> None:
    if want is None or got is None:
        assert got is None and want is None, f"{what}: got {got!r}, expected {want!r}"
    elif isinstance(want, float):
        assert math.isclose(got, want, rel_tol=REL, abs_tol=ABS), \
            f"{what}: got {got!r}, expected {want!r}"
    else:
        assert got == want, f"{what}: got {got!r}, expected {want!r}"


def close_rows(got: Sequence[Any], want: list[dict[str, Any]], what: str) -> None:
    assert len(got) == len(want), f"{what}: {len(got)} rows, expected {len(want)}"
    for i, (row, expected) in enumerate(zip(got, want, strict=True)):
        for key, value in expected.items():
            close(getattr(row, key), value, f"{what}[{i}].{key}")


def check_sheet(sheet: TearSheet, c: Curve, *, window: int | timedelta, points: int, top: int,
                ppy: float = PPY, rf: float = 0.0, threshold: float = 0.0) -> None:
    for key, value in ref_benchmark(c, ppy, rf).items():
        close(getattr(sheet.benchmark, key), value, f"benchmark.{key}")
    for key, value in ref_distribution(c, ppy, threshold).items():
        close(getattr(sheet.distribution, key), value, f"distribution.{key}")
    close_rows(sheet.monthly_returns, ref_calendar(c, "month"), "monthly")
    close_rows(sheet.annual_returns, ref_calendar(c, "year"), "annual")
    close_rows(sheet.drawdowns, ref_drawdowns(c, top), "drawdowns")
    close_rows(sheet.rolling, ref_rolling(c, window, points, ppy, rf), "rolling")


# -- curves -------------------------------------------------------------------------------------

T0 = datetime(2023, 11, 20, tzinfo=UTC)


def random_walk(seed: int, n: int = 400, *, beta: float = 0.8, noise: float = 0.008) -> Curve:
    rng = np.random.default_rng(seed)
    rb = rng.normal(0.0003, 0.01, n - 1)
    r = beta * rb + rng.normal(0.0002, noise, n - 1)
    return Curve([T0 + i * timedelta(days=1) for i in range(n)],
                 (100 * np.cumprod(np.concatenate([[1.0], 1 + r]))).tolist(),
                 (50 * np.cumprod(np.concatenate([[1.0], 1 + rb]))).tolist())


def with_ties(seed: int) -> Curve:
    # Values on a 0.5 grid: many zero returns, repeated returns, equal peaks and depths.
    c = random_walk(seed, 300, noise=0.02)
    return Curve(c.ts, [round(x * 2) / 2 for x in c.values],
                 [round(x * 2) / 2 for x in c.bench])  # type: ignore[operator]


def never_recovering(seed: int) -> Curve:
    rng = np.random.default_rng(seed)
    up = np.linspace(100, 150, 60)
    down = 150 * np.cumprod(1 - np.abs(rng.normal(0.004, 0.003, 140)))
    values = np.concatenate([up, down])
    return Curve([T0 + i * timedelta(days=1) for i in range(200)], values.tolist(),
                 (values * 0.5 + rng.normal(0, 0.5, 200)).tolist())


def null_benchmark(seed: int) -> Curve:
    c = random_walk(seed, 300)
    rng = np.random.default_rng(seed + 100)
    holes = rng.random(300) < 0.2
    holes[[0, 1, -1]] = True
    return Curve(c.ts, c.values, [None if h else x for h, x in zip(holes, c.bench, strict=True)])


def irregular(seed: int) -> Curve:
    # Gaps from an hour to three weeks, from December 2023 across 2024 into 2025, some
    # points right at midnight and a month's first instant.
    rng = np.random.default_rng(seed)
    gaps = rng.choice([3600, 6 * 3600, 86400, 3 * 86400, 21 * 86400], size=249,
                      p=[0.3, 0.2, 0.3, 0.15, 0.05])
    start = datetime(2023, 12, 30, 22, tzinfo=UTC)
    ts = [start] + [start + timedelta(seconds=int(s)) for s in np.cumsum(gaps)]
    c = random_walk(seed, 250)
    return Curve(ts, c.values, c.bench)


CURVES = {
    **{f"random_walk_{s}": (lambda s=s: random_walk(s)) for s in range(3)},
    "ties": lambda: with_ties(7),
    "never_recovering": lambda: never_recovering(3),
    "null_benchmark": lambda: null_benchmark(5),
    "irregular": lambda: irregular(11),
    "two_points": lambda: Curve([T0, T0 + timedelta(days=1)], [100.0, 90.0], [50.0, 51.0]),
    "one_point": lambda: Curve([T0], [100.0], [50.0]),
    "flat": lambda: Curve([T0 + i * timedelta(days=1) for i in range(40)], [100.0] * 40,
                          [50.0] * 40),
    "non_positive": lambda: Curve([T0 + i * timedelta(days=1) for i in range(5)],
                                  [100.0, 101.0, 0.0, 99.0, 100.0], [1.0] * 5),
    "benchmark_hits_zero": lambda: Curve(random_walk(1, 50).ts, random_walk(1, 50).values,
                                         [1.0] * 20 + [0.0] + [1.0] * 29),
    "no_benchmark": lambda: Curve(random_walk(2, 80).ts, random_walk(2, 80).values, [None] * 80),
}


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def rdb(db_url: str) -> Iterator[ResultsDB]:
    with ResultsDB(url=db_url) as r:
        yield r


def store(db: Database, make_run: MakeRun, c: Curve) -> Any:
    run = make_run()
    if c.values:
        write_equity(db, run.id, None, list(zip(c.ts, c.values, c.bench, strict=True)))
    return run


# -- tests --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CURVES))
def test_every_number_matches_the_reference(db: Database, rdb: ResultsDB, make_run: MakeRun,
                                            name: str) -> None:
    c = CURVES[name]()
    run = store(db, make_run, c)
    for window, points in ((20, 37), (20, 10_000), (timedelta(days=9, hours=12), 25)):
        sheet = rdb.tear_sheet(run, rolling_window=window, points=points, top_drawdowns=4)
        check_sheet(sheet, c, window=window, points=points, top=4)
    # Other parameters: every number that depends on them moves.
    sheet = rdb.tear_sheet(run, periods_per_year=12, risk_free=0.04, omega_threshold=0.1,
                           rolling_window=2, points=3, top_drawdowns=1)
    check_sheet(sheet, c, window=2, points=3, top=1, ppy=12, rf=0.04, threshold=0.1)


def test_hand_worked_example(db: Database, rdb: ResultsDB, make_run: MakeRun) -> None:
    # Returns +10%, -10%, 0, +20%; the benchmark +5%, -5%, 0, +10%: beta 2, alpha 0.
    ts = [T0 + i * timedelta(days=1) for i in range(5)]
    c = Curve(ts, [100, 110, 99, 99, 118.8], [100, 105, 99.75, 99.75, 109.725])
    sheet = rdb.tear_sheet(store(db, make_run, c), rolling_window=3, points=10)
    b = sheet.benchmark
    assert math.isclose(b.beta, 2, rel_tol=REL) and abs(b.alpha) < 1e-12
    assert math.isclose(b.correlation, 1, rel_tol=REL) and math.isclose(b.r_squared, 1, rel_tol=REL)
    # Up periods (benchmark +5%, +10%): geometric means of 1.1 * 1.2 against 1.05 * 1.1.
    assert math.isclose(b.up_capture, ((1.1 * 1.2) ** 0.5 - 1) / ((1.05 * 1.1) ** 0.5 - 1),
                        rel_tol=REL)
    assert math.isclose(b.down_capture, 2.0, rel_tol=REL)  # -10% against -5%
    d = sheet.distribution
    assert d.best_period == pytest.approx(0.2) and d.worst_period == pytest.approx(-0.1)
    # Sorted returns -0.1, 0, 0.1, 0.2: the 5% quantile is -0.1 + 0.15 * 0.1 = -0.085.
    assert math.isclose(d.var_95, -0.085, rel_tol=REL) and d.cvar_95 == pytest.approx(-0.1)
    assert math.isclose(d.omega, 0.3 / 0.1, rel_tol=REL)
    # 110 -> 99 is the only drawdown, from Jan 2 to the recovery on Jan 5.
    [dd] = sheet.drawdowns
    assert (dd.peak_ts, dd.valley_ts, dd.recovery_ts) == (ts[1], ts[2], ts[4])
    assert math.isclose(dd.depth, 0.1, rel_tol=REL) and (dd.days_to_valley, dd.days) == (1, 3)
    [month] = sheet.monthly_returns
    assert (month.year, month.month) == (2023, 11) and math.isclose(month.strategy_return, 0.188)


def test_empty_series_unknown_run_model_and_bad_parameters(db: Database, rdb: ResultsDB,
                                                          make_run: MakeRun) -> None:
    run = make_run()
    sheet = rdb.tear_sheet(run)
    assert sheet.benchmark.points == 0 and sheet.benchmark.total_return is None
    assert sheet.distribution.periods == 0 and sheet.distribution.skew is None
    assert sheet.monthly_returns == sheet.annual_returns == sheet.drawdowns == sheet.rolling == []
    with pytest.raises(NotFound):
        rdb.tear_sheet("01900000-0000-7000-8000-000000000000")
    with pytest.raises(NotFound):
        rdb.tear_sheet(run, model="01900000-0000-7000-8000-000000000000")
    for bad in ({"periods_per_year": 0}, {"periods_per_year": math.inf}, {"risk_free": -1},
                {"omega_threshold": "0.1"}, {"rolling_window": 1}, {"rolling_window": True},
                {"rolling_window": timedelta(0)}, {"points": 0}, {"top_drawdowns": 0}):
        with pytest.raises(InvalidInput) as info:
            rdb.tear_sheet(run, **bad)  # type: ignore[arg-type]
        assert info.value.field == next(iter(bad)), bad


def test_a_models_series_is_its_own(db: Database, rdb: ResultsDB, make_run: MakeRun) -> None:
    from resultsdb.repositories import models

    run = make_run()
    model = db.write(lambda c: models.create(c, {"name": "m", "model_type": "dqn", "run_id": run.id}))
    own, mine = random_walk(0, 60), random_walk(1, 60)
    write_equity(db, run.id, None, list(zip(own.ts, own.values, own.bench, strict=True)))
    write_equity(db, run.id, model.id, list(zip(mine.ts, mine.values, mine.bench, strict=True)))
    check_sheet(rdb.tear_sheet(run, model=model, rolling_window=10, points=7), mine,
                window=10, points=7, top=5)
    check_sheet(rdb.tear_sheet(run, rolling_window=10, points=7), own, window=10, points=7, top=5)


def test_pandas_agrees_on_skew_kurtosis_and_quantiles(db: Database, rdb: ResultsDB,
                                                     make_run: MakeRun) -> None:
    c = random_walk(4)
    d = rdb.tear_sheet(store(db, make_run, c)).distribution
    r = pd.Series(c.values).pct_change().dropna()
    assert math.isclose(d.skew, r.skew(), rel_tol=REL)
    assert math.isclose(d.kurtosis, r.kurtosis(), rel_tol=REL)
    assert math.isclose(d.var_99, r.quantile(0.01), rel_tol=REL)


def test_quantstats_agrees_where_it_has_the_same_convention(
        db: Database, rdb: ResultsDB, make_run: MakeRun) -> None:
    qs = pytest.importorskip("quantstats", reason="quantstats is not installed (optional check)")
    c = random_walk(6)
    sheet = rdb.tear_sheet(store(db, make_run, c), rolling_window=63, points=10_000)
    idx = pd.DatetimeIndex([t.replace(tzinfo=None) for t in c.ts[1:]])
    r = pd.Series(c.values, dtype=float).pct_change().dropna().set_axis(idx)
    rb = pd.Series(c.bench, dtype=float).pct_change().dropna().set_axis(idx)
    d, b = sheet.distribution, sheet.benchmark
    assert math.isclose(d.skew, qs.stats.skew(r), rel_tol=1e-9)
    assert math.isclose(d.kurtosis, qs.stats.kurtosis(r), rel_tol=1e-9)
    assert math.isclose(d.tail_ratio, qs.stats.tail_ratio(r), rel_tol=1e-9)
    assert math.isclose(d.cvar_95, qs.stats.cvar(r, method="historical"), rel_tol=1e-9)
    assert math.isclose(d.omega, qs.stats.omega(r), rel_tol=1e-9)
    greeks = qs.stats.greeks(r, rb, periods=PPY)
    assert math.isclose(b.beta, greeks["beta"], rel_tol=1e-9)
    assert math.isclose(b.alpha, greeks["alpha"], rel_tol=1e-9)
    assert math.isclose(b.r_squared, qs.stats.r_squared(r, rb), rel_tol=1e-9)
    # quantstats' information ratio is per period: ours is annualised (times sqrt(P)).
    assert math.isclose(b.information_ratio, qs.stats.information_ratio(r, rb) * math.sqrt(PPY),
                        rel_tol=1e-9)
    rolling = qs.stats.rolling_sharpe(r, rolling_period=63, periods_per_year=PPY).dropna()
    assert len(rolling) == len(sheet.rolling)
    for point, want in zip(sheet.rolling, rolling, strict=True):
        assert math.isclose(point.sharpe, want, rel_tol=1e-7)  # pandas' rolling sums drift


def test_the_curve_is_read_from_one_partition(db: Database, make_run: MakeRun) -> None:
    run = store(db, make_run, random_walk(0, 30))
    names = [q.name for q in db.registry if q.name.startswith("tearsheet_")]
    assert len(names) == 7
    params = {"run_id": run.id, "model_id": None, "periods_per_year": 252.0, "risk_free": 0.0,
              "omega_threshold": 0.0, "points": 100}
    with db.connection() as conn:
        for name in names:
            query = db.registry[name]
            values = {k: v for k, v in params.items() if k in query.params}
            if "window" in query.params:
                values["window"] = timedelta(days=5) if name.endswith("interval") else 5
            statement = query.compose({}, literals={"top": 5} if query.literals else None)
            plan = "\n".join(row[0] for row in conn.execute("explain " + str(statement), values))
            scanned = re.findall(r"\b(equity_curves_(?:p\d{6}|default))\b", plan)
            assert len(scanned) == 1, (name, plan)  # one partition, read once


@pytest.mark.slow
def test_a_million_points_in_sql(db: Database, rdb: ResultsDB, make_run: MakeRun,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    n = 1_000_000
    rng = np.random.default_rng(0)
    rb = rng.normal(0.00002, 0.002, n - 1)
    r = 0.7 * rb + rng.normal(0.00001, 0.001, n - 1)
    frame = pd.DataFrame({
        "ts": pd.date_range("2020-01-01", periods=n, freq="5min", tz="UTC"),
        "portfolio_value": 100 * np.cumprod(np.concatenate([[1.0], 1 + r])),
        "benchmark_value": 50 * np.cumprod(np.concatenate([[1.0], 1 + rb]))})
    run = make_run()
    write_equity(db, run.id, None, frame)
    db.write(lambda c: c.execute("analyze equity_curves"))
    timings = []
    for window in (288 * 21, timedelta(days=21)):
        started = time.perf_counter()
        sheet = rdb.tear_sheet(run, rolling_window=window, points=500, top_drawdowns=10)
        timings.append(time.perf_counter() - started)
        assert sheet.benchmark.periods == n - 1 and len(sheet.rolling) == 500
        months = frame["ts"].dt.strftime("%Y-%m").iloc[1:].nunique()
        assert len(sheet.monthly_returns) == months and len(sheet.drawdowns) == 10
    with capsys.disabled():
        print(f"\ntear sheet of a {n:,}-point curve: {timings[0]:.2f} s (window in rows), "
              f"{timings[1]:.2f} s (window as an interval)")
    # Spot checks against numpy on the same million returns.
    assert math.isclose(sheet.benchmark.beta, np.cov(r, rb)[0, 1] / np.var(rb, ddof=1),
                        rel_tol=1e-9)
    assert math.isclose(sheet.distribution.var_95, float(np.quantile(r, 0.05)), rel_tol=1e-9)


def test_several_runs_side_by_side(db: Database, rdb: ResultsDB, make_run: MakeRun) -> None:
    curves = [random_walk(0, 60), irregular(1), random_walk(2, 80)]
    runs = [store(db, make_run, c) for c in curves]
    sheets = rdb.tear_sheets(runs, rolling_window=10, points=7, top_drawdowns=3)
    assert len(sheets) == 3
    for sheet, run, c in zip(sheets, runs, curves, strict=True):
        assert sheet.benchmark.run_id == run.id
        check_sheet(sheet, c, window=10, points=7, top=3)
    f = sheets.frames()
    assert list(f.statistics.index) == [r.id for r in runs]
    assert f.statistics.loc[runs[1].id, "beta"] == sheets[1].benchmark.beta
    assert f.statistics.loc[runs[1].id, "skew"] == sheets[1].distribution.skew
    assert list(f.monthly_returns.columns) == list(range(1, 13))
    for sheet in sheets:
        for p in sheet.monthly_returns:
            got = f.monthly_returns.loc[(sheet.benchmark.run_id, p.year), p.month]
            assert got == p.strategy_return
        for p in sheet.annual_returns:
            assert f.annual_returns.loc[p.year, str(sheet.benchmark.run_id)] == p.strategy_return
    filled = sum(len(s.monthly_returns) for s in sheets)
    assert int(f.monthly_returns.notna().sum().sum()) == filled
    with pytest.raises(NotFound):
        rdb.tear_sheets([runs[0], "01900000-0000-7000-8000-000000000000"])
    for bad in ("not a list", [], runs * 34):
        with pytest.raises(InvalidInput) as info:
            rdb.tear_sheets(bad)  # type: ignore[arg-type]
        assert info.value.field == "runs"
    with pytest.raises(InvalidInput) as info:
        rdb.tear_sheets(runs, points=0)
    assert info.value.field == "points"
