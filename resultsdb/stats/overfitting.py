"""Overfitting-aware selection: how much of a search's best result is luck.

A search over many trials inflates the best Sharpe ratio. Two tests, defined in
docs/statistics.md:

- Deflated Sharpe Ratio (Bailey & López de Prado, 2014): the probability that the
  chosen trial's true Sharpe ratio exceeds the best one expected from N trials of
  pure noise, given its sample length, skewness and kurtosis.
- Probability of Backtest Overfitting by combinatorially symmetric cross-validation
  (Bailey, Borwein, López de Prado & Zhu, 2015): how often the in-sample best
  trial ranks at or below the median out of sample.

The array functions take a T x N matrix of per-period returns (rows in time, one
column per trial) and need only numpy and ``statistics.NormalDist``.
:func:`deflated_sharpe` and :func:`pbo` load that matrix for a search run.
"""

from __future__ import annotations

from resultsdb.extras import require

require("series", "resultsdb.stats.overfitting (PBO, the deflated Sharpe ratio)")

import math
from itertools import combinations, islice
from statistics import NormalDist
from typing import Literal
from uuid import UUID

import numpy as np
import numpy.typing as npt

from resultsdb.db import Database
from resultsdb.errors import InvalidInput
from resultsdb.fields import FiniteFloat, shown
from resultsdb.inputs import validate_value
from resultsdb.records import Record
from resultsdb.repositories.common import IdLike
from resultsdb.stats.trials import load_trials

EULER_GAMMA = 0.5772156649015329
_NORMAL = NormalDist()
# Splits evaluated per matrix product: bounds memory at CHUNK x N floats per array.
_CHUNK = 2048
# C(S, S/2) splits: 12,870 at the papers' S = 16, 184,756 at 20, 2.7 million at 24.
MAX_BLOCKS = 20
# N enters SR0 as 1 / (N e): far past any search's size, and still a float.
MAX_TRIALS = 10**15

Matrix = npt.NDArray[np.float64]
Metric = Literal["sharpe", "mean"]


class DeflatedSharpe(Record):
    """The Deflated Sharpe Ratio of the chosen trial; Sharpe ratios are per period."""

    dsr: float
    psr: float  # probability that the true Sharpe ratio is > 0 (no deflation)
    sharpe: float
    expected_max_sharpe: float  # SR0: the best Sharpe ratio expected from noise alone
    sr_variance: float  # across the trials' Sharpe ratios
    n_trials: int
    n_obs: int
    skew: float
    kurtosis: float  # not excess: 3 for normal returns
    trial: int  # column of the chosen trial
    periods_per_year: float | None = None
    sharpe_annualized: float | None = None
    search_run_id: UUID | None = None
    run_id: UUID | None = None
    model_id: UUID | None = None


class BacktestOverfitting(Record):
    """CSCV's estimate of the probability of backtest overfitting, with its logits."""

    pbo: float
    n_splits: int
    n_blocks: int
    n_trials: int
    n_obs: int  # rows used: the oldest T mod n_blocks are dropped so blocks are equal
    metric: str
    prob_oos_loss: float  # share of splits where the chosen trial loses out of sample
    median_logit: float
    degradation_slope: float | None  # OOS on IS performance of the chosen trial
    logits: list[float]
    search_run_id: UUID | None = None


# -- the Deflated Sharpe Ratio ---------------------------------------------------------------


def _matrix(returns: npt.ArrayLike) -> Matrix:
    m = np.asarray(returns, dtype=np.float64)
    if m.ndim == 1:
        m = m[:, None]
    if m.ndim != 2 or not np.all(np.isfinite(m)):
        raise InvalidInput("returns: must be a finite T x N matrix (rows in time, a column per trial)",
                           field="returns")
    return m


def sharpe_ratios(returns: npt.ArrayLike) -> Matrix:
    """Per-period Sharpe ratio of each column: mean / std(ddof=1), as quantstats.

    A column that never varies (a trial that never traded) has no Sharpe ratio: NaN.
    """
    m = _matrix(returns)
    if m.shape[0] < 2:
        raise InvalidInput("returns: a Sharpe ratio needs at least 2 periods", field="returns")
    sd = m.std(axis=0, ddof=1)
    flat = np.ptp(m, axis=0) == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(flat, np.nan, m.mean(axis=0) / sd)


def sample_moments(x: npt.ArrayLike) -> tuple[float, float]:
    """Skewness and (non-excess) kurtosis from population moments, as in the papers' code
    (scipy.stats.skew and kurtosis(fisher=False) with bias=True)."""
    v = np.asarray(x, dtype=np.float64)
    d = v - v.mean()
    m2 = float(np.mean(d**2))
    if m2 == 0:
        raise InvalidInput("returns: skewness and kurtosis need returns that vary", field="returns")
    return float(np.mean(d**3)) / m2**1.5, float(np.mean(d**4)) / m2**2


def expected_max_sharpe(n_trials: int, sr_variance: float) -> float:
    """SR0: the expected maximum of ``n_trials`` Sharpe ratios whose true value is 0.

    E[max] ~ sqrt(V) ((1 - g) Z^-1(1 - 1/N) + g Z^-1(1 - 1/(N e))), g Euler-Mascheroni.
    One trial selects nothing: SR0 = 0.
    """
    if n_trials < 1:
        raise InvalidInput("n_trials: must be >= 1", field="n_trials")
    if not (math.isfinite(sr_variance) and sr_variance >= 0):
        raise InvalidInput("sr_variance: must be a finite number >= 0", field="sr_variance")
    if n_trials == 1:
        return 0.0
    return math.sqrt(sr_variance) * ((1 - EULER_GAMMA) * _NORMAL.inv_cdf(1 - 1 / n_trials)
                                     + EULER_GAMMA * _NORMAL.inv_cdf(1 - 1 / (n_trials * math.e)))


def probabilistic_sharpe(sr: float, sr_benchmark: float, *, n_obs: int, skew: float,
                         kurtosis: float) -> float:
    """PSR: P(true SR > sr_benchmark) = Z((SR - SR*) sqrt(T - 1) / sqrt(1 - g3 SR + (g4 - 1)/4 SR^2)).

    Per-period Sharpe ratios; ``kurtosis`` is not excess (3 for normal returns).
    """
    if n_obs < 2:
        raise InvalidInput("n_obs: must be >= 2", field="n_obs")
    spread = 1 - skew * sr + (kurtosis - 1) / 4 * sr**2
    if spread <= 0:
        # Only a two-valued sample reaches 0 (kurtosis >= skew^2 + 1): the estimate has no
        # error, and the probability is the limit as the error goes to 0.
        return 1.0 if sr > sr_benchmark else 0.0 if sr < sr_benchmark else 0.5
    return _NORMAL.cdf((sr - sr_benchmark) * math.sqrt(n_obs - 1) / math.sqrt(spread))


def deflated_sharpe_ratio(sr: float, *, n_obs: int, skew: float, kurtosis: float,
                          n_trials: int, sr_variance: float) -> float:
    """DSR = PSR(SR0): the PSR against the best Sharpe ratio expected from noise."""
    return probabilistic_sharpe(sr, expected_max_sharpe(n_trials, sr_variance), n_obs=n_obs,
                                skew=skew, kurtosis=kurtosis)


def deflate(returns: npt.ArrayLike, *, chosen: int | None = None, n_trials: int | None = None,
            sr_variance: float | None = None) -> DeflatedSharpe:
    """The DSR of one trial of a T x N matrix of per-period (excess) returns.

    ``chosen`` defaults to the trial with the highest Sharpe ratio, the one a search
    selects. ``n_trials`` defaults to N: pass more when trials without curves were
    tried too. ``sr_variance`` defaults to the sample variance (ddof=1) of the Sharpe
    ratios of the trials that have one (flat trials count in N, not in the variance).
    """
    m = _matrix(returns)
    srs = sharpe_ratios(m)
    defined = srs[~np.isnan(srs)]
    if chosen is None:
        if defined.size == 0:
            raise InvalidInput("returns: no trial has returns that vary", field="returns")
        chosen = int(np.nanargmax(srs))
    if not 0 <= chosen < m.shape[1] or np.isnan(srs[chosen]):
        raise InvalidInput(f"chosen: trial {chosen} does not exist or has no Sharpe ratio",
                           field="chosen")
    n = m.shape[1] if n_trials is None else n_trials
    if sr_variance is None:
        if defined.size < 2 and n > 1:
            raise InvalidInput("returns: the variance of the trials' Sharpe ratios needs two "
                               "trials whose returns vary", field="returns")
        sr_variance = float(np.var(defined, ddof=1)) if defined.size > 1 else 0.0
    skew, kurt = sample_moments(m[:, chosen])
    sr = float(srs[chosen])
    sr0 = expected_max_sharpe(n, sr_variance)
    t = m.shape[0]
    return DeflatedSharpe(
        dsr=probabilistic_sharpe(sr, sr0, n_obs=t, skew=skew, kurtosis=kurt),
        psr=probabilistic_sharpe(sr, 0.0, n_obs=t, skew=skew, kurtosis=kurt),
        sharpe=sr, expected_max_sharpe=sr0, sr_variance=sr_variance, n_trials=n, n_obs=t,
        skew=skew, kurtosis=kurt, trial=chosen)


# -- the Probability of Backtest Overfitting (CSCV) ------------------------------------------


def _performance(total: Matrix, centred: Matrix, centred_sq: Matrix, n: int,
                 metric: Metric) -> Matrix:
    """Each trial's metric on a set of rows, from its block sums (rows = splits)."""
    mean = total / n
    if metric == "mean":
        return mean
    # Sums of deviations from each trial's overall mean keep the variance accurate
    # (no large-number cancellation) without a pass over the rows per split.
    var = np.maximum((centred_sq - centred**2 / n) / (n - 1), 0.0)
    sd = np.sqrt(var)
    # A trial flat on these rows ranks by the sign of its mean: +inf, -inf, or 0.
    with np.errstate(divide="ignore", invalid="ignore"):
        flat = np.where(mean > 0, np.inf, np.where(mean < 0, -np.inf, 0.0))
        return np.where(sd > 0, mean / sd, flat)


def cscv(returns: npt.ArrayLike, *, n_blocks: int = 16, metric: Metric = "sharpe"
         ) -> BacktestOverfitting:
    """PBO of a T x N matrix of per-period returns by combinatorially symmetric CV.

    The rows are cut into ``n_blocks`` (S, even) equal blocks in time; every choice of
    S/2 blocks is one in-sample set, its complement the out-of-sample set: C(S, S/2)
    splits. In each, the trial with the best in-sample ``metric`` (the first on a tie)
    is ranked out of sample (1 = worst, ties share the mean rank), w = rank / (N + 1)
    and logit = ln(w / (1 - w)). PBO is the share of logits <= 0: the in-sample
    winner did no better than the median trial out of sample.
    """
    _blocks(n_blocks)
    m = _matrix(returns)
    t, n = m.shape
    if n < 2:
        raise InvalidInput("returns: PBO needs at least 2 trials", field="returns")
    size = t // n_blocks
    half = size * n_blocks // 2
    if half < 2:
        need = n_blocks * max(1, math.ceil(4 / n_blocks))  # 2 rows a half at least
        raise InvalidInput(f"returns: {t} periods are too few for {n_blocks} blocks "
                           f"(need {need} or more)", field="returns")
    m = m[t - size * n_blocks:]  # equal blocks: drop the oldest T mod S rows
    blocks = m.reshape(n_blocks, size, n)
    dev = blocks - m.mean(axis=0)
    sums, dev_sums, dev_sq = blocks.sum(axis=1), dev.sum(axis=1), (dev**2).sum(axis=1)
    splits = combinations(range(n_blocks), n_blocks // 2)
    logits, lost, chosen_is, chosen_oos = [], [], [], []
    while (part := np.array(list(islice(splits, _CHUNK)), dtype=np.intp)
           .reshape(-1, n_blocks // 2)).size:
        ins = np.zeros((len(part), n_blocks))
        ins[np.arange(len(part))[:, None], part] = 1.0
        outs = 1.0 - ins
        perf_in = _performance(ins @ sums, ins @ dev_sums, ins @ dev_sq, half, metric)
        perf_out = _performance(outs @ sums, outs @ dev_sums, outs @ dev_sq, half, metric)
        best = np.argmax(perf_in, axis=1)
        rows = np.arange(len(part))
        x = perf_out[rows, best]
        below = (perf_out < x[:, None]).sum(axis=1)
        equal = (perf_out == x[:, None]).sum(axis=1)  # counts the winner itself
        rank = below + (equal + 1) / 2
        w = rank / (n + 1)
        logits.append(np.log(w / (1 - w)))
        lost.append(x < 0)
        chosen_is.append(perf_in[rows, best])
        chosen_oos.append(x)
    lam = np.concatenate(logits)
    x_in, x_out = np.concatenate(chosen_is), np.concatenate(chosen_oos)
    slope = None
    if np.all(np.isfinite(x_in)) and np.all(np.isfinite(x_out)) and np.ptp(x_in) > 0:
        slope = float(np.polyfit(x_in, x_out, 1)[0])
    return BacktestOverfitting(
        pbo=float(np.mean(lam <= 0)), n_splits=len(lam), n_blocks=n_blocks, n_trials=n,
        n_obs=size * n_blocks, metric=metric, prob_oos_loss=float(np.mean(np.concatenate(lost))),
        median_logit=float(np.median(lam)), degradation_slope=slope,
        logits=[float(v) for v in lam])


def _blocks(n_blocks: object) -> int:
    if (isinstance(n_blocks, bool) or not isinstance(n_blocks, int) or n_blocks < 2
            or n_blocks % 2 or n_blocks > MAX_BLOCKS):
        raise InvalidInput(f"n_blocks: must be an even number from 2 to {MAX_BLOCKS}, got "
                           f"{shown(n_blocks)}", field="n_blocks")
    return n_blocks


# -- on a search run --------------------------------------------------------------------------


def _per_period_rate(periods_per_year: float, risk_free: float) -> float:
    """The same per-period risk-free rate as the SQL statistics: (1 + rf) ** (1 / ppy) - 1."""
    ppy = validate_value("periods_per_year", periods_per_year, FiniteFloat)
    if not ppy > 0:
        raise InvalidInput("periods_per_year: must be a finite number > 0", field="periods_per_year")
    rf = validate_value("risk_free", risk_free, FiniteFloat)
    if not rf > -1:
        raise InvalidInput("risk_free: must be a finite annual rate > -1", field="risk_free")
    return float((1 + rf) ** (1 / ppy) - 1)


def deflated_sharpe(db: Database, search_run: IdLike, *, periods_per_year: float = 252,
                    risk_free: float = 0.0, n_trials: int | None = None) -> DeflatedSharpe:
    """The DSR of the best trial (highest Sharpe ratio) of a hyperparameter search run.

    Trials are the equity curves of its completed child runs, aligned on the
    timestamps they share (:func:`resultsdb.stats.trials.load_trials`).
    ``n_trials`` overrides N, e.g. to count pruned trials that left no curve.
    """
    rf_p = _per_period_rate(periods_per_year, risk_free)
    if n_trials is not None and (isinstance(n_trials, bool) or not isinstance(n_trials, int)
                                 or not 1 <= n_trials <= MAX_TRIALS):
        raise InvalidInput(f"n_trials: must be a whole number from 1 to {MAX_TRIALS:,}, got "
                           f"{shown(n_trials)}", field="n_trials")
    trials = db.read(lambda conn: load_trials(conn, search_run))
    result = deflate(trials.returns - rf_p, n_trials=n_trials)
    run_id, model_id = trials.keys[result.trial]
    return result.model_copy(update={
        "periods_per_year": float(periods_per_year),
        "sharpe_annualized": result.sharpe * math.sqrt(periods_per_year),
        "search_run_id": trials.search_run_id, "run_id": run_id, "model_id": model_id,
    })


def pbo(db: Database, search_run: IdLike, *, n_blocks: int = 16, periods_per_year: float = 252,
        risk_free: float = 0.0) -> BacktestOverfitting:
    """The PBO of a hyperparameter search run by CSCV over its trials' Sharpe ratios."""
    rf_p = _per_period_rate(periods_per_year, risk_free)
    _blocks(n_blocks)  # before the trials are loaded, not after
    trials = db.read(lambda conn: load_trials(conn, search_run))
    result = cscv(trials.returns - rf_p, n_blocks=n_blocks)
    return result.model_copy(update={"search_run_id": trials.search_run_id})
