"""Deflated Sharpe Ratio and PBO: the papers' numbers, independent implementations written
here, hand-worked CSCV, noise against a real edge, and the search-run wrappers."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import numpy.typing as npt
import pytest

from resultsdb.db import Database
from resultsdb.errors import InvalidInput, NotFound
from resultsdb.stats import (
    cscv,
    deflate,
    deflated_sharpe,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    pbo,
    probabilistic_sharpe,
)
from tests.stats.conftest import MakeRun, daily, make_search, noise_and_edge, write_curve

REL = 1e-9

# -- independent reference: erf-based normal, bisection inverse, loops ------------------------


def phi(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2))


def phi_inv(p: float) -> float:
    lo, hi = -40.0, 40.0
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if phi(mid) < p else (lo, mid)
    return (lo + hi) / 2


def reference_dsr(m: npt.NDArray[np.float64]) -> dict[str, float]:
    t, n = m.shape
    srs = [float(np.mean(c) / np.std(c, ddof=1)) for c in m.T]
    best = int(np.argmax(srs))
    x = m[:, best]
    z = (x - x.mean()) / np.sqrt(np.mean((x - x.mean()) ** 2))
    skew, kurt = float(np.mean(z**3)), float(np.mean(z**4))
    var = float(np.var(srs, ddof=1))
    g = 0.5772156649015329
    sr0 = math.sqrt(var) * ((1 - g) * phi_inv(1 - 1 / n) + g * phi_inv(1 - 1 / (n * math.e)))
    sr = srs[best]
    dsr = phi((sr - sr0) * math.sqrt(t - 1) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2))
    return {"trial": best, "sharpe": sr, "sr_variance": var, "skew": skew, "kurtosis": kurt,
            "expected_max_sharpe": sr0, "dsr": dsr}


def reference_logits(m: npt.NDArray[np.float64], s: int) -> list[float]:
    """CSCV the slow way: per split, gather the rows and compute every Sharpe ratio."""
    t, n = m.shape
    m = m[t - (t // s) * s:]
    blocks = np.array_split(m, s)
    out = []
    for ins in combinations(range(s), s // 2):
        is_rows = np.vstack([blocks[i] for i in ins])
        oos_rows = np.vstack([blocks[i] for i in range(s) if i not in ins])
        is_sr = is_rows.mean(0) / is_rows.std(0, ddof=1)
        oos_sr = oos_rows.mean(0) / oos_rows.std(0, ddof=1)
        x = oos_sr[int(np.argmax(is_sr))]
        # 1-based rank among the OOS Sharpe ratios, ties averaged.
        rank = sum(1.0 if v < x else 0.5 if v == x else 0.0 for v in oos_sr) + 0.5
        w = rank / (n + 1)
        out.append(math.log(w / (1 - w)))
    return out


# -- the DSR paper's numerical example --------------------------------------------------------


def test_the_dsr_papers_example() -> None:
    # Bailey & López de Prado (2014): best of N = 100 trials with annualized SR 2.5 over
    # T = 1250 daily returns (5 years of 250 days), annualized V[SR] = 0.5, skew -3,
    # kurtosis 10. The paper gives E[max SR] = 0.1132 (non-annualized) and DSR = 0.9004.
    sr, var = 2.5 / math.sqrt(250), 0.5 / 250
    sr0 = expected_max_sharpe(100, var)
    assert sr0 == pytest.approx(0.1132, abs=5e-5)
    assert sr0 * math.sqrt(250) == pytest.approx(1.7894, abs=5e-5)
    dsr = deflated_sharpe_ratio(sr, n_obs=1250, skew=-3, kurtosis=10, n_trials=100,
                                sr_variance=var)
    assert dsr == pytest.approx(0.9004, abs=5e-5)
    # The same from the independent formulas here, to 1e-9.
    g = 0.5772156649015329
    ref0 = math.sqrt(var) * ((1 - g) * phi_inv(0.99) + g * phi_inv(1 - 1 / (100 * math.e)))
    assert sr0 == pytest.approx(ref0, rel=REL)
    assert dsr == pytest.approx(phi((sr - ref0) * math.sqrt(1249)
                                    / math.sqrt(1 + 3 * sr + 9 / 4 * sr**2)), rel=REL)


def test_expected_max_sharpe_approximates_the_max_of_normals() -> None:
    rng = np.random.default_rng(7)
    for n, rel in ((10, 0.05), (100, 0.02), (1000, 0.02)):
        simulated = rng.standard_normal((4000, n)).max(axis=1).mean()
        # An approximation: a few percent high for small N, closer as N grows.
        assert expected_max_sharpe(n, 1.0) == pytest.approx(simulated, rel=rel)
    assert expected_max_sharpe(1, 0.3) == 0.0
    assert expected_max_sharpe(50, 4.0) == pytest.approx(2 * expected_max_sharpe(50, 1.0), rel=REL)


def test_psr_of_normal_returns_and_limits() -> None:
    # Normal returns (skew 0, kurtosis 3): Z(SR sqrt(T-1) / sqrt(1 + SR^2 / 2)).
    assert probabilistic_sharpe(0.1, 0.0, n_obs=101, skew=0, kurtosis=3) == pytest.approx(
        phi(0.1 * 10 / math.sqrt(1.005)), rel=REL)
    assert probabilistic_sharpe(0.05, 0.05, n_obs=500, skew=-1, kurtosis=8) == 0.5
    with pytest.raises(InvalidInput):
        probabilistic_sharpe(0.1, 0.0, n_obs=1, skew=0, kurtosis=3)


@pytest.mark.parametrize("seed", range(4))
def test_deflate_matches_the_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    t, n = int(rng.integers(200, 800)), int(rng.integers(3, 40))
    m = rng.standard_t(4, (t, n)) * 0.01 + rng.normal(0, 0.0005, n)
    got, want = deflate(m), reference_dsr(m)
    assert got.trial == want["trial"] and got.n_trials == n and got.n_obs == t
    for key in ("sharpe", "sr_variance", "skew", "kurtosis", "expected_max_sharpe", "dsr"):
        assert getattr(got, key) == pytest.approx(want[key], rel=REL), key


def test_deflate_options_and_flat_trials() -> None:
    rng = np.random.default_rng(3)
    m = rng.normal(0.001, 0.01, (300, 5))
    m[:, 4] = 0.0  # a trial that never traded: counts in N, has no Sharpe ratio
    result = deflate(m)
    srs = m[:, :4].mean(0) / m[:, :4].std(0, ddof=1)
    assert result.n_trials == 5 and result.sr_variance == pytest.approx(np.var(srs, ddof=1), rel=REL)
    more = deflate(m, n_trials=50)
    assert more.n_trials == 50 and more.dsr < result.dsr  # more trials, more deflation
    assert deflate(m, chosen=2).trial == 2
    with pytest.raises(InvalidInput, match="chosen"):
        deflate(m, chosen=4)
    with pytest.raises(InvalidInput, match="no trial has returns that vary"):
        deflate(np.zeros((10, 3)))


# -- CSCV ---------------------------------------------------------------------------------------


def test_cscv_hand_worked() -> None:
    # 4 blocks of one period; trials A lucky once, B steady, C flat, D losing. Mean metric.
    m = np.array([[4, 1, 0, -1],
                  [0, 1, 0, -1],
                  [0, 1, 0, -1],
                  [0, 1, 0, -1]], dtype=float)
    # In-sample {1,2}, {1,3}, {1,4}: A wins (4 vs 2); out of sample A = C = 0 above D = -2:
    #   rank (1 below, 2 tied) = 1 + 1.5 = 2.5, w = 2.5 / 5 = 0.5, logit 0 (counts as overfit).
    # In-sample {2,3}, {2,4}, {3,4}: B wins; out of sample A = 4 > B = 2 > C = 0 > D = -2:
    #   rank 3, w = 0.6, logit ln 1.5.
    result = cscv(m, n_blocks=4, metric="mean")
    assert result.logits == pytest.approx([0, 0, 0, math.log(1.5), math.log(1.5), math.log(1.5)],
                                          abs=1e-15)
    assert result.pbo == 0.5 and result.n_splits == 6 and result.n_obs == 4
    assert result.prob_oos_loss == 0.0 and result.median_logit == pytest.approx(math.log(1.5) / 2)


@pytest.mark.parametrize(("seed", "blocks"), [(0, 8), (1, 6), (2, 10)])
def test_cscv_sharpe_matches_the_slow_reference(seed: int, blocks: int) -> None:
    rng = np.random.default_rng(seed)
    m = rng.normal(0.0003, 0.01, (253, 9))  # 253 % blocks rows are dropped
    result = cscv(m, n_blocks=blocks)
    want = reference_logits(m, blocks)
    assert result.n_splits == math.comb(blocks, blocks // 2) == len(want)
    assert result.logits == pytest.approx(want, rel=REL)
    assert result.pbo == np.mean(np.array(want) <= 0)


def test_cscv_refuses_what_it_cannot_split() -> None:
    m = np.random.default_rng(0).normal(size=(40, 3))
    for kwargs, match in [({"n_blocks": 5}, "even"), ({"n_blocks": 0}, "even"),
                          ({"n_blocks": 22}, "from 2 to 20")]:
        with pytest.raises(InvalidInput, match=match):
            cscv(m, **kwargs)
    with pytest.raises(InvalidInput, match="3 periods are too few for 2 blocks"):
        cscv(m[:3], n_blocks=2)
    with pytest.raises(InvalidInput, match="2 trials"):
        cscv(m[:, :1])
    with pytest.raises(InvalidInput, match="finite"):
        cscv(np.full((40, 3), np.nan))


def test_noise_overfits_and_a_real_edge_does_not() -> None:
    noise_pbo = []
    for seed in range(20):
        noise, edge = noise_and_edge(seed)
        a, b = cscv(noise), cscv(edge)
        noise_pbo.append(a.pbo)
        # The best of 20 noise trials is about what 20 noise trials are expected to give.
        assert deflate(noise).dsr < 0.95
        assert b.pbo <= 0.01 and deflate(edge).dsr > 0.999 and deflate(edge).trial == 3
    # One noise search's PBO is spread widely (its splits share data); the mean is ~0.5.
    assert 0.4 <= float(np.mean(noise_pbo)) <= 0.7


# -- on a search run ------------------------------------------------------------------------


def test_search_wrappers_match_the_array_functions(db: Database, make_run: MakeRun) -> None:
    noise, edge = noise_and_edge(0, t=600, n=12)
    search, children = make_search(db, make_run, edge)
    got = deflated_sharpe(db, search.id)
    # The curve's returns are the matrix again, up to rounding.
    assert got.dsr == pytest.approx(deflate(edge).dsr, rel=1e-6)
    assert got.run_id == children[3].id and got.model_id is None and got.search_run_id == search.id
    assert got.sharpe_annualized == pytest.approx(got.sharpe * math.sqrt(252), rel=REL)
    assert got.dsr > 0.99
    cv = pbo(db, search.id, n_blocks=10)
    assert cv.pbo == cscv(edge, n_blocks=10).pbo and cv.pbo <= 0.01 and cv.n_splits == 252
    assert cv.search_run_id == search.id

    noisy, _ = make_search(db, make_run, noise)
    assert deflated_sharpe(db, noisy.id).dsr < 0.95
    assert pbo(db, noisy.id, n_blocks=10).pbo >= 0.4  # seed 0: see docs/statistics.md


def test_search_trials_are_completed_children_aligned_in_time(db: Database,
                                                             make_run: MakeRun) -> None:
    search = make_run(run_type="search")
    full = daily(30)
    rng = np.random.default_rng(5)
    for j in range(3):
        child = make_run(status="completed", parent_run_id=search.id)
        # Trial 2 misses two days: every trial is cut to the timestamps all of them have.
        stamps = [t for i, t in enumerate(full) if j != 2 or i not in (10, 11)]
        write_curve(db, child.id, (100 + rng.normal(0, 1, len(stamps)).cumsum()).tolist(), stamps)
    running = make_run(parent_run_id=search.id)  # still running: not a trial yet
    write_curve(db, running.id, [100.0] * 5, full[:5])
    result = deflated_sharpe(db, search.id)
    assert result.n_trials == 3 and result.n_obs == 27


def test_search_errors(db: Database, make_run: MakeRun) -> None:
    with pytest.raises(NotFound):
        pbo(db, "01900000-0000-7000-8000-000000000000")
    search = make_run(run_type="search")
    with pytest.raises(InvalidInput, match="at least two"):
        deflated_sharpe(db, search.id)
    one = make_run(status="completed", parent_run_id=search.id)
    write_curve(db, one.id, [100, 101, 102])
    with pytest.raises(InvalidInput, match="at least two"):
        pbo(db, search.id)
    broke = make_run(status="completed", parent_run_id=search.id)
    write_curve(db, broke.id, [100, 0, 50])
    with pytest.raises(InvalidInput, match="portfolio_value <= 0"):
        deflated_sharpe(db, search.id)
    with pytest.raises(InvalidInput, match="periods_per_year"):
        pbo(db, search.id, periods_per_year=0)
